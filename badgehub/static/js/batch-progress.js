// Follows a CSV batch being awarded: polls its progress (same origin, JSON) and updates the counts; reloads
// the page once the batch is over so the rows show their results. Without JavaScript, a <noscript> refresh.
(function () {
  "use strict";
  var box = document.getElementById("batch-progress");
  if (!box || !box.dataset.url) { return; }
  var bar = document.getElementById("batch-progress-bar");
  function show(data) {
    ["issued", "previous", "invalid", "failed", "handled", "to_handle"].forEach(function (name) {
      var cell = box.querySelector('[data-count="' + name + '"]');
      if (cell && typeof data[name] === "number") { cell.textContent = String(data[name]); }
    });
    if (bar) { bar.max = Math.max(1, data.to_handle); bar.value = data.handled; }
  }
  function poll() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        show(data);
        if (data.over) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
}());
