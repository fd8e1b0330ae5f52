// The train form's parameter box shows the chosen algorithm's own settings as its example.
document.querySelectorAll("textarea[data-placeholders]").forEach((box) => {
  const examples = JSON.parse(box.dataset.placeholders);
  const algorithm = box.form.elements.algorithm;
  const show = () => { box.placeholder = examples[algorithm.value] || ""; };
  algorithm.addEventListener("change", show);
  show();
});
