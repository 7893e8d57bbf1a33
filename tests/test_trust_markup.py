"""Second trust pass, markup and CSS (E110-E117 of docs/errors.md), checked in Chromium.

A report's HTML, its CSS and its Bokeh documents stay inside the report body and run nothing.
The pages are opened with their Content-Security-Policy switched off (bypass_csp), so that
only knowrepo's cleaning stands between the report and the reader: a handler that got through
would run and mark the page. The Bokeh charts are made by the real bokeh package in real
kernels, and drawn by the BokehJS the site ships.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import PROJECT, run_knowrepo, serving, write_notebook

BOKEH_SETUP = "from bokeh.io import output_notebook, show\noutput_notebook()"

# Every property BokehJS writes into the page as HTML, and every way its CSS reaches the page.
# Each handler would mark the page if it ran (the CSP is off in these tests).
HOSTILE_BOKEH = """
from bokeh.layouts import column
from bokeh.models import (Button, ColumnDataSource, DataTable, Div, GlobalInlineStyleSheet,
    HoverTool, HTMLTemplateFormatter, ImportedStyleSheet, InlineStyleSheet, Markdown, MultiChoice,
    SetValue, Slider, SVGIcon, TableColumn, dom)
from bokeh.plotting import figure

BAD = ('<img src="x" onerror="document.body.dataset.pwned = 1">'
       '<script>document.body.dataset.pwned = 2</script>')
source = ColumnDataSource(dict(left=[0], right=[10], bottom=[0], top=[10], s=[BAD], y=[7]))

def plot(tooltips):
    chart = figure(width=300, height=200, x_range=(0, 10), y_range=(0, 10),
                   tools=[HoverTool(tooltips=tooltips)], toolbar_location=None)
    chart.quad(left="left", right="right", bottom="bottom", top="top", source=source)
    return chart

listed = plot([("raw", "@s{safe}"),
               ("marked", '<b onmouseover="document.body.dataset.pwned = 3">tip-@y</b>')])
template = plot('<div><i onclick="document.body.dataset.pwned = 4">tip-@y</i> @s{safe}</div>')
nodes = plot(dom.Div(children=[dom.HTML(html=['<u onclick="document.body.dataset.pwned = 5">tip-',
                                              dom.ValueRef(field="y"), "</u>", BAD])]))
table = DataTable(source=source, index_header=BAD, width=400, height=90, columns=[
    TableColumn(field="s", title=BAD, formatter=HTMLTemplateFormatter(template="<%= value %>")),
    TableColumn(field="y", title="level")])
choice = MultiChoice(options=[BAD, "plain"], placeholder=BAD)
slider = Slider(start=0, end=10, value=5, title="Level", format=BAD + "0")
note = Div(text="Bokeh note", html_attributes={"onclick": "document.body.dataset.pwned = 6"},
           styles={"position": "fixed", "inset": "0", "z-index": "2147483647", "background": "white"},
           stylesheets=[":host { position: fixed; inset: 0 }",
                        InlineStyleSheet(css=":host { position: fixed }"),
                        GlobalInlineStyleSheet(css=".topbar, #site-search { display: none !important }"),
                        ImportedStyleSheet(url="https://evil.example/bokeh.css")])
swap = Button(label="Swap", icon=SVGIcon(
    svg='<svg xmlns="http://www.w3.org/2000/svg" onload="document.body.dataset.pwned = 7">'
        '<script>document.body.dataset.pwned = 8</script><circle r="4"/></svg>'))
swap.js_on_click(SetValue(obj=note, attr="text", value="swapped " + BAD))
prose = Markdown(text="**Bokeh markdown** " + BAD)
show(column(note, listed, template, nodes, table, choice, slider, swap, prose))
"""

# A Div subclass declared in the document's defs: its markup is a default BokehJS reads from
# the defs, in no attribute a cleaner sees.
DEFS_BOKEH = """
from bokeh.core.properties import Override
from bokeh.model import DataModel
from bokeh.models import Div

class Shout(Div, DataModel):
    text = Override(default='<img src="x" onerror="document.body.dataset.pwned = 9">defs-marker')

show(Shout())
"""

OVERLAY = """---
title: Overlay
---

Prose before the styles.

<style>
@import url("https://evil.example/site.css");
.topbar, #site-search, .report-header { display: none !important; }
body { background: url("https://evil.example/bg.png") red; }
.cover { position: fixed; inset: 0; z-index: 2147483647; background: white; }
.lifted { position: absolute; top: -2000px; left: -2000px; width: 6000px; height: 4000px;
          z-index: 2147483647; background: white; }
</style>

<div class="cover"><a href="https://evil.example/login">Your session expired: sign in again</a></div>

<div style="position: fixed; top: 0; left: 0; width: 100vw; height: 100vh; z-index: 99999"><a
href="https://evil.example/login">Sign in</a></div>

<div class="lifted"><a href="https://evil.example/">Sign in</a></div>

<div style="position: relative; margin-top: -3000px; height: 3000px; z-index: 999">Pulled up</div>

<p class="kept" style="color: rgb(0, 128, 0); background: url('https://evil.example/p.png')">Green</p>
"""

# What the site's search box and report header must stay: the site's own elements.
ON_TOP = """selector => {
  const box = document.querySelector(selector).getBoundingClientRect();
  const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return hit === null ? null : hit.closest(selector) !== null;
}"""

# Every element of the page's body, shadow roots included, that could run script (BokehJS puts
# its tooltips at the end of the body, outside the report's).
INJECTED = """() => {
  const found = [];
  const walk = root => {
    for (const el of root.querySelectorAll('*')) {
      const handlers = [...el.attributes].map(a => a.name).filter(n => n.startsWith('on'));
      const tag = el.tagName.toLowerCase();
      const href = (el.getAttribute('href') || '').trim().toLowerCase();
      const active = ['script', 'iframe', 'object', 'embed'].includes(tag) || href.startsWith('javascript:');
      if (handlers.length || active)
        found.push(tag + ' ' + handlers.join(' '));
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document.body);
  return {found, pwned: document.body.dataset.pwned || null};
}"""

# The text of the page's body, shadow roots included.
SHADOW_TEXT = """() => {
  const parts = [];
  const walk = root => {
    for (const node of root.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent);
      if (node.shadowRoot) walk(node.shadowRoot);
      if (node.nodeType === Node.ELEMENT_NODE && node.tagName !== 'STYLE') walk(node);
    }
  };
  walk(document.body);
  return parts.join('');
}"""


def _frame_outputs() -> tuple[dict, dict]:
    """A DataFrame as a notebook shows it (pandas' own <style>) and a coloured Styler."""
    import pandas as pd

    frame = pd.DataFrame({"plan": ["basic", "pro"], "revenue": [1200, 3400]})
    styled = frame.style.map(lambda v: "background-color: #ff0000; color: #ffffff" if v == 3400 else "")
    shown = {"output_type": "execute_result", "execution_count": 1, "metadata": {}}
    return (
        {**shown, "data": {"text/html": frame._repr_html_(), "text/plain": str(frame)}},
        {**shown, "data": {"text/html": styled.to_html(), "text/plain": "<Styler>"}},
    )


@pytest.fixture(scope="module")
def markup_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("markup")
    (repo / "knowrepo.toml").write_text('[site]\ntitle = "Markup"\n')
    hidden = ["remove-input"]  # (the page's text is then the outputs' alone)
    write_notebook(
        repo / "reports/bokeh.ipynb",
        [("code", BOKEH_SETUP), ("code", HOSTILE_BOKEH, hidden)],
        front="title: Bokeh",
    )
    write_notebook(
        repo / "reports/defs.ipynb",
        [("code", BOKEH_SETUP), ("code", DEFS_BOKEH, hidden)],
        front="title: Defs",
    )
    (repo / "reports/overlay.md").write_text(OVERLAY)
    frame, styled = _frame_outputs()
    write_notebook(
        repo / "reports/frames.ipynb",
        [("code", "frame"), ("code", "styled")],
        front="title: Frames",
        outputs={0: [frame], 1: [styled]},
    )
    run_knowrepo("build", str(repo))
    return repo


@pytest.fixture(scope="module")
def markup_site(markup_repo: Path):
    with serving(markup_repo / "_site") as base:
        yield base


@pytest.fixture()
def open_page(browser):
    """A page with the site's Content-Security-Policy off; it fails the test if it asked for
    anything outside the site."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
    yield page
    context.close()
    assert outside == []


def _hover(page, locator) -> None:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_E110_E111_E114_bokeh_markup_and_css_stay_inert_when_hovered(markup_site, open_page):
    """E110: every property BokehJS writes as HTML is cleaned; E111: `{safe}` is dropped, data
    values show as text; E114: Bokeh's styles, style sheets and HTML attributes neither cover
    nor restyle the site."""
    page = open_page
    page.goto(markup_site + "bokeh/")
    page.wait_for_selector(".kr-bokeh.drawn")
    page.locator(".bk-Figure").nth(2).wait_for()
    for index in range(3):  # list-form tooltips, a string template, dom.HTML in list form
        _hover(page, page.locator(".bk-Figure").nth(index))
        page.wait_for_function(f"() => ({SHADOW_TEXT})().includes('tip-7')", polling=100, timeout=10_000)
        text = page.evaluate(SHADOW_TEXT)
        injected = page.evaluate(INJECTED)
        assert injected == {"found": [], "pwned": None}, index
        if index < 2:  # the data value `@s{safe}` shown as the text it is
            assert '<img src="x" onerror=' in text, index
        page.mouse.move(5, 890)
    page.get_by_role("button", name="Swap").click()
    page.wait_for_function(f"() => ({SHADOW_TEXT})().includes('swapped')", polling=100, timeout=10_000)
    text = page.evaluate(SHADOW_TEXT)
    assert "Bokeh note" not in text and "Bokeh markdown" in text and "level" in text
    assert page.evaluate(INJECTED) == {"found": [], "pwned": None}
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate(ON_TOP, "#site-search") is True  # no fixed overlay over the site
    assert page.locator("#site-search").is_visible()  # a global style sheet restyles nothing


def _strings(node):
    """Every string of a Bokeh document but its data and MultiChoice's option values (values:
    what BokehJS shows of them is text, or an option's label)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "options" and isinstance(value, list):
                yield from _strings([option[1] if isinstance(option, list) else option for option in value])
            elif key != "data" or node.get("type") == "object":
                yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def test_E110_E112_bokeh_documents_keep_no_markup_in_their_spec(markup_repo):
    """E110: what the build writes for BokehJS holds no handler, script, {safe} or outside URL
    (but in the data, which BokehJS now shows as text); E112: no HTMLTemplateFormatter (raw
    values as HTML), no Markdown (DOMPurify keeps its styles), no imported style sheet."""
    site = markup_repo / "_site"
    chart = BeautifulSoup((site / "bokeh/index.html").read_text(), "html.parser").select_one(".kr-bokeh")
    spec = json.loads((site / "bokeh" / chart["data-figure"]).resolve().read_text())
    text = "\n".join(_strings(spec))
    assert "Bokeh note" in text and "tip-@y" in text and "level" in text
    for bad in (
        "onerror",
        "onclick",
        "onmouseover",
        "onload",
        "<script",
        "{safe}",
        "evil.example",
        "<%",
        "fixed",
    ):
        assert bad not in text, bad
    names = {
        node for node in _strings(spec) if node in ("HTMLTemplateFormatter", "Markdown", "ImportedStyleSheet")
    }
    assert names == set()


def test_E113_a_bokeh_document_with_defs_shows_its_static_view(markup_repo):
    """E113: a document whose defs declare model subclasses (their behaviour cannot be checked)
    is not drawn: the page shows the output's static view (here the note)."""
    body = BeautifulSoup((markup_repo / "_site/defs/index.html").read_text(), "html.parser").select_one(
        ".report-body"
    )
    assert not body.select(".kr-chart")
    assert (
        body.select_one(".interactive-note").get_text() == "Interactive output: open the notebook to see it."
    )
    assert all("defs-marker" not in p.read_text() for p in (markup_repo / "_site").rglob("*.json"))


def test_E115_report_css_cannot_cover_or_restyle_the_site(markup_site, open_page):
    """E115: a report's <style> and style="" stay inside its body: no fixed overlay, no page-wide
    selector, no box lifted over the header, nothing loaded from elsewhere; its own colours stay."""
    page = open_page
    page.goto(markup_site + "overlay/")
    assert page.locator("#site-search").is_visible() and page.locator(".report-header").is_visible()
    assert page.evaluate(ON_TOP, "#site-search") is True
    assert page.evaluate(ON_TOP, ".report-header h1") is True
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 0, 0)"
    assert page.locator("p.kept").evaluate("e => getComputedStyle(e).color") == "rgb(0, 128, 0)"
    css = " ".join(page.locator(".report-body style").all_text_contents())
    assert "@import" not in css and "evil.example" not in css and "fixed" not in css


def test_E115_report_css_is_parsed_as_a_browser_parses_it():
    """E115, the cases a regex misses: escapes, comments, strings, a selector that starts at the
    body's siblings, at-rules that name things the whole page shares, a <style> in an attribute."""
    from knowrepo.pipeline.render.sanitize import clean_body

    body = clean_body(
        "<style>td { position: \\66ixed; background: u\\72l(https://evil.example/a.png) }"
        " /* */ ~ header, + footer, th, td { color: red } @font-face { font-family: x; src: url(x) }"
        " @keyframes spin { to { color: blue } } @media print { p { position: sticky; color: green } }"
        ' td::after { content: "</style><script>x()</script>" }</style>'
        '<p title="<style>p { position: fixed }</style>" style="color: blue; position: var(--p)">x</p>'
    )
    css = BeautifulSoup(body, "html.parser").select_one("style").get_text()
    assert ".report-body th, .report-body td {color: red}" in css
    assert "@media print {.report-body p {color: green}}" in css
    for gone in ("ixed", "evil.example", "header", "footer", "font-face", "keyframes", "sticky", "</"):
        assert gone not in css, gone
    assert "<script" not in body.replace("&lt;script", "")
    paragraph = BeautifulSoup(body, "html.parser").select_one("p")
    assert paragraph["style"] == "color: blue"
    assert paragraph["title"] == "<style>p { position: fixed }</style>"  # (an attribute's text)


def test_E115_E116_pandas_colours_stay_and_text_headers_align_left(markup_site, open_page):
    """E115: a Styler's colours still show (its CSS scoped to the report body); E116: pandas' own
    <style> right-aligns every header: text headers align left, as their columns do."""
    page = open_page
    page.goto(markup_site + "frames/")
    cell = page.locator(".report-body td", has_text="3400").last
    assert cell.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 0, 0)"
    frame = page.locator(".report-body table.dataframe").first
    align = "e => getComputedStyle(e).textAlign"
    assert frame.locator("thead th", has_text="plan").evaluate(align) == "left"
    assert frame.locator("thead th", has_text="revenue").evaluate(align) == "right"
    assert frame.locator("tbody td", has_text="basic").evaluate(align) == "left"
    assert frame.locator("tbody td", has_text="1200").evaluate(align) == "right"


def _light_dark_declarations() -> list[tuple[str, str, str, str]]:
    """(rule, property, light value, at-rule) for each declaration of style.css that uses light-dark()."""
    import tinycss2

    css = (PROJECT / "themes/default/static/style.css").read_text()
    found = []

    def visit(rules, at: str) -> None:
        for rule in rules:
            if rule.type == "at-rule" and rule.content is not None:
                visit(tinycss2.parse_rule_list(rule.content, True, True), tinycss2.serialize(rule.prelude))
            elif rule.type == "qualified-rule":
                for decl in tinycss2.parse_blocks_contents(rule.content, True, True):
                    if decl.type == "declaration":
                        found.append(
                            (
                                tinycss2.serialize(rule.prelude).strip(),
                                decl.name,
                                tinycss2.serialize(decl.value).strip(),
                                at.strip(),
                            )
                        )

    visit(tinycss2.parse_stylesheet(css, True, True), "")
    return found


def test_E117_every_light_dark_colour_has_a_light_fallback():
    """E117: browsers without light-dark() (Chrome < 123, Safari < 17.5, Firefox < 120) get the
    light palette: each custom property set with light-dark() is set again to its light value in
    @supports not (color: light-dark(...)); each other property is preceded by its light value."""
    declarations = _light_dark_declarations()
    uses = [d for d in declarations if "light-dark(" in d[2] and not d[3].startswith("not")]
    assert len(uses) > 40
    fallbacks = {(d[1], d[2]) for d in declarations if d[3].startswith("not (color: light-dark(")}
    for rule, name, value, _at in uses:
        light = re.sub(r"light-dark\(((?:[^(),]|\([^()]*\))*),(?:[^(),]|\([^()]*\))*\)", r"\1", value).strip()
        if name.startswith("--"):
            assert (name, light) in fallbacks, (rule, name)
        else:
            before = [d for d in declarations if d[0] == rule and d[1] == name]
            assert before[0][2] == light, (rule, name)


def _without_fallbacks(css: str) -> str:
    """The CSS as a browser with light-dark() reads it, had there been no fallback: the
    `@supports not (...light-dark...)` blocks gone, the `@supports (...light-dark...)` ones
    opened (their rules apply there)."""
    import tinycss2

    kept = []
    for rule in tinycss2.parse_stylesheet(css):
        condition = tinycss2.serialize(rule.prelude) if rule.type == "at-rule" else ""
        if "light-dark" not in condition:
            kept.append(tinycss2.serialize([rule]))
        elif not condition.strip().startswith("not"):
            kept.append(tinycss2.serialize(rule.content))
    return "".join(kept)


def test_E117_old_browsers_get_the_light_theme_and_new_ones_are_unchanged(markup_site, browser):
    """E117 in Chromium: with light-dark() unknown (as to a browser without it), a page with code
    looks as the light theme does, on a dark system too (no dark code colours, no toggle); and
    without the fallbacks the page is pixel for pixel what it is with them (light and dark)."""
    from io import BytesIO

    from PIL import Image, ImageChops

    def old_browser(css: str) -> str:  # light-dark() an unknown function (in @supports too)
        return css.replace("light-dark(", "kr-unknown-function(")

    def shot(scheme: str, transform, hide_toggle: bool = False) -> Image.Image:
        context = browser.new_context(
            bypass_csp=True, color_scheme=scheme, viewport={"width": 1100, "height": 800}
        )
        page = context.new_page()

        def restyle(route):
            response = route.fetch()
            route.fulfill(response=response, body=transform(response.text()), content_type="text/css")

        page.route("**/assets/*.css", restyle)
        page.goto(markup_site + "frames/")
        page.wait_for_load_state("networkidle")
        if hide_toggle:  # (old browsers have none: the rest must match)
            page.add_style_tag(content=".theme-toggle { display: none !important; }")
        toggle = page.locator(".theme-toggle").is_visible()
        image = Image.open(BytesIO(page.screenshot(animations="disabled"))).convert("RGB")
        context.close()
        return image, toggle

    def same(a: Image.Image, b: Image.Image) -> bool:
        return ImageChops.difference(a, b).getbbox() is None

    old_light, toggle = shot("light", old_browser)
    old_dark, _ = shot("dark", old_browser)
    assert not toggle and same(old_light, old_dark)  # old browsers: one theme, the light one
    assert same(old_light, shot("light", lambda css: css, hide_toggle=True)[0])
    for scheme in ("light", "dark"):  # new browsers: as before the fallbacks
        assert same(shot(scheme, _without_fallbacks)[0], shot(scheme, lambda css: css)[0]), scheme


def test_E110_bokeh_html_properties_are_those_bokehjs_knows():
    """The Bokeh models and properties the cleaner names exist in the installed bokeh (an upgrade
    that renames one fails here, not silently in a reader's browser)."""
    import bokeh.models  # noqa: F401  (registers every model)
    from bokeh.model import Model

    from knowrepo.pipeline.render.bokehdoc import MODEL_CLEANERS, NAMED_MODELS

    known = Model.model_class_reverse_map
    assert NAMED_MODELS - set(known) == set()
    for name, properties in MODEL_CLEANERS.items():
        for prop in properties:
            assert prop in known[name].properties(), (name, prop)
