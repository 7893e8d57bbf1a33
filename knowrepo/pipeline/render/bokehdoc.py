"""Bokeh documents cleaned of markup before the site's BokehJS draws them ([site] sanitize).

BokehJS writes some string properties into the page as HTML and applies a model's CSS to the
page. The HTML a report puts there is cleaned as any HTML output is (sanitize.clean_html), its
CSS as any report CSS (css.py). (Plotly and Vega escape or allowlist the HTML in their text.)
The properties are the places where BokehJS 3 sets innerHTML, parses HTML or SVG, or hands a
string to a library that does (read in its bundles, 3.9):
- Div.text; with render_as_text it is set as escaped HTML instead (a SetValue callback could
  switch render_as_text off once the page is open);
- bokeh.models.dom.HTML.html, as one string or in list form;
- HoverTool.tooltips, as a template or in list form (the values; the labels are text). A
  `{safe}` format would put a data value in as HTML: it is dropped; so is a <style> (it would
  restyle the tooltip's own box, in the top layer);
- TableColumn.title (its field, when it has none) and DataTable.index_header (SlickGrid's
  headers); HTMLTemplateFormatter's template, an underscore template that puts values in as
  HTML and needs eval (which the site's policy refuses): a StringFormatter takes its place;
- Markdown.text (marked, then DOMPurify, which keeps styles): made HTML here, a Div;
- MultiChoice.options and placeholder (Choices.js with allowHTML);
- a slider's format and categories (noUiSlider writes its tooltips as HTML): cleaned; a slider
  formatted by a TickFormatter model shows no tooltip;
- SVGIcon.svg (parsed as SVG): cleaned as an SVG file is;
- Paragraph and PreText (HTML only with MathJax, fetched from a CDN): math off.
Everything else is set as text or drawn on a canvas (titles, legends, axes, labels, buttons,
tooltip labels, dom.Text, dom.ValueRef, HTML annotations, tooltips' content strings).

CSS: every model's `styles` and `stylesheets`, dom elements' `style`, and `html_attributes`
(only the attributes any sanitized element may have). A GlobalInlineStyleSheet goes into the
page's <head>: its rules are put under the report body; an imported style sheet (a URL) is
emptied, and a TablerIcon (its font from a CDN) is a BuiltinIcon. Values BokehJS writes as
text into a style sheet, unchecked: `css_variables` (`:host { --name: value; }`), an icon's
`size` and a BuiltinIcon's `icon_name`, a Drawer's `size`: each stays one value (no `}` ending
its rule). A SetValue callback sets a property when clicked: its value is cleaned as that
property's is.

Over the page: BokehJS draws some boxes at the end of <body>, outside the report body (whose
box clips everything else a chart draws): a Dialog, fixed over the whole window, and tooltips,
in the top layer. A document with a Dialog, or with `defs` (DataModel subclasses: BokehJS
builds their classes from the document, defaults and all, where no cleaner sees them), shows
its static view (static_only). A Tooltip opens only as its widget opens it (see the
tooltips section below); site.js gives BokehJS the chart's own box for any root the
output does not place.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

from knowrepo.pipeline.render.css import BODY_SCOPE, clean_stylesheet, safe_declaration
from knowrepo.pipeline.render.markdown import render_markdown
from knowrepo.pipeline.render.sanitize import clean_html, clean_svg, plain_attribute

Cleaner = Callable[[Any], Any]
_EMPTY_SVG = '<svg xmlns="http://www.w3.org/2000/svg"></svg>'
_SLIDERS = (
    "Slider",
    "RangeSlider",
    "DateSlider",
    "DateRangeSlider",
    "DatetimeRangeSlider",
    "CategoricalSlider",
)


def static_only(docs: dict[str, Any]) -> bool:
    """Whether the documents can be shown only as their output's static view: one declares
    model subclasses (its `defs`: their defaults and behaviour live in the document, where no
    property cleaner sees them), or holds a model BokehJS draws over the whole page (a Dialog:
    fixed, at the end of <body>, outside the report body, by design)."""
    if any(isinstance(doc, dict) and doc.get("defs") for doc in docs.values()):
        return True
    return any(node["name"] in _OVER_THE_PAGE for node in _objects(docs))


def clean_documents(docs: dict[str, Any]) -> None:
    """Every model of the documents cleaned in place (see the module's doc)."""
    objects = list(_objects(docs))
    index = {node["id"]: node for node in objects if isinstance(node.get("id"), str)}
    names = {key: node["name"] for key, node in index.items()}  # (as written: some are renamed)
    for node in objects:
        _clean_model(node, index, names)


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    """Each model in a document: every occurrence, since a later one with the same id sets its
    attributes again."""
    if isinstance(node, list):
        for item in node:
            yield from _objects(item)
    elif isinstance(node, dict):
        if node.get("type") == "object" and isinstance(node.get("name"), str):
            yield node
        for value in node.values():
            yield from _objects(value)


def _clean_model(node: dict[str, Any], index: dict[str, dict[str, Any]], names: dict[str, str]) -> None:
    name = node["name"]
    attributes = node.get("attributes")
    if not isinstance(attributes, dict):
        attributes = node["attributes"] = {}
    if fix := _FIXES.get(name):
        fix(attributes)
    for prop, value in list(attributes.items()):
        if (clean := property_cleaner(name, prop, index)) is not None:
            attributes[prop] = clean(value)
    if name == "SetValue":
        _clean_set_value(attributes, index, names)
    node["name"] = _RENAMED.get(name, name)
    if name in _RENAMED:  # (an HTMLTemplateFormatter's template is no StringFormatter's property)
        attributes.pop("template", None)


def property_cleaner(model: str, prop: str, index: dict[str, dict[str, Any]]) -> Cleaner | None:
    """How a value of `model.prop` is cleaned (None: BokehJS shows it as text, or runs nothing)."""
    if (clean := MODEL_CLEANERS.get(model, {}).get(prop)) is not None:
        return clean
    if model == "Tooltip" and prop == "target":
        return lambda value: _tooltip_target(value, index)
    if prop == "styles" or (prop == "style" and model.startswith("bokeh.models.dom.")):
        return _styles
    if prop == "stylesheets":
        return lambda value: _stylesheets(value, index)
    if prop == "css_variables":
        return _css_variables
    if prop == "html_attributes":
        return _html_attributes
    return None


def _clean_set_value(
    attributes: dict[str, Any], index: dict[str, dict[str, Any]], names: dict[str, str]
) -> None:
    """A SetValue callback's value cleaned as the property it sets; one that would give a slider
    back its tooltip (or a TickFormatter) sets nothing that matters (the model's name)."""
    target = attributes.get("obj")
    model = None
    if isinstance(target, dict):  # (an id that is no string names no model: its own name stands)
        ident = target.get("id")
        model = names.get(ident, target.get("name")) if isinstance(ident, str) else target.get("name")
    prop = attributes.get("attr")
    if not isinstance(model, str):
        return
    if not isinstance(prop, str) or "value" not in attributes:
        return
    if model in _SLIDERS and prop in ("tooltips", "format"):
        attributes.update(attr="name", value=None)
    elif (clean := property_cleaner(model, prop, index)) is not None:
        attributes["value"] = clean(attributes["value"])


# -- HTML ----------------------------------------------------------------------------------


def _html(value: Any) -> Any:
    return clean_html(value) if isinstance(value, str) else value


def _dom_html(value: Any) -> Any:
    """dom.HTML's markup: a string, or a list of strings and models (BokehJS joins them, each
    model as a `<ref id>` it fills in). Each string is well-formed once cleaned, so no join of
    them makes markup."""
    if isinstance(value, list):
        return [_tooltip_html(item, keep_refs=True) if isinstance(item, str) else item for item in value]
    return _tooltip_html(value, keep_refs=True) if isinstance(value, str) else value


def _tooltip_html(value: str, keep_refs: bool = False) -> str:
    """HTML that BokehJS may put in a tooltip (hover templates, dom nodes): cleaned, and without
    <style>, whose `:host` rules would restyle the tooltip's own box (see "tooltips" below)."""
    return clean_html(value, keep_refs=keep_refs, keep_styles=False)


def _template(value: Any) -> Any:
    """A hover template: HTML in which `@column` values are escaped, unless `{safe}`."""
    if not isinstance(value, str):
        return value
    while "{safe}" in value:  # (`{sa{safe}fe}` is `{safe}` once the inner one goes)
        value = value.replace("{safe}", "")
    return _tooltip_html(value)


def _tooltips(value: Any) -> Any:
    """HoverTool.tooltips: a template, or (label, template) pairs; a dom model is cleaned as a model."""
    if isinstance(value, list):
        return [
            [pair[0], _template(pair[1])] if isinstance(pair, list) and len(pair) == 2 else pair
            for pair in value
        ]
    return _template(value)


def _options(value: Any) -> Any:
    """MultiChoice's options: a label is HTML (a plain option is its own label); values stay."""
    if not isinstance(value, list):
        return value
    cleaned = []
    for option in value:
        if isinstance(option, str) and clean_html(option) != option:
            option = [option, clean_html(option)]
        elif isinstance(option, list) and len(option) == 2:
            option = [option[0], _html(option[1])]
        cleaned.append(option)
    return cleaned


def _categories(value: Any) -> Any:
    return [_html(item) for item in value] if isinstance(value, list) else value


def _svg(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    svg = clean_svg(value.encode("utf-8", "replace"))
    return svg.decode() if svg is not None else _EMPTY_SVG


def _markdown(value: Any) -> Any:
    """Markdown as the site renders it (raw HTML cleaned, math as MathML), for a Div."""
    return render_markdown(value, sanitize=True) if isinstance(value, str) else value


# -- CSS -----------------------------------------------------------------------------------


def _entries(value: Any) -> list[tuple[Any, Any]] | None:
    """A Bokeh mapping's items: {"type": "map", "entries": [...]} or a plain object."""
    if isinstance(value, dict) and value.get("type") == "map" and isinstance(value.get("entries"), list):
        return [tuple(e) for e in value["entries"] if isinstance(e, list) and len(e) == 2]
    if isinstance(value, dict) and "type" not in value and "id" not in value:
        return list(value.items())
    return None


def _css_name(key: str) -> str:
    """A style's CSS property, as BokehJS names it (snake_case and camelCase to kebab-case)."""
    return re.sub(r"[A-Z]", lambda m: "-" + m.group().lower(), key.replace("_", "-"))


def _styles(value: Any) -> Any:
    """A style mapping without the declarations that escape the element's box or load."""
    entries = _entries(value)
    if entries is None:
        return value  # (a Styles model: cleaned as a model)
    kept = [(k, v) for k, v in entries if not isinstance(v, str) or safe_declaration(_css_name(str(k)), v)]
    return {"type": "map", "entries": [list(e) for e in kept]}


def _style_pairs(styles: Any, index: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """The (property, value) pairs of a style mapping or a Styles model (by id too)."""
    if isinstance(styles, dict) and styles.get("type") != "map" and "id" in styles:
        styles = (index.get(styles["id"]) or styles).get("attributes") or {}
    return [(_css_name(str(k)), v) for k, v in (_entries(styles) or []) if isinstance(v, str)]


def _stylesheets(value: Any, index: dict[str, dict[str, Any]]) -> Any:
    """A model's own style sheets (inside its shadow root): CSS text cleaned, and each
    {selector: styles} mapping (which BokehJS joins as text) rewritten as cleaned CSS text."""
    if not isinstance(value, list):
        return value
    cleaned = []
    for sheet in value:
        if isinstance(sheet, str):
            sheet = clean_stylesheet(sheet)
        elif (rules := _entries(sheet)) is not None:
            css = "\n".join(
                f"{selector} {{{'; '.join(f'{k}: {v}' for k, v in _style_pairs(styles, index))}}}"
                for selector, styles in rules
            )
            sheet = clean_stylesheet(css)
        cleaned.append(sheet)
    return cleaned


def _css_variables(value: Any) -> Any:
    """css_variables, which BokehJS writes as text into a `:host { --name: value; }` rule:
    only names that are names, and values that are one declaration's and load nothing."""
    entries = _entries(value)
    if entries is None:
        return value
    kept = []
    for name, variable in entries:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            continue
        full = name if name.startswith("--") else f"--{name}"
        if not isinstance(variable, str) or safe_declaration(full, variable):  # (a Node: a number)
            kept.append([name, variable])
    return {"type": "map", "entries": kept}


def _length(default: Any) -> Cleaner:
    """A size BokehJS writes as text into a style sheet (an icon's, a drawer's): a number, or
    one CSS length (`2em`, `50%`); anything else is the default."""

    def clean(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        return value if isinstance(value, str) and _one_length(value) else default

    return clean


def _one_length(text: str) -> bool:
    import tinycss2  # (tinycss2: only where report CSS is read)

    tokens = tinycss2.parse_component_value_list(text, skip_comments=True)
    tokens = [token for token in tokens if token.type != "whitespace"]
    return len(tokens) == 1 and tokens[0].type in ("dimension", "percentage", "number")


def _icon_name(value: Any) -> Any:
    """A BuiltinIcon's name, which BokehJS writes into `var(--bokeh-icon-<name>)`."""
    return value if isinstance(value, str) and _NAME.fullmatch(value) else "unknown"


def _no_map(value: Any) -> Any:
    return {"type": "map", "entries": []}


def _no_sheets(value: Any) -> Any:
    return []


# -- tooltips ------------------------------------------------------------------------------
# BokehJS shows a tooltip at the end of <body>, in the page's top layer (a popover): nothing of
# the report body clips it or stacks over it. So a Tooltip model opens only as its widget or
# button opens it (hovering its help icon), next to an element of its own chart, with no CSS
# of the report's on its box (style.css bounds that box's size).


def _hidden(value: Any) -> bool:
    return False


def _anchor(value: Any) -> Any:
    """A tooltip's position: an anchor on its target (`right`), never offsets or coordinates,
    which could place it anywhere on the page (None: it does not show)."""
    return value if isinstance(value, str) else None


def _tooltip_target(value: Any, index: dict[str, dict[str, Any]]) -> Any:
    """A tooltip's target: its parent, or a model of the chart; never a CSS or XPath selector,
    which could aim it at the site's own elements (the search box)."""
    ref = value.get("id") if isinstance(value, dict) else None
    model = index.get(ref, value) if isinstance(ref, str) else value  # (a ref, or the model itself)
    name = model.get("name") if isinstance(model, dict) else None
    return "auto" if name in _SELECTORS else value


def _html_attributes(value: Any) -> Any:
    entries = _entries(value)
    if entries is None:
        return value
    kept = []
    for key, attribute in entries:
        safe = (
            plain_attribute(key.lower(), attribute)
            if isinstance(key, str) and isinstance(attribute, str)
            else None
        )
        if safe is not None:
            kept.append([key.lower(), safe])
    return {"type": "map", "entries": kept}


def _styles_model(attributes: dict[str, Any]) -> None:
    for key, value in list(attributes.items()):
        if isinstance(value, str) and not safe_declaration(_css_name(key), value):
            attributes[key] = None


def _inline_sheet(attributes: dict[str, Any]) -> None:
    if isinstance(attributes.get("css"), str):
        attributes["css"] = clean_stylesheet(attributes["css"])


def _global_sheet(attributes: dict[str, Any]) -> None:
    if isinstance(attributes.get("css"), str):
        attributes["css"] = clean_stylesheet(attributes["css"], BODY_SCOPE)


def _imported_sheet(attributes: dict[str, Any]) -> None:
    attributes.pop("url", None)
    attributes["css"] = ""


# -- model-level fixes ---------------------------------------------------------------------


def _div(attributes: dict[str, Any]) -> None:
    if attributes.get("render_as_text") is True and isinstance(attributes.get("text"), str):
        attributes.update(text=html.escape(attributes["text"]), render_as_text=False)


def _no_math(attributes: dict[str, Any]) -> None:
    attributes["disable_math"] = True


def _table_column(attributes: dict[str, Any]) -> None:
    if attributes.get("title") is None and isinstance(attributes.get("field"), str):
        attributes["title"] = attributes["field"]  # (SlickGrid shows the field as HTML then)


def _tabler_icon(attributes: dict[str, Any]) -> None:
    attributes["icon_name"] = "unknown"  # (its font comes from a CDN: a BuiltinIcon in its place)


def _slider(attributes: dict[str, Any]) -> None:
    if "format" in attributes and not isinstance(attributes["format"], str | None):
        attributes["tooltips"] = False  # a TickFormatter model: its text is not checked here


_FIXES: dict[str, Callable[[dict[str, Any]], None]] = {
    "Div": _div,
    "Paragraph": _no_math,
    "PreText": _no_math,
    "TableColumn": _table_column,
    "Styles": _styles_model,
    "InlineStyleSheet": _inline_sheet,
    "GlobalInlineStyleSheet": _global_sheet,
    "ImportedStyleSheet": _imported_sheet,
    "GlobalImportedStyleSheet": _imported_sheet,
    "TablerIcon": _tabler_icon,
    **dict.fromkeys(_SLIDERS, _slider),
}
# Models BokehJS would draw in a way no cleaning makes safe, and what takes their place.
_RENAMED = {
    "HTMLTemplateFormatter": "StringFormatter",
    "Markdown": "Div",
    "ImportedStyleSheet": "InlineStyleSheet",
    "GlobalImportedStyleSheet": "GlobalInlineStyleSheet",
    "TablerIcon": "BuiltinIcon",
}
# Models BokehJS draws over the whole page, outside the report body: see static_only.
_OVER_THE_PAGE = frozenset({"Dialog"})
# The models a Tooltip's target may name that find an element anywhere in the page.
_SELECTORS = frozenset({"ByCSS", "ByClass", "ByID", "ByXPath"})
_NAME = re.compile(r"[\w-]+", re.ASCII)  # a CSS name, without escapes (`--x: 1 }` is no name)

# Each model's properties that BokehJS writes into the page as HTML (or SVG) or into a style
# sheet as text, or that would show a tooltip over the page; and their cleaning.
MODEL_CLEANERS: dict[str, dict[str, Cleaner]] = {
    "Div": {"text": _html},
    "Markdown": {"text": _markdown},
    "bokeh.models.dom.HTML": {"html": _dom_html},
    "HoverTool": {"tooltips": _tooltips},
    "TableColumn": {"title": _html},
    "DataTable": {"index_header": _html},
    "DataCube": {"index_header": _html},
    "MultiChoice": {"options": _options, "placeholder": _html},
    "SVGIcon": {"svg": _svg, "size": _length("1em")},
    "BuiltinIcon": {"icon_name": _icon_name, "size": _length("1em")},
    "TablerIcon": {"icon_name": _icon_name, "size": _length("1em")},  # (a SetValue names it so)
    "Drawer": {"size": _length(300)},
    "Tooltip": {
        "visible": _hidden,
        "position": _anchor,
        "styles": _no_map,
        "stylesheets": _no_sheets,
        "css_variables": _no_map,
        "html_attributes": _no_map,
    },
    **{slider: {"format": _html} for slider in _SLIDERS if slider != "CategoricalSlider"},
    "CategoricalSlider": {"categories": _categories, "value": _html},
}
# Every model this module names (a test checks them against the installed bokeh's).
NAMED_MODELS = frozenset(
    {*MODEL_CLEANERS, *_FIXES, *_RENAMED, *_RENAMED.values(), *_OVER_THE_PAGE, *_SELECTORS, "SetValue"}
)
