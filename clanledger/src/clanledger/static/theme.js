// Dark or light, as the device is set: Bootstrap's colour modes follow prefers-color-scheme.
// Loaded in <head> (no inline scripts under the CSP) so the page never flashes the other mode.
(function () {
  "use strict";
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function apply() {
    document.documentElement.setAttribute("data-bs-theme", query && query.matches ? "dark" : "light");
  }
  apply();
  if (query && query.addEventListener) { query.addEventListener("change", apply); }
})();
