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

// The contents list marks the section being read: the last heading scrolled past the top bar.
(function () {
  var links = [], heads = [];
  document.querySelectorAll(".toc a[href^='#']").forEach(function (link) {
    var head = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (head) { links.push(link); heads.push(head); }
  });
  if (!heads.length) return;
  var shown = -1, queued = false;
  function update() {
    queued = false;
    var current = 0;
    for (var i = 0; i < heads.length; i++) { if (heads[i].getBoundingClientRect().top < 100) current = i; }
    var root = document.documentElement;  // (at the very end: the last section, whose heading may never reach the top)
    if (window.scrollY > 0 && window.innerHeight + window.scrollY >= root.scrollHeight - 2) current = heads.length - 1;
    if (current === shown) return;
    if (shown >= 0) links[shown].removeAttribute("aria-current");
    links[current].setAttribute("aria-current", "location");
    shown = current;
  }
  window.addEventListener("scroll", function () {
    if (!queued) { queued = true; requestAnimationFrame(update); }
  }, { passive: true });
  update();
})();

// Wide tables, outputs and code scroll sideways: shade the edge that has more, and let
// keyboard users reach and scroll them.
(function () {
  var selector = ".table-scroll, .output_area, .input_area, .report-body .highlight pre, .report-body .math";
  function mark() {
    document.querySelectorAll(selector).forEach(function (el) {
      var overflow = getComputedStyle(el).overflowX;  // (a box inside one that scrolls does not)
      var wide = (overflow === "auto" || overflow === "scroll") && el.scrollWidth > el.clientWidth + 1;
      el.classList.toggle("scrolls", wide);
      if (wide && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "0");
    });
  }
  mark();
  window.addEventListener("load", mark);
  var timer;
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(mark, 150); });
})();

// Interactive charts (Plotly, Vega-Lite/Altair, Bokeh) and Mermaid diagrams: drawn from their JSON
// spec files with the one copy of each library the site holds (copied from the installed Python
// package by the build), loaded only on pages that have such a chart. Until drawn (or if drawing
// fails) the placeholder keeps its static image or note.
(function () {
  var charts = document.querySelectorAll(".kr-chart[data-figure]");
  var me = document.querySelector('script[src$="assets/site.js"]');
  if (!charts.length || !me) return;
  var assets = me.getAttribute("src").replace(/site\.js$/, "");
  var libraries = {
    plotly: ["plotly.min.js"],
    vega: ["vega.js"],
    bokeh: ["bokeh/bokeh.min.js", "bokeh/bokeh-widgets.min.js", "bokeh/bokeh-tables.min.js", "bokeh/bokeh-gl.min.js"],
    mermaid: ["mermaid.min.js"]
  };
  var loaded = {};
  function script(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = assets + src;
      tag.onload = resolve;
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }
  function load(kind) {  // each library once per page, its files in order (Bokeh's extensions need its core)
    if (!loaded[kind]) {
      loaded[kind] = libraries[kind].reduce(function (chain, src) {
        return chain.then(function () { return script(src); });
      }, Promise.resolve());
    }
    return loaded[kind];
  }
  var count = 0;
  var draw = {
    plotly: function (target, figure) {
      var layout = Object.assign({}, figure.layout || {}, { autosize: true });
      return window.Plotly.newPlot(target, figure.data || [], layout, { responsive: true, displaylogo: false });
    },
    vega: function (target, chart) {
      // ast: Vega's expression interpreter, not generated code: the site's CSP allows no eval.
      return window.vegaEmbed(target, chart.spec, {
        mode: chart.mode, ast: true, actions: { export: true, source: false, compiled: false, editor: false }
      }).then(function (result) {  // (its menu button is an icon: give it a name screen readers say)
        target.querySelectorAll("summary").forEach(function (s) { s.setAttribute("aria-label", "Chart actions"); });
        return result;
      });
    },
    bokeh: function (target, doc) {
      // elementid: where BokehJS draws what no root names (a root the item leaves out, the
      // document's notifications): this chart's own box, never the end of <body>.
      target.id = "kr-view-" + (++count);
      var items = doc.render_items.map(function (item) {
        var roots = {};
        Object.keys(item.roots || {}).forEach(function (id) {
          var root = document.createElement("div");
          root.id = "kr-bokeh-" + (++count);
          target.appendChild(root);
          roots[id] = root.id;
        });
        return Object.assign({}, item, { roots: roots, elementid: target.id });
      });
      return window.Bokeh.embed.embed_items(doc.docs_json, items);
    },
    mermaid: function (target, diagram) {  // in the page's theme, drawn again when it changes
      var item = { target: target, source: diagram.source };
      return mermaidDraw(item).then(function () { diagrams.push(item); });
    }
  };
  // Mermaid: strict (no click callbacks, labels sanitised), one diagram at a time (each render
  // sets Mermaid's settings), its error drawing suppressed (the source stays shown instead).
  var diagrams = [], queue = Promise.resolve(), root = document.documentElement;
  var dark = window.matchMedia("(prefers-color-scheme: dark)");
  function mermaidTheme() { return (root.getAttribute("data-theme") || (dark.matches ? "dark" : "light")) === "dark" ? "dark" : "default"; }
  function mermaidDraw(item) {
    var drawn = queue.then(function () {
      var theme = mermaidTheme();
      if (item.theme === theme) return;
      window.mermaid.initialize({
        startOnLoad: false, securityLevel: "strict", suppressErrorRendering: true, theme: theme,
        fontFamily: getComputedStyle(document.body).fontFamily
      });
      return window.mermaid.render("kr-mermaid-" + (++count), item.source).then(function (out) {
        // (Mermaid's own, its labels sanitised; out.bindFunctions, which would attach a
        // diagram's click callbacks, is never called)
        item.target.innerHTML = out.svg;
        item.theme = theme;
      });
    });
    queue = drawn.catch(function () {});  // (one diagram that fails stops none after it)
    return drawn;
  }
  function redraw() {
    diagrams.forEach(function (item) {
      mermaidDraw(item).catch(function (error) { console.warn("knowrepo: a diagram could not be drawn:", error); });
    });
  }
  new MutationObserver(redraw).observe(root, { attributes: true, attributeFilter: ["data-theme"] });
  dark.addEventListener("change", redraw);
  charts.forEach(function (el) {
    var src = el.getAttribute("data-figure");
    var match = /^(\.\.\/)*assets\/img\/[0-9a-f]+\.(plotly|vega|bokeh|mermaid)\.json$/.exec(src);  // the build's own files only
    if (!match) return;
    var kind = match[2];
    Promise.all([load(kind), fetch(src).then(function (r) { return r.json(); })]).then(function (got) {
      var target = document.createElement("div");
      target.className = "kr-chart-view";
      el.appendChild(target);
      return new Promise(function (resolve) { resolve(draw[kind](target, got[1])); }).then(function () {
        Array.prototype.slice.call(el.children).forEach(function (child) { if (child !== target) el.removeChild(child); });
        el.classList.add("drawn");
      }, function (error) { el.removeChild(target); throw error; });
    }).catch(function (error) {
      console.warn("knowrepo: a chart could not be drawn:", error);
      var note = el.querySelector(".interactive-note");
      if (note && kind !== "mermaid") note.textContent = "This chart could not be drawn here: open the notebook to see it.";
    });
  });
})();

// Notebook downloads: the site publishes a notebook without the images its pages already hold,
// as <name>.lean.json (knowrepo/pipeline/assemble/skeleton.py); a link marked data-assemble puts
// the image files' bytes back in on download, so the file saved is the notebook byte for byte.
(function () {
  var me = document.querySelector('script[src$="assets/site.js"]');
  if (!me || !window.fetch || !window.TextDecoder) return;
  var images = new URL(me.getAttribute("src").replace(/site\.js$/, "img/"), document.baseURI);
  var marker = /@@knowrepo-image:([0-9a-f]{20}\.(?:png|jpg)):(\d+):([01])@@/g;
  function base64(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }
  function laidOut(encoded, width, newline) {  // as the notebook held it (skeleton.laid_out)
    var lines = [];
    if (width > 0) { for (var i = 0; i < encoded.length; i += width) lines.push(encoded.slice(i, i + width)); }
    else lines.push(encoded);
    return lines.join("\\n") + (newline ? "\\n" : "");
  }
  function assemble(text) {
    var names = {};
    text.replace(marker, function (token, name) { names[name] = true; return token; });
    return Promise.all(Object.keys(names).map(function (name) {
      return fetch(new URL(name, images)).then(function (r) {
        if (!r.ok) throw new Error(name + ": " + r.status);
        return r.arrayBuffer();
      }).then(function (buffer) { names[name] = base64(buffer); });
    })).then(function () {
      return text.replace(marker, function (token, name, width, newline) {
        return laidOut(names[name], +width, newline === "1");
      });
    });
  }
  function save(content, name) {
    var url = URL.createObjectURL(new Blob([content], { type: "application/x-ipynb+json" }));
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }
  function download(event) {
    var link = event.target.closest && event.target.closest("a[data-assemble]");
    if (!link || event.defaultPrevented) return;
    event.preventDefault();  // (a middle click too: a new tab would show the lean file)
    // (no download attribute on the link: without this script, a click shows the lean file
    // rather than saving it under a .ipynb name)
    var name = link.getAttribute("data-name") || "notebook.ipynb";
    if (location.protocol === "file:") {  // (browsers fetch nothing from file:// pages)
      fail(link, new Error("serve the site (knowrepo serve, or any web server) to download notebooks"));
      return;
    }
    fetch(link.href).then(function (r) {
      if (!r.ok) throw new Error(link.href + ": " + r.status);
      return r.arrayBuffer();
    }).then(function (buffer) {
      return assemble(new TextDecoder("utf-8", { ignoreBOM: true }).decode(buffer));
    }).then(function (content) {
      link.classList.remove("download-failed");
      link.removeAttribute("title");
      save(content, name);
    }).catch(function (error) { fail(link, error); });
  }
  function fail(link, error) {
    console.warn("knowrepo: the notebook could not be assembled:", error);
    link.setAttribute("title", "The notebook could not be put together here: " + error.message);
    link.classList.add("download-failed");
  }
  document.addEventListener("click", download);
  document.addEventListener("auxclick", function (event) { if (event.button === 1) download(event); });
})();
