// Filters the run history table as you type. knowrepo's own script: no library, no network.
(function () {
  var input = document.getElementById("run-filter");
  var table = document.getElementById("history");
  var count = document.getElementById("run-count");
  if (!input || !table) return;
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var params = new URLSearchParams(location.search);
  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      row.hidden = !match;
      if (match) shown++;
    });
    count.textContent = shown + " of " + rows.length + " runs";
  }
  input.value = params.get("q") || "";
  input.addEventListener("input", apply);
  apply();
})();
