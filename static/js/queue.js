// Keyboard labeling: numbers pick a visible category (past 9, type both digits: 1 then 2 picks 12), "/" filters,
// Enter saves, S skips, U undoes, N edits the note.
(function () {
  const form = document.getElementById("label-form");
  if (!form) return;
  const filter = document.getElementById("category-filter");
  const note = document.getElementById("note");
  const items = Array.from(form.querySelectorAll("#categories li.small"));

  const visible = () => items.filter((li) => !li.hidden);
  const number = () => visible().forEach((li, i) => { li.querySelector(".key").textContent = i + 1; });
  let typed = "", typedAt = 0;  // digits typed within a second of each other make one number
  const pick = (digit) => {
    const now = Date.now(), count = visible().length;
    const joined = now - typedAt < 1000 ? typed + digit : digit;
    typed = Number(joined) >= 1 && Number(joined) <= count ? joined : digit;
    typedAt = now;
    const li = visible()[Number(typed) - 1];
    if (li) li.querySelector("input").checked = true;
  };
  const submit = (action) => {
    form.querySelector("input[name=action]").value = action;
    if (action !== "save") form.querySelectorAll("input[name=category]").forEach((r) => { r.required = false; });
    form.submit();
  };

  filter.addEventListener("input", () => {
    const words = filter.value.trim().toLowerCase();
    items.forEach((li) => { li.hidden = words && !li.textContent.toLowerCase().includes(words); });
    number();
  });
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {  // Enter in the filter picks the only (or first) match
      event.preventDefault();
      const first = visible()[0];
      if (first) first.querySelector("input").checked = true;
      filter.blur();
    }
  });

  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA"].includes(event.target.tagName) && event.target.type !== "radio";
    if (event.key === "Escape") { event.target.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    if (/^[0-9]$/.test(key)) { pick(key); }
    else if (key === "/") { event.preventDefault(); filter.focus(); }
    else if (key === "n") { event.preventDefault(); note.focus(); }
    else if (key === "s") { submit("skip"); }
    else if (key === "u") { submit("undo"); }
    else if (key === "enter") {
      event.preventDefault();
      if (form.querySelector("input[name=category]:checked")) submit("save");
    } else { return; }
    event.preventDefault();
  });
  number();
})();
