// Small progressive enhancements; the pages work without them. No inline scripts (CSP).
(function () {
  "use strict";
  // Keep the current clan section visible in the sideways-scrolling strip on phones.
  var active = document.querySelector(".clan-nav .nav-link.active");
  if (active && active.scrollIntoView) {
    active.scrollIntoView({ block: "nearest", inline: "center" });
  }
  // Ask before irreversible actions: <form data-confirm="Really?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // Tap a read-only link field to select it for copying.
  document.querySelectorAll("input[readonly]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
