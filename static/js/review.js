// Keyboard of the review pages: a key clicks the element marked data-key="<key>" (doubted labels: K keep,
// X exclude, 1-5 relabel, S skip; catalogs: 1-9 tick, S split, A approve, X reject, N next), or focuses the
// field marked data-focus-key="<key>" (catalogs: T title, V move to, M merge); Enter in such a field presses
// its form's button of the same action (data-action), Esc leaves the field.
(function () {
  document.addEventListener("keydown", (event) => {
    const field = event.target.closest("select, input, textarea");
    if (field) {
      if (event.key === "Escape") field.blur();
      if (event.key === "Enter" && field.dataset.action && field.form) {
        event.preventDefault();
        field.form.requestSubmit(field.form.querySelector(`button[value="${field.dataset.action}"]`));
      }
      if (field.type !== "checkbox") return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    const focus = document.querySelector(`[data-focus-key="${key}"]`);
    if (focus) {
      event.preventDefault();
      focus.focus();
      focus.select();
      return;
    }
    const target = document.querySelector(`[data-key="${key}"]`);
    if (!target) return;
    event.preventDefault();
    target.click();
  });
})();
