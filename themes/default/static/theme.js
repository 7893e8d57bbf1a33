// In <head>, before the page is painted: the theme the reader chose with the toggle (else the
// system's, by CSS alone), so a dark page never flashes white.
(function () {
  try {
    var chosen = localStorage.getItem("knowrepo-theme");
    if (chosen === "dark" || chosen === "light") document.documentElement.setAttribute("data-theme", chosen);
  } catch (e) { /* storage blocked: follow the system */ }
})();
