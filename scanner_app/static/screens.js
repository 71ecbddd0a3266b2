// The "Save screen" form saves the view in the address bar: htmx changes it as filters
// apply, after the form was drawn.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.id !== "save-screen") return;
  form.elements.query.value = window.location.search.replace(/^\?/, "");
});
