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
  // Copy buttons: <button data-copy="#selector" data-copied="Copied" hidden>; shown only
  // where the clipboard can be written.
  if (navigator.clipboard && window.isSecureContext) {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.querySelector(button.getAttribute("data-copy"));
        if (!source) { return; }
        var text = source.href || source.value || source.textContent.trim();
        navigator.clipboard.writeText(text).then(function () {
          var label = button.textContent;
          button.textContent = button.getAttribute("data-copied");
          window.setTimeout(function () { button.textContent = label; }, 1500);
        });
      });
    });
  }
  // Search a long list in place: <input data-filter="#list > .row" hidden> hides the rows
  // whose text does not contain what is typed (the list itself is complete without it);
  // data-filter-count="#badge" names the element that shows how many rows match.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var rows = document.querySelectorAll(input.getAttribute("data-filter"));
    var count = document.querySelector(input.getAttribute("data-filter-count") || "#none");
    input.hidden = false;
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        row.hidden = query !== "" && row.textContent.toLowerCase().indexOf(query) === -1;
        if (!row.hidden) { shown += 1; }
      });
      if (count) { count.textContent = String(shown); }
    });
  });
  // Tap a read-only link field to select it for copying.
  document.querySelectorAll("input[readonly]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
