// The "Copy" buttons of the page that shows a new secret once (no inline script: see the CSP).
document.querySelectorAll("button.copy").forEach((button) => {
  button.addEventListener("click", async () => {
    const target = document.getElementById(button.dataset.target);
    const note = document.getElementById("copied-" + target.dataset.slot);
    try {
      await navigator.clipboard.writeText(target.textContent);
      note.textContent = "Copied.";
    } catch (error) {
      window.getSelection().selectAllChildren(target);
      note.textContent = "Selected: press Ctrl+C.";
    }
  });
});
