// Small progressive enhancements; every page works without this file.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset && form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches && target.matches("input[data-select-all]")) {
    const scope = target.closest("form") || document;
    scope.querySelectorAll("input[name='" + target.dataset.selectAll + "']").forEach((box) => {
      box.checked = target.checked;
    });
  }
});
