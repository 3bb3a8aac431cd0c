// chime dashboard: live parts without reloading, and the cron preview.
// Elements with data-refresh="URL" are replaced by a fresh render every few
// seconds; a fragment that fails to load keeps its last content.
(function () {
  "use strict";
  function refresh(el) {
    fetch(el.dataset.refresh, { credentials: "same-origin", headers: { "X-Fragment": "1" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { el.innerHTML = html; })
      .catch(function () { /* keep the last good content */ });
  }
  document.querySelectorAll("[data-refresh]").forEach(function (el) {
    var every = parseInt(el.dataset.every || "3000", 10);
    setInterval(function () {
      // A selection in progress is not thrown away by a refresh.
      if (document.hidden || el.querySelector("input[type=checkbox]:checked")) return;
      refresh(el);
    }, every);
  });
  // Live cron preview: the sentence and next fires as the expression is typed.
  var form = document.querySelector("form[data-preview]");
  if (form) {
    var out = document.getElementById("preview");
    var timer = null;
    var update = function () {
      var q = new URLSearchParams({
        cron: form.elements.cron.value,
        every: form.elements.every ? form.elements.every.value : "",
        tz: form.elements.timezone.value
      });
      fetch(form.dataset.preview + "?" + q.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) { out.innerHTML = html; });
    };
    ["cron", "every", "timezone"].forEach(function (name) {
      var input = form.elements[name];
      if (input) input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 200); });
    });
    update();
  }
  // Bulk selection on the jobs page.
  var all = document.getElementById("select-all");
  if (all) all.addEventListener("change", function () {
    document.querySelectorAll("input[name=ids]").forEach(function (c) { c.checked = all.checked; });
  });
})();
