// Every page: "/" focuses the search box (unless you are typing somewhere already).
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  var box = document.getElementById("search-query") || document.getElementById("site-search");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

// The theme toggle: flips light/dark and remembers the choice (theme.js applies it next time).
(function () {
  var button = document.querySelector(".theme-toggle");
  if (!button) return;
  var root = document.documentElement;
  var system = window.matchMedia("(prefers-color-scheme: dark)");
  function current() { return root.getAttribute("data-theme") || (system.matches ? "dark" : "light"); }
  function show() {
    var dark = current() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
  }
  button.addEventListener("click", function () {
    var next = current() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try { localStorage.setItem("knowrepo-theme", next); } catch (e) { /* not kept: still switched */ }
    show();
  });
  system.addEventListener("change", show);
  show();
})();

// Contents: collapsed on narrow screens, where they come before the report.
(function () {
  var box = document.querySelector(".toc-box");
  if (box && window.matchMedia("(max-width: 900px)").matches) box.open = false;
})();

// Copy buttons on code blocks (the code as text, without the prompt or output).
(function () {
  function copyText(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text, done); });
    } else {
      fallback(text, done);
    }
  }
  function fallback(text, done) {  // http:// intranets have no Clipboard API
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { if (document.execCommand("copy")) done(); } finally { area.remove(); }
  }
  document.querySelectorAll(".report-body .highlight").forEach(function (block) {
    var pre = block.querySelector("pre");
    if (!pre || block.closest(".output_area")) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy code");
    button.addEventListener("click", function () {
      copyText(pre.innerText.replace(/\n$/, ""), function () {
        button.textContent = "Copied";
        button.classList.add("copied");
        setTimeout(function () { button.textContent = "Copy"; button.classList.remove("copied"); }, 1500);
      });
    });
    block.classList.add("has-copy");
    block.appendChild(button);
  });
})();

// Wide tables, outputs and code scroll sideways: shade the edge that has more, and let
// keyboard users reach and scroll them.
(function () {
  var selector = ".table-scroll, .output_area, .input_area, .report-body .highlight pre, .report-body .math";
  function mark() {
    document.querySelectorAll(selector).forEach(function (el) {
      var wide = el.scrollWidth > el.clientWidth + 1;
      el.classList.toggle("scrolls", wide);
      if (wide && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "0");
    });
  }
  mark();
  window.addEventListener("load", mark);
  var timer;
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(mark, 150); });
})();

// Plotly figures: drawn from their JSON files with the one plotly.min.js the site holds (copied
// from the installed plotly package by the build), loaded only on pages that have a figure.
(function () {
  var figures = document.querySelectorAll(".kr-plotly[data-figure]");
  var me = document.querySelector('script[src$="assets/site.js"]');
  if (!figures.length || !me) return;
  var script = document.createElement("script");
  script.src = me.getAttribute("src").replace(/site\.js$/, "plotly.min.js");
  script.onload = function () {
    figures.forEach(function (el) {
      var src = el.getAttribute("data-figure");
      if (!/^(\.\.\/)*assets\/img\/[0-9a-f]+\.json$/.test(src)) return;  // the build's own files only
      fetch(src).then(function (r) { return r.json(); }).then(function (figure) {
        el.textContent = "";
        var layout = Object.assign({}, figure.layout || {}, { autosize: true });
        window.Plotly.newPlot(el, figure.data || [], layout, { responsive: true, displaylogo: false });
        el.classList.add("drawn");
      });
    });
  };
  document.head.appendChild(script);
})();
