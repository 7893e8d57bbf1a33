// The compare page: two runs side by side. Parameters and figures come from the JSON the build
// wrote into the page (the newest runs); a run older than those, named by a link (?b=), from
// the JSON on that run's own page. The outputs come from the two runs' own pages (same site,
// fetched), paired code cell by code cell. knowrepo's own code.
(function () {
  var runs = JSON.parse(document.getElementById("compare-runs").textContent);
  var byId = {};
  runs.forEach(function (r) { byId[r.id] = r; });
  var pickA = document.getElementById("run-a"), pickB = document.getElementById("run-b");
  var params = new URLSearchParams(location.search);
  var runId = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$/;  // (only a run id goes into a URL here)

  function runPage(id) { return new URL("../runs/" + id + "/", location.href).href; }

  // The run `id` from the page's list, else read from its own page and added to both pickers.
  function known(id) {
    if (!id || byId[id]) return Promise.resolve(byId[id] || null);
    if (!runId.test(id)) return Promise.resolve(null);
    return fetch(runPage(id)).then(function (r) { return r.ok ? r.text() : ""; }).then(function (text) {
      var found = new DOMParser().parseFromString(text, "text/html").getElementById("run-record");
      if (!found) return null;
      var run = JSON.parse(found.textContent);
      if (run.id !== id) return null;
      byId[id] = run;
      [pickA, pickB].forEach(function (pick) {
        var option = document.createElement("option");
        option.value = id;
        option.textContent = run.label || run.started.slice(0, 16).replace("T", " ") + " · " + run.variant + (run.ok ? "" : " · failed");
        pick.appendChild(option);
      });
      return run;
    }).catch(function () { return null; });
  }

  function shown(value) {
    return typeof value === "number" ? value.toLocaleString("en", {maximumSignificantDigits: 6}) : value;
  }

  function cell(tag, text, cls) {
    var el = document.createElement(tag);
    el.textContent = text == null ? "" : String(shown(text));
    if (cls) el.className = cls;
    return el;
  }

  // The decimals a number is written with (its shortest form, as the JSON has it; null: exponent).
  function decimalsOf(v) {
    var s = String(v);
    if (/e/i.test(s)) return null;
    var dot = s.indexOf(".");
    return dot < 0 ? 0 : s.length - dot - 1;
  }

  // B − A in the figures' own terms: the decimals of their format, else of the values (an
  // integer changes by an integer); a share written as percent changes by points (pp); the
  // relative change follows, in percent of A.
  function change(va, vb, rule) {
    if (rule.unitsDiffer) return "units differ";  // (EUR against USD: no change to write)
    var d = vb - va;
    if (d === 0) return "same";
    var da = decimalsOf(va), db = decimalsOf(vb);
    var dec = rule.decimals != null ? rule.decimals : (da == null || db == null ? null : Math.max(da, db));
    var size = Math.abs(rule.percent ? d * 100 : d);
    var grouping = rule.grouping === undefined ? true : rule.grouping;
    var text = dec == null ? size.toLocaleString("en", {maximumSignificantDigits: 6})
      : size.toLocaleString("en", {minimumFractionDigits: dec, maximumFractionDigits: dec, useGrouping: grouping});
    var unit = rule.percent || rule.unit === "%" ? " pp" : rule.unit ? "\u00a0" + rule.unit : "";
    var sign = d > 0 ? "+" : "\u2212";
    var relative = va !== 0 ? " (" + sign + Math.abs(d / va * 100).toFixed(1) + "%)" : "";
    return sign + text + unit + relative;
  }

  function table(id, names, a, b, withChange, shownA, shownB, rules) {
    var t = document.getElementById(id);
    t.textContent = "";
    // Numbers (and their headers) right-aligned, text left: as a report's tables.
    function numeric(values) { return values.every(function (v) { return v === undefined || typeof v === "number"; }); }
    var numA = numeric(names.map(function (n) { return a[n]; })), numB = numeric(names.map(function (n) { return b[n]; }));
    var head = document.createElement("tr");
    shownA = shownA || {}; shownB = shownB || {}; rules = rules || {};
    head.appendChild(cell("th", withChange ? "Figure" : "Parameter"));
    head.appendChild(cell("th", "A", numA ? "num" : ""));
    head.appendChild(cell("th", "B", numB ? "num" : ""));
    if (withChange) head.appendChild(cell("th", "Change (B \u2212 A)", "num"));
    t.appendChild(head);
    if (!names.length) { var none = document.createElement("tr"); none.appendChild(cell("td", "none")); t.appendChild(none); }
    names.forEach(function (name) {
      var row = document.createElement("tr");
      var va = a[name], vb = b[name];
      row.appendChild(cell("th", (rules[name] || {}).label || name));
      row.appendChild(cell("td", va === undefined ? "—" : name in shownA ? shownA[name] : va, numA ? "num" : ""));
      row.appendChild(cell("td", vb === undefined ? "—" : name in shownB ? shownB[name] : vb, numB ? "num" : ""));
      if (withChange) {
        var numbers = typeof va === "number" && typeof vb === "number";
        row.appendChild(cell("td", numbers ? change(va, vb, rules[name] || {}) : "", "num"));
      } else if (String(va) !== String(vb)) {
        row.className = "changed";
      }
      t.appendChild(row);
    });
  }

  function outputsOf(doc, url) {
    return Array.prototype.slice.call(doc.querySelectorAll(".report-body .code_cell")).filter(function (c) {
      return !c.querySelector(".injected-label");
    }).map(function (c) {
      var out = c.querySelector(".output_wrapper");
      if (!out) return null;
      out.querySelectorAll("img[src], a[href]").forEach(function (el) {  // links as the run's page has them
        var attr = el.hasAttribute("src") ? "src" : "href";
        el.setAttribute(attr, new URL(el.getAttribute(attr), url).href);
      });
      return out;
    });
  }

  function load(id) {
    var url = runPage(id);
    return fetch(url).then(function (r) { return r.text(); }).then(function (text) {
      return outputsOf(new DOMParser().parseFromString(text, "text/html"), url);
    });
  }

  // Each figure's rule for its change: B's, A's where B has none; two units that differ
  // (a region's revenue in EUR, another's in USD) have no change to write.
  function changeRules(ra, rb) {
    var rules = Object.assign({}, ra, rb);
    Object.keys(ra).forEach(function (name) {
      if (rb[name] && ra[name].unit && rb[name].unit && ra[name].unit !== rb[name].unit) {
        rules[name] = Object.assign({}, rb[name], {unitsDiffer: true});
      }
    });
    return rules;
  }

  function show() {
    var a = byId[pickA.value], b = byId[pickB.value];
    history.replaceState(null, "", location.pathname + "?a=" + a.id + "&b=" + b.id);
    var names = Object.keys(Object.assign({}, a.params, b.params));
    table("compare-params", names, a.params, b.params, false);
    table("compare-metrics", Object.keys(Object.assign({}, a.metrics, b.metrics)), a.metrics, b.metrics, true,
      a.shown, b.shown, changeRules(a.rules || {}, b.rules || {}));
    var box = document.getElementById("compare-outputs");
    Promise.all([load(a.id), load(b.id)]).then(function (pair) {
      box.textContent = "";
      var count = Math.max(pair[0].length, pair[1].length), listed = 0;
      for (var i = 0; i < count; i++) {
        if (!pair[0][i] && !pair[1][i]) continue;  // a cell with no output in either run: nothing to compare
        listed++;
        var row = document.createElement("div");
        row.className = "compare-row";
        row.appendChild(cell("h3", "Cell " + (i + 1), "compare-cell-title"));
        [pair[0][i], pair[1][i]].forEach(function (out, side) {
          var col = document.createElement("div");
          col.className = "compare-side report-body";  // (its outputs styled as on the run's page)
          col.appendChild(cell("p", side ? "B" : "A", "compare-label"));
          if (out) col.appendChild(document.importNode(out, true)); else col.appendChild(cell("p", "no output", "muted"));
          row.appendChild(col);
        });
        box.appendChild(row);
      }
      if (!listed) box.appendChild(cell("p", "Neither run has outputs.", "muted"));
    }).catch(function () { box.textContent = "The runs' pages could not be loaded (open the site through a web server)."; });
  }

  pickA.addEventListener("change", show);
  pickB.addEventListener("change", show);
  Promise.all([known(params.get("a")), known(params.get("b"))]).then(function (pair) {
    if (pair[0]) pickA.value = pair[0].id;
    if (pair[1]) pickB.value = pair[1].id;
    show();
  });
})();
