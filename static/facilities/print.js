// The poster's Print button: shown only when this script runs, since it needs JavaScript.
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
