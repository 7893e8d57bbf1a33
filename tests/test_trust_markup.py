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


# A box over the whole window, as a report's CSS would lay it over the site.
COVER = (
    "position: fixed; top: 0; left: 0; width: 100vw; height: 100vh; background: rgb(0, 0, 255); z-index: 9"
)
LINK = '<a href="https://evil.example/login">Session expired: sign in again</a>'
# An SVG whose <style> starts with an element: in XML, the text around it is the style sheet.
SVG_STYLE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><style><g/>'
    "@import url(https://evil.example/x.css); svg{background-image:url(https://evil.example/track.png)}"
    '</style><rect width="10" height="10"/></svg>'
)


def _bokeh_output(*roots, placed: int = 1, edit=None) -> dict:
    """A Bokeh show() output as a notebook saves it, made by the real bokeh package (no kernel
    needed): one document holding `roots`, the first `placed` of them given a place on the page;
    `edit(docs)` changes its JSON as a hand-made output could (past bokeh's own validation)."""
    from bokeh.document import Document
    from bokeh.embed.util import standalone_docs_json_and_render_items

    document = Document()
    for root in roots:
        document.add_root(root)
    docs, items = standalone_docs_json_and_render_items(list(roots[:placed]))
    as_json = lambda value: value.to_json() if hasattr(value, "to_json") else str(value)  # noqa: E731
    docs = json.loads(json.dumps(docs, default=as_json))
    if edit is not None:
        edit(docs)
    placed_items = json.dumps([item.to_json() for item in items])
    script = f"const docs_json = {json.dumps(docs)};\nconst render_items = {placed_items};\n"
    data = {"application/javascript": script, "application/vnd.bokehjs_exec.v0+json": ""}
    return {"output_type": "display_data", "metadata": {}, "data": data}


def _models(docs, name: str):
    """Each model named `name` in Bokeh documents' JSON."""
    if isinstance(docs, dict):
        if docs.get("type") == "object" and docs.get("name") == name:
            yield docs
        for value in docs.values():
            yield from _models(value, name)
    elif isinstance(docs, list):
        for item in docs:
            yield from _models(item, name)


def _set(name: str, **attributes):
    """An edit that sets attributes of every `name` model, as a hand-made document could."""

    def edit(docs) -> None:
        for model in _models(docs, name):
            model["attributes"].update(attributes)

    return edit


def _overlay_outputs() -> list[dict]:
    """What BokehJS would draw over the site, outside the report body (E118): a Dialog, Tooltips
    aimed at the site's search box or placed by offsets, restyled to fill the window, a hover
    tooltip with its own <style>, a root the output gives no place; and, for contrast, a widget
    whose help tooltip must still open."""
    from bokeh.layouts import column
    from bokeh.models import (
        Button,
        ByCSS,
        ColumnDataSource,
        Dialog,
        Div,
        HoverTool,
        TextInput,
        ToggleVisibility,
        Tooltip,
    )
    from bokeh.plotting import figure

    restyled = (
        ":host { top: 0 !important; left: 0 !important; width: 100vw !important; height: 100vh !important;"
        " max-width: none !important; max-height: none !important; }"
    )
    dialog = Dialog(
        title="Session expired", content=Div(text=LINK), visible=True, closable=False, stylesheets=[restyled]
    )
    aimed = Tooltip(
        content=Div(text=LINK),
        target=ByCSS(query="#site-search"),
        position="bottom_left",
        visible=True,
        interactive=True,
        stylesheets=[restyled],
        styles={"width": "100vw", "height": "100vh"},
        css_variables={"tooltip-arrow-width": "3000px"},
    )
    offset = Tooltip(content="Offset tooltip", position=(-2000, -2000), visible=True, interactive=True)
    opener = Button(label="Open the tooltip")  # (a reader's click may open it: next to its chart)
    opener.js_on_click(ToggleVisibility(target=aimed))
    helped = TextInput(title="Name", description=Tooltip(content="Your name", position="right"))
    chart = figure(width=300, height=200, x_range=(0, 10), y_range=(0, 10), toolbar_location=None)
    # (the <style> after the div: BokehJS parses the template as a document, a leading one goes to its head)
    template = f"<div style='width: 3000px; height: 3000px'>tip-@y</div><style>{restyled}</style>"
    chart.add_tools(HoverTool(tooltips=template))
    box = ColumnDataSource(dict(left=[0], right=[10], bottom=[0], top=[10], y=[5]))
    chart.quad(left="left", right="right", bottom="bottom", top="top", source=box)
    cover = Div(text=LINK, styles={**dict(d.split(": ") for d in COVER.split("; ")), "position": "absolute"})
    return [
        _bokeh_output(dialog),
        _bokeh_output(column(Div(text="Tooltip host"), aimed, offset, helped, opener)),
        _bokeh_output(chart),
        _bokeh_output(Div(text="Placed root"), cover),
    ]


def _css_text_outputs() -> list[dict]:
    """Bokeh values that BokehJS writes as text into a style sheet (E114): an icon's size and
    name, a drawer's size, css_variables; a Tabler icon (its font from a CDN); and an SVG icon
    whose <style> starts with an element (E119)."""
    from bokeh.models import BuiltinIcon, Button, Div, Drawer, SVGIcon, TablerIcon

    escape = f"1em; }} :host {{ {COVER} }} x {{ y: 0"
    plain_svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    blue_svg = plain_svg.replace("<rect", f"<style><g/>:host {{ {COVER} }}</style><rect")
    return [
        _bokeh_output(Button(label="Sized", icon=SVGIcon(svg=plain_svg)), edit=_set("SVGIcon", size=escape)),
        _bokeh_output(
            Button(label="Named", icon=BuiltinIcon(icon_name="help")),
            edit=_set("BuiltinIcon", icon_name=f"x); }} :host {{ {COVER} }} x {{ y: var(--a"),
        ),
        _bokeh_output(
            Drawer(location="left", elements=[Div(text="Drawn")]), edit=_set("Drawer", size=escape)
        ),
        _bokeh_output(Div(text="Variables", css_variables={"x": f"1; {COVER}", "y": "1 }"})),
        _bokeh_output(Button(label="Tabler", icon=TablerIcon(icon_name="home"))),
        _bokeh_output(Button(label="Blue", icon=SVGIcon(svg=blue_svg))),
    ]


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
    for name, outputs in (("overlays", _overlay_outputs()), ("csstext", _css_text_outputs())):
        cells = [("code", f"show({index})") for index in range(len(outputs))]
        write_notebook(
            repo / f"reports/{name}.ipynb",
            cells,
            front=f"title: {name}",
            outputs={index: [output] for index, output in enumerate(outputs)},
        )
    svg = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/svg+xml": SVG_STYLE, "text/plain": "<svg>"},
    }
    write_notebook(repo / "reports/svgstyle.ipynb", [("code", "svg")], front="title: SVG", outputs={0: [svg]})
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
    fallbacks_by_rule = {d[:3] for d in declarations if d[3].startswith("not (color: light-dark(")}
    fallbacks = {(name, value) for _rule, name, value in fallbacks_by_rule}
    for rule, name, value, _at in uses:
        light = re.sub(r"light-dark\(((?:[^(),]|\([^()]*\))*),(?:[^(),]|\([^()]*\))*\)", r"\1", value).strip()
        if name.startswith("--") and rule.startswith(":root"):
            assert (name, light) in fallbacks, (rule, name)
        elif name.startswith("--"):  # a property set per element (a callout's kind) falls back there
            assert (rule, name, light) in fallbacks_by_rule, (rule, name)
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


SITE_PARTS = (".topbar", "#site-search", ".report-header h1", "footer")

# What BokehJS drew at the end of <body>, outside the report body, that has a size.
AT_THE_END = """() => [...document.body.children]
  .filter(e => e.shadowRoot || /\\bbk-/.test(e.className))
  .filter(e => { const box = e.getBoundingClientRect(); return box.width * box.height > 0; })
  .map(e => e.className || e.tagName)"""

# The boxes of BokehJS's tooltips (at the end of <body>, in the top layer) and their text.
TOOLTIPS = """() => {
  const text = root => [...root.querySelectorAll('*')].map(e => e.shadowRoot ? text(e.shadowRoot) : '')
    .join('') + root.textContent;
  return [...document.querySelectorAll('body > .bk-Tooltip')].map(e => {
    const box = e.getBoundingClientRect();
    return {text: text(e.shadowRoot), top: box.top, width: box.width, height: box.height};
  });
}"""

# Every element of the report body, shadow roots included, that is positioned fixed.
FIXED = """() => {
  const found = [];
  const walk = root => {
    for (const el of root.querySelectorAll('*')) {
      if (getComputedStyle(el).position === 'fixed') found.push(el.tagName + '.' + el.className);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document.querySelector('.report-body'));
  return found;
}"""


def _site_on_top(page) -> dict[str, bool]:
    """For each part of the site around the report body: whether it is what lies at its centre."""
    found = {}
    for selector in SITE_PARTS:
        page.locator(selector).first.scroll_into_view_if_needed()
        found[selector] = page.evaluate(ON_TOP, selector)
    return found


def test_E118_nothing_bokeh_draws_covers_the_site(markup_repo, markup_site, open_page):
    """E118: what BokehJS draws at the end of <body> or in the top layer, outside the report
    body, never covers the site: a Dialog's output shows its static view; a Tooltip model opens
    only from its widget, next to its own chart, unstyled by the report; a hover tooltip's box is
    bounded; a root the output gives no place is drawn in the chart's own box; and a box any
    chart library positions fixed stays inside the report body."""
    body = BeautifulSoup((markup_repo / "_site/overlays/index.html").read_text(), "html.parser")
    assert len(body.select(".report-body .kr-bokeh")) == 3  # (not the Dialog's)
    page = open_page
    page.goto(markup_site + "overlays/")
    page.wait_for_function("() => document.querySelectorAll('.kr-bokeh.drawn').length === 3", timeout=10_000)
    assert _site_on_top(page) == dict.fromkeys(SITE_PARTS, True)
    assert page.evaluate(AT_THE_END) == []
    _hover(page, page.locator(".bk-Figure").first)  # a hover tooltip with its own <style> and a huge box
    page.wait_for_function(f"() => ({SHADOW_TEXT})().includes('tip-5')", polling=100, timeout=10_000)
    [tip] = [tip for tip in page.evaluate(TOOLTIPS) if "tip-5" in tip["text"]]
    assert tip["width"] <= 600 and tip["height"] <= 450, tip
    _hover(page, page.locator(".bk-TextInput .bk-description"))  # a widget's help still opens
    page.wait_for_function(f"() => ({TOOLTIPS})().some(t => t.text.includes('Your name'))", polling=100)
    page.get_by_role("button", name="Open the tooltip").click()  # aimed at the search box by a selector
    page.wait_for_function(f"() => ({TOOLTIPS})().some(t => t.text.includes('Session expired'))", polling=100)
    [opened] = [tip for tip in page.evaluate(TOOLTIPS) if "Session expired" in tip["text"]]
    assert opened["top"] >= page.locator(".topbar").bounding_box()["height"], opened
    assert opened["width"] <= 600 and opened["height"] <= 450, opened
    page.mouse.move(5, 5)
    cover = f"'<div style=\"{COVER}\"></div>'"  # (as a chart library might position a box)
    page.evaluate(f"() => document.querySelector('.report-body').insertAdjacentHTML('beforeend', {cover})")
    assert _site_on_top(page) == dict.fromkeys(SITE_PARTS, True)


def test_E114_bokeh_values_written_into_style_sheets_stay_values(markup_repo, markup_site, open_page):
    """E114: the Bokeh values BokehJS writes as text into a style sheet (an icon's size and name,
    a drawer's size, css_variables) cannot end their rule and start another (a fixed cover);
    a Tabler icon loads no font from a CDN."""
    from knowrepo.pipeline.render.css import safe_declaration

    assert not safe_declaration("color", "red }") and not safe_declaration("--x", "1 }")  # (`}` ends a rule)
    page = open_page
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
    page.goto(markup_site + "csstext/")
    page.wait_for_function("() => document.querySelectorAll('.kr-bokeh.drawn').length === 6", timeout=10_000)
    page.get_by_text("Drawn").wait_for(state="attached")
    assert page.evaluate(FIXED) == []
    assert _site_on_top(page) == dict.fromkeys(SITE_PARTS, True)
    assert outside == []
    site = markup_repo / "_site"
    specs = [
        (site / "csstext" / c["data-figure"]).resolve().read_text()
        for c in BeautifulSoup((site / "csstext/index.html").read_text(), "html.parser").select(".kr-bokeh")
    ]
    assert not any("fixed" in spec or "TablerIcon" in spec for spec in specs)


def test_E119_a_style_element_keeps_only_its_text_all_of_it_cleaned(markup_repo):
    """E119: a <style> whose first child is an element (in XML, SVG's, the text around it is the
    style sheet) keeps only its text, cleaned as a whole; in HTML too, nothing of an outside URL
    or an @import stays in what the CSS parser reads as a selector."""
    from knowrepo.pipeline.render.sanitize import clean_body, clean_svg

    for svg in (
        SVG_STYLE,
        SVG_STYLE.replace("<g/>", "<g>svg{}</g>"),
        SVG_STYLE.replace("<g/>", "<style/>"),
        SVG_STYLE.replace("<style><g/>", "<style>svg{}<g/><g/>"),
    ):
        cleaned = clean_svg(svg.encode()).decode()
        assert "evil.example" not in cleaned and "@import" not in cleaned, svg
        assert re.search(r"<style>[^<]*</style>", cleaned), cleaned
    html = clean_body(
        "<style><g/>@import url(https://evil.example/x.css); p {color: red} td {color: blue}</style>"
    )
    assert "evil.example" not in html and "@import" not in html and ".report-body td {color: blue}" in html
    [image] = BeautifulSoup((markup_repo / "_site/svgstyle/index.html").read_text(), "html.parser").select(
        ".report-body img"
    )
    published = (markup_repo / "_site/svgstyle" / image["src"]).resolve().read_text()
    assert "evil.example" not in published and "@import" not in published


def test_E119_svg_styles_load_and_cover_nothing_in_chromium(markup_repo, markup_site, open_page):
    """E119 in Chromium: the SVG file opened at its own URL asks nothing from elsewhere (the
    fixture fails the test if it does); an SVG icon's style does not turn its button into a
    cover."""
    page = open_page
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)
    [image] = BeautifulSoup((markup_repo / "_site/svgstyle/index.html").read_text(), "html.parser").select(
        ".report-body img"
    )
    page.goto(markup_site + "svgstyle/" + image["src"])
    page.wait_for_load_state("networkidle")
    assert outside == []
    page.goto(markup_site + "csstext/")
    page.wait_for_function("() => document.querySelectorAll('.kr-bokeh.drawn').length === 6", timeout=10_000)
    button = page.locator(".bk-Button", has_text="Blue")
    style = button.evaluate("e => [getComputedStyle(e).position, getComputedStyle(e).backgroundColor]")
    assert style[0] != "fixed" and style[1] != "rgb(0, 0, 255)", style


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


def test_E118_every_bokeh_selector_is_known():
    """E118: a Tooltip may not be aimed by a selector at the site's own elements: every selector
    model of the installed bokeh is one the cleaner knows (an upgrade that adds one fails here)."""
    import bokeh.models  # noqa: F401  (registers every model)
    from bokeh.model import Model
    from bokeh.models.selectors import Selector

    from knowrepo.pipeline.render.bokehdoc import _SELECTORS

    known = {name for name, cls in Model.model_class_reverse_map.items() if issubclass(cls, Selector)}
    assert known - {"Selector"} == _SELECTORS
