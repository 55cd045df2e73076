// Applies the saved theme before the page is drawn (a classic script in <head>, so there is no flash);
// "light" or "dark" in localStorage, otherwise the system's preference (prefers-color-scheme, in app.css).
(function () {
  try {
    var saved = localStorage.getItem("notilog.theme");
    if (saved === "light" || saved === "dark") document.documentElement.setAttribute("data-theme", saved);
  } catch (e) { /* storage may be disabled */ }
})();
