// Filters the run history table as you type. knowrepo's own script: no library, no network.
// A long history is paged (newest runs first): the filter applies to the page shown, and the
// links to the other pages carry it (?q=, and ?origin= for the "Started by" choice), so paging
// on keeps the same filter.
(function () {
  var input = document.getElementById("run-filter");
  var table = document.getElementById("history");
  var count = document.getElementById("run-count");
  var origin = document.getElementById("run-origin"); // how runs were started (data-origin)
  if (!input || !table) return;
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var paged = count.hasAttribute("data-paged");
  var pageLinks = Array.prototype.slice.call(document.querySelectorAll(".pager a"));
  var params = new URLSearchParams(location.search);
  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var match = words.every(function (w) { return text.indexOf(w) !== -1; }) &&
        (!origin || !origin.value || row.getAttribute("data-origin") === origin.value);
      row.hidden = !match;
      if (match) shown++;
    });
    count.textContent = shown + " of " + rows.length + " runs" + (paged ? " on this page" : "");
    pageLinks.forEach(function (link) {
      var url = new URL(link.getAttribute("href"), location.href);
      if (input.value) url.searchParams.set("q", input.value); else url.searchParams.delete("q");
      if (origin && origin.value) url.searchParams.set("origin", origin.value); else url.searchParams.delete("origin");
      link.href = url.href;
    });
  }
  input.value = params.get("q") || "";
  input.addEventListener("input", apply);
  if (origin) {
    var wanted = params.get("origin") || "";
    origin.value = Array.prototype.some.call(origin.options, function (o) { return o.value === wanted; }) ? wanted : "";
    origin.addEventListener("change", apply);
  }
  apply();
})();
