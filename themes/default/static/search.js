// The search page: Pagefind's JS API (the bundle the build writes to pagefind/), with the
// query, filters and sort kept in the URL so that a search can be shared. knowrepo's own code.
(function () {
  var script = document.currentScript;
  var base = script.dataset.base;
  var bundle = new URL(script.dataset.bundle, location.href).href;
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-query");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
  var parts = [];  // one Pagefind instance per index part
  var latest = 0;
  var timer = null;
  // Not an inline onsubmit: the Content-Security-Policy allows no inline script.
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function readUrl() {
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    selects.forEach(function (s) { s.value = params.get(s.name) || ""; });
  }

  function writeUrl() {
    var params = new URLSearchParams();
    if (input.value.trim()) params.set("q", input.value.trim());
    selects.forEach(function (s) { if (s.value) params.set(s.name, s.value); });
    var query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : ""));
  }

  function fillFilters(filters) {
    selects.forEach(function (select) {
      var name = select.dataset.filter;
      var wanted = new URLSearchParams(location.search).get(name) || select.value;
      if (select.options.length > 1) { select.value = wanted; return; }  // (the build's: reports counted)
      if (!name || !filters[name]) return;
      Object.keys(filters[name]).sort(function (a, b) {
        return name === "year" ? b.localeCompare(a) : a.localeCompare(b);
      }).forEach(function (value) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = value + " (" + filters[name][value] + ")";
        select.appendChild(option);
      });
      select.value = wanted;
    });
  }

  // 2026-09-14 as the site's pages write it: 14 Sep 2026.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function shownDate(iso) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
    return parts ? +parts[3] + " " + MONTHS[+parts[2] - 1] + " " + parts[1] : iso;
  }

  // Variants of one report are one hit (the best-scoring page), its variants listed under it.
  function grouped(results) {
    var groups = [], byReport = {};
    results.forEach(function (r) {
      var m = r.meta || {}, key = m.report || r.url;
      if (!byReport[key]) { byReport[key] = { hit: r, variants: [] }; groups.push(byReport[key]); }
      if (m.variant && !byReport[key].variants.some(function (v) { return v.name === m.variant; })) {
        byReport[key].variants.push({ name: m.variant, url: r.url });
      }
    });
    return groups;
  }

  function variantLinks(group) {
    if (group.variants.length < 2) return "";
    return '<p class="result-variants">Variants: ' + group.variants.map(function (v) {
      return '<a href="' + esc(v.url) + '">' + esc(v.name) + "</a>";
    }).join(" ") + "</p>";
  }

  function render(pages, total, term) {
    var groups = grouped(pages).slice(0, 20);
    total = total - pages.length + grouped(pages).length;  // (pages past those loaded: counted as they are)
    list.innerHTML = groups.map(function (group) {
      var r = group.hit, m = r.meta || {};
      var title = group.variants.length > 1 ? (m.title || "").replace(/ \([^()]*\)$/, "") : m.title;
      var image = m.image ? '<img class="result-thumb" src="' + esc(m.image) + '" alt="" loading="lazy">' : "";
      var when = m.dated || (m.date ? shownDate(m.date) : "");  // ("Run 7 Dec 2026 · November 2026")
      var date = when ? '<span class="result-date">' + esc(when) + "</span>" : "";
      var byline = [m.authors ? esc(m.authors) : "", date].filter(Boolean).join(" · ");
      return '<li class="result">' + image + '<div class="result-body"><h2 class="result-title"><a href="' +
        esc(r.url) + '">' + esc(title || r.url) + '</a></h2>' +
        (byline ? '<p class="result-meta">' + byline + "</p>" : "") +
        '<p class="result-excerpt">' + r.excerpt + "</p>" + variantLinks(group) + "</div></li>";
    }).join("");
    status.textContent = term || hasFilters() ? total + (total === 1 ? " report" : " reports") +
      (term ? " for “" + term + "”" : "") : "";
    list.dataset.for = location.search; // which search these results answer (tests wait on it)
  }

  function hasFilters() {
    return selects.some(function (s) { return s.dataset.filter && s.value; });
  }

  function mergeFilters(all) {
    var merged = {};
    all.forEach(function (filters) {
      Object.keys(filters).forEach(function (name) {
        merged[name] = merged[name] || {};
        Object.keys(filters[name]).forEach(function (value) {
          merged[name][value] = (merged[name][value] || 0) + filters[name][value];
        });
      });
    });
    return merged;
  }

  // A large site's index comes in parts cut by date, newest first (parts.json): every part is
  // searched and the results merged, by score as Pagefind's mergeIndex merges, or for
  // "newest first" one part after the other.
  async function searchParts(term, options) {
    var responses = await Promise.all(parts.map(function (p) { return p.search(term, options); }));
    var results = [];
    responses.forEach(function (r) { if (r) results = results.concat(r.results); });
    if (!options.sort.date) results.sort(function (a, b) { return b.score - a.score; });
    return results;
  }

  async function search() {
    writeUrl();
    var term = input.value.trim();
    var run = ++latest;
    if (!term && !hasFilters()) { list.innerHTML = ""; status.textContent = ""; list.dataset.for = location.search; return; }
    var filters = {};
    var sort = {};
    selects.forEach(function (s) {
      if (s.dataset.filter && s.value) filters[s.dataset.filter] = s.value;
      if (s.name === "sort" && s.value) sort[s.value] = "desc";
    });
    var found = await searchParts(term || null, { filters: filters, sort: sort });
    if (run !== latest) return;
    var results = await Promise.all(found.slice(0, 60).map(function (r) { return r.data(); }));
    if (run !== latest) return;
    render(results, found.length, term);
  }

  async function start() {
    readUrl();
    try {
      var names = [""];
      var listing = await fetch(new URL("parts.json", bundle));
      if (listing.ok) names = (await listing.json()).parts;
      // Each part through its own copy of pagefind.js: instances that share one module (its
      // createInstance) share one WebAssembly memory and mix up each other's chunks.
      parts = await Promise.all(names.map(function (name) { return import(new URL(name + "pagefind.js", bundle)); }));
      await Promise.all(parts.map(function (p) { return p.options({ baseUrl: base, excerptLength: 30 }); }));
      fillFilters(mergeFilters(await Promise.all(parts.map(function (p) { return p.filters(); }))));
    } catch (error) {
      status.textContent = "Search is not available: the site has no search index yet.";
      return;
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 80); });
    selects.forEach(function (s) { s.addEventListener("change", search); });
    search();
  }

  start();
})();
