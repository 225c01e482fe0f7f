// tipsom: send the page's CSRF token with every htmx request, and move focus
// to the error summary when a form comes back with errors (keyboard users).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});
// The case form without reloading: a person added with htmx takes the focus (its legend is read out),
// and the fields about children hide while the person's recorded age (or lowest estimate) is 18 or more.
// Without JavaScript the server does both on each round trip.
document.addEventListener("htmx:afterSwap", function (event) {
  var added = event.detail.target && event.detail.target.previousElementSibling;
  if (added && added.matches && added.matches("fieldset.person")) { added.focus(); }
});
function tipsomChildFields(input) {
  var m = /^(p\d+)\.(age|age_min)$/.exec(input.name || "");
  if (!m) { return; }
  var form = input.form, adult = false;
  ["age", "age_min"].forEach(function (name) {
    var el = form.elements[m[1] + "." + name];
    if (el && el.value !== "" && Number(el.value) >= 18) { adult = true; }
  });
  form.querySelectorAll('details[data-child-only="' + m[1] + '"]').forEach(function (section) {
    var filled = Array.prototype.some.call(section.querySelectorAll("input, select"), function (el) {
      return el.value !== "";
    });
    section.hidden = adult && !filled;
  });
}
document.addEventListener("input", function (event) { tipsomChildFields(event.target); });
