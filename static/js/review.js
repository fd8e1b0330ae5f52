// Keyboard for the doubted-label review: K keep, X exclude, 1-5 relabel as that prediction, S skip.
(function () {
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("select, input, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = document.querySelector(`[data-key="${event.key.toLowerCase()}"]`);
    if (!target) return;
    event.preventDefault();
    target.click();
  });
})();
