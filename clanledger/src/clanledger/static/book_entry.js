// Fast entry: show the sections of the chosen kind, preselect a payee's last category, and
// keep a running total of the split lines. The form works without this script.
(function () {
  "use strict";
  var form = document.getElementById("book-entry-form");
  if (!form) { return; }
  document.documentElement.classList.add("js");

  function chosenKind() {
    var checked = form.querySelector("input[name=kind]:checked") || form.querySelector("input[name=kind]");
    return checked ? checked.value : "expense";
  }
  function showKind() {
    var kind = chosenKind();
    form.querySelectorAll("[data-for-kind]").forEach(function (el) {
      var kinds = el.getAttribute("data-for-kind").split(" ");
      if (kinds.indexOf(kind) >= 0 || kind === "opening") { el.removeAttribute("data-hidden-kind"); }
      else { el.setAttribute("data-hidden-kind", ""); }
    });
  }
  form.querySelectorAll("input[name=kind]").forEach(function (radio) {
    radio.addEventListener("change", showKind);
  });
  showKind();

  // A payee chosen from the suggestions brings its last category, unless one is chosen.
  var payee = document.getElementById("payee");
  var map = {};
  try { map = JSON.parse(form.getAttribute("data-payee-categories") || "{}"); } catch (e) { map = {}; }
  if (payee) {
    payee.addEventListener("change", function () {
      var id = map[payee.value];
      if (!id || form.querySelector("input[name=category_id]:checked")) { return; }
      var kind = chosenKind();
      var radio = form.querySelector("[data-for-kind=" + kind + "] input[name=category_id][value='" + id + "']") ||
        form.querySelector("input[name=category_id][value='" + id + "']");
      if (radio) { radio.checked = true; }
    });
  }

  // Amounts as whole minor units, parsed from text (no floating point).
  function digits() {
    var account = document.getElementById("account_id");
    var option = account && account.options[account.selectedIndex];
    return option ? parseInt(option.getAttribute("data-digits") || "0", 10) : 0;
  }
  function toMinor(text, places) {
    var raw = (text || "").replace(/[,\s]/g, "");
    var negative = raw.charAt(0) === "-";
    if (negative) { raw = raw.slice(1); }
    if (!/^\d*(\.\d*)?$/.test(raw) || raw === "" || raw === ".") { return null; }
    var parts = raw.split(".");
    var frac = (parts[1] || "");
    if (frac.length > places) { return null; }
    while (frac.length < places) { frac += "0"; }
    var value = parseInt((parts[0] || "0") + frac, 10);
    return negative ? -value : value;
  }
  function shown(minor, places) {
    var text = String(Math.abs(minor));
    while (text.length <= places) { text = "0" + text; }
    var whole = text.slice(0, text.length - places).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var frac = places > 0 ? "." + text.slice(text.length - places) : "";
    return (minor < 0 ? "-" : "") + whole + frac;
  }
  var lines = document.getElementById("split-lines");
  var status = document.getElementById("split-status");
  var addButton = document.getElementById("split-add");
  function updateSplit() {
    if (!lines || !status) { return; }
    var places = digits();
    var total = toMinor(document.getElementById("amount").value, places);
    var sum = 0, used = false;
    lines.querySelectorAll("input[name=split_amount]").forEach(function (input) {
      var value = toMinor(input.value, places);
      if (value !== null) { sum += value; used = true; }
    });
    if (!used || total === null) { status.textContent = ""; return; }
    var off = total - sum;
    if (off === 0) { status.textContent = status.getAttribute("data-ok"); status.className = "small text-success"; }
    else if (off > 0) { status.textContent = status.getAttribute("data-left").replace("{amount}", shown(off, places)); status.className = "small text-body-secondary"; }
    else { status.textContent = status.getAttribute("data-over").replace("{amount}", shown(-off, places)); status.className = "small text-danger"; }
  }
  if (lines) {
    form.addEventListener("input", updateSplit);
    form.addEventListener("change", updateSplit);
    if (addButton) {
      addButton.hidden = false;
      addButton.addEventListener("click", function () {
        var rows = lines.querySelectorAll(".split-line");
        if (rows.length >= 30) { return; }
        var copy = rows[rows.length - 1].cloneNode(true);
        var n = rows.length;
        copy.querySelectorAll("select, input").forEach(function (el) {
          el.value = "";
          el.id = el.id.replace(/\d+$/, String(n));
        });
        copy.querySelectorAll("label").forEach(function (label) {
          label.htmlFor = label.htmlFor.replace(/\d+$/, String(n));
        });
        lines.appendChild(copy);
      });
    }
    updateSplit();
  }
}());
