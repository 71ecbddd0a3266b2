// A dashboard line's Puts button shows or hides the row of puts under it (htmx loads them
// on the first click). Listening on the document covers rows that polls swap in later.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.puts-toggle[aria-controls]");
  if (!button) return;
  const row = document.getElementById(button.getAttribute("aria-controls"));
  if (!row) return;
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  row.hidden = !open;
});
