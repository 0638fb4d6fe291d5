// Loot pages: a fast participant picker (search, tick, weight buttons) and small helpers.
// Plain JavaScript served by the app itself (the Content-Security-Policy forbids inline code).
(function () {
  "use strict";

  function setupPicker(root) {
    var search = root.querySelector("[data-picker-search]");
    var count = root.querySelector("[data-picker-count]");
    var rows = Array.prototype.slice.call(root.querySelectorAll("li[data-name]"));

    function refresh() {
      var picked = 0;
      rows.forEach(function (row) {
        var box = row.querySelector("input[type=checkbox]");
        var weight = row.querySelector(".weight-input").value.trim();
        row.classList.toggle("picked", box.checked);
        row.querySelectorAll("[data-weight]").forEach(function (button) {
          var on = box.checked && button.getAttribute("data-weight") === weight;
          button.classList.toggle("active", on);
          button.setAttribute("aria-pressed", on ? "true" : "false");
        });
        if (box.checked) { picked += 1; }
      });
      if (count) { count.textContent = String(picked); }
    }

    function visible(row) { return !row.hidden; }

    if (search) {
      search.addEventListener("input", function () {
        var words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
        rows.forEach(function (row) {
          var name = row.getAttribute("data-name");
          row.hidden = !words.every(function (w) { return name.indexOf(w) !== -1; });
        });
      });
      // Enter in the search box ticks the only (or first) row shown instead of submitting.
      search.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") { return; }
        event.preventDefault();
        var first = rows.filter(visible)[0];
        if (first) {
          first.querySelector("input[type=checkbox]").checked = true;
          search.value = "";
          search.dispatchEvent(new Event("input"));
          refresh();
        }
      });
    }
    root.addEventListener("change", refresh);
    root.addEventListener("click", function (event) {
      var button = event.target.closest("[data-weight]");
      if (button) {
        var row = button.closest("li");
        row.querySelector(".weight-input").value = button.getAttribute("data-weight");
        row.querySelector("input[type=checkbox]").checked = true;
        refresh();
      }
      if (event.target.closest("[data-picker-all]")) {
        rows.filter(visible).forEach(function (row) {
          row.querySelector("input[type=checkbox]").checked = true;
        });
        refresh();
      }
      if (event.target.closest("[data-picker-last]")) {
        rows.forEach(function (row) {
          var weight = row.getAttribute("data-last-weight");
          row.querySelector("input[type=checkbox]").checked = weight !== null;
          if (weight !== null) { row.querySelector(".weight-input").value = weight; }
        });
        refresh();
      }
      if (event.target.closest("[data-picker-none]")) {
        rows.forEach(function (row) { row.querySelector("input[type=checkbox]").checked = false; });
        refresh();
      }
    });
    root.addEventListener("input", function (event) {
      if (event.target.classList.contains("weight-input")) {
        event.target.closest("li").querySelector("input[type=checkbox]").checked = true;
        refresh();
      }
    });
    refresh();
  }

  // The sale form: what the exchange should pay at the fee in force, as the price is typed.
  // Same rule as the server: the fee is rounded up, so expected = price - ceil(price * bps / 1e4).
  document.querySelectorAll("[data-expected]").forEach(function (note) {
    var bps = parseInt(note.getAttribute("data-fee-bps"), 10);
    var form = note.parentElement.querySelector("form");
    var price = form && form.querySelector("input[name=gross_price]");
    var amount = note.querySelector("[data-expected-amount]");
    if (!price || !amount) { return; }
    price.addEventListener("input", function () {
      var gross = parseInt(price.value, 10);
      if (!(gross > 0)) { amount.textContent = "–"; return; }
      var fee = Math.floor((gross * bps + 9999) / 10000);
      amount.textContent = (gross - fee).toLocaleString(document.documentElement.lang);
    });
  });

  document.querySelectorAll("[data-picker]").forEach(setupPicker);
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
