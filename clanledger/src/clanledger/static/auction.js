// A running auction's page keeps itself current: every few seconds (data-refresh-seconds)
// while the page is visible, it fetches itself and swaps in the parts marked data-live
// (price, time left, standing, bids). The bid form is left alone, so typing is never lost;
// when the auction has ended the whole page reloads to show the result.
(function () {
  "use strict";

  var root = document.querySelector("[data-auction-live]");
  if (!root) { return; }
  var last = Date.now();
  var busy = false;

  function seconds() {
    var value = parseInt(root.getAttribute("data-refresh-seconds"), 10);
    return value > 0 ? value : 15;
  }

  function swap(fresh) {
    if (!fresh.querySelector("[data-auction-live]")) {
      window.location.reload();  // ended meanwhile: show the result
      return;
    }
    document.querySelectorAll("[data-live]").forEach(function (part) {
      var next = fresh.getElementById(part.id);
      if (next) { part.innerHTML = next.innerHTML; }
    });
  }

  function refresh() {
    busy = true;
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html) { swap(new DOMParser().parseFromString(html, "text/html")); }
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ })
      .then(function () { busy = false; last = Date.now(); });
  }

  window.setInterval(function () {
    if (!busy && !document.hidden && Date.now() - last >= seconds() * 1000) { refresh(); }
  }, 1000);
})();
