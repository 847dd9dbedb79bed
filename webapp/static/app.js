// Messages stay until dismissed; a form with errors moves focus to its summary.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.dismiss");
  if (button) {
    button.closest(".message").remove();
    document.getElementById("main").focus();
  }
});
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
});
