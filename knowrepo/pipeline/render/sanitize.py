"""[site] sanitize: report HTML and SVG as content that cannot run script in a reader's browser.

HTML goes through nh3 (the Rust ammonia sanitizer): tables, images, headings, links, lists,
details, the <style> and style attributes pandas' Styler and matplotlib emit stay; scripts,
event handlers, javascript: URLs, iframes, objects, forms and embeds go. The CSS that stays is
cleaned by css.py: nothing in it escapes the report's box or loads from elsewhere, and in the
whole body (clean_body) every selector of a <style> is put under the report body. knowrepo's own
markup (MathML from TeX, anchors, code highlighting) is added after this step, from text it
escapes itself, so it never needs to pass it.

SVG files (plots written as files) are cleaned here by hand with the standard library's XML
parser: nh3 parses HTML, not standalone SVG documents, and an SVG opened at its own URL runs
its scripts with the site's origin. XML has no raw-text elements: an SVG <style> keeps its
text alone, all of it cleaned (see _clean_style).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # expat: entity expansion is capped, no external entities

from knowrepo.pipeline.render.css import (
    BODY_SCOPE,
    DATA_IMAGE,
    clean_declarations,
    clean_stylesheet,
    loads_elsewhere,
)

_TAGS = {
    "a", "abbr", "acronym", "b", "bdi", "bdo", "blockquote", "br", "caption", "center", "cite",
    "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp",
    "section", "small", "span", "strike", "strong", "style", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
}  # fmt: skip
_DROPPED_WITH_CONTENT = {
    "script", "iframe", "object", "embed", "noscript", "template", "title", "textarea", "select",
    "button", "applet", "frame", "frameset", "noembed", "math", "svg",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"class", "id", "style", "title", "lang", "dir", "role", "align", "valign", "width", "height"},
    "a": {"href", "name"},
    "img": {"src", "alt", "loading"},
    "td": {"colspan", "rowspan", "headers", "scope", "nowrap"},
    "th": {"colspan", "rowspan", "headers", "scope", "nowrap"},
    "table": {"border", "cellpadding", "cellspacing", "summary", "frame", "rules"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "time": {"datetime"},
    "details": {"open"},
    "font": {"color", "face", "size"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "ins": {"cite", "datetime"},
    "del": {"cite", "datetime"},
}
# In HTML as nh3 writes it, a tag (its quoted attribute values whole), or a <style> element
# with its raw text (the parser ended it at the first `</style`): a `<style` inside an attribute
# value is part of its tag, never taken for an element.
_TAG_OR_STYLE = re.compile(r'(<style\b(?:[^>"]|"[^"]*")*>)(.*?)(</style>)|<(?:[^>"]|"[^"]*")*>', re.S | re.I)


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """data: URLs only as the source of an image (an <img> never runs what it shows); style=""
    only with declarations that keep to the element's box and load nothing."""
    if name in ("href", "src", "cite") and value.strip().lower().startswith("data:"):
        return value if tag == "img" and name == "src" and DATA_IMAGE.match(value.strip()) else None
    if name == "style":
        return clean_declarations(value) or None
    return value


def clean_html(fragment: str, keep_refs: bool = False, keep_styles: bool = True) -> str:
    """`fragment` without anything that can run script, load from elsewhere, or (in its CSS)
    place a box outside its own. `keep_refs`: Bokeh's <ref id> placeholders stay (bokeh's
    dom.HTML puts its child models there). Without `keep_styles`, <style> elements go with
    their text (HTML BokehJS puts in a tooltip, where a `:host` rule would restyle the
    tooltip's own box, which lies over the page)."""
    tags, dropped = _TAGS, _DROPPED_WITH_CONTENT
    if not keep_styles:
        tags, dropped = tags - {"style"}, dropped | {"style"}
    if keep_refs:
        return _clean(fragment, tags | {"ref"}, dropped, {**_ATTRIBUTES, "ref": {"id"}})
    return _clean(fragment, tags, dropped, _ATTRIBUTES)


def plain_attribute(name: str, value: str) -> str | None:
    """The value an attribute any element may carry keeps once cleaned (None: it goes), for
    attributes set outside HTML (a Bokeh model's html_attributes)."""
    if name not in _ATTRIBUTES["*"] and not name.startswith("aria-"):
        return None
    return _filter_attribute("*", name, value)


def _clean(
    html: str, tags: set[str], dropped: set[str], attributes: dict[str, set[str]], scope: str | None = None
) -> str:
    import nh3  # (nh3: only where HTML is cleaned)

    cleaned = nh3.clean(
        html,
        tags=tags,
        clean_content_tags=dropped,
        attributes=attributes,
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto", "data"},
        generic_attribute_prefixes={"aria-"},
        link_rel=None,
        strip_comments=True,
        set_tag_attribute_values=_SET_ATTRIBUTES if "input" in tags else None,
    )
    if "<input" in cleaned:
        cleaned = _INPUT.sub(_checkbox, cleaned)
    if "<style" not in cleaned:
        return cleaned

    def restyle(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)
        return match.group(1) + clean_stylesheet(match.group(2), scope) + match.group(3)

    return _TAG_OR_STYLE.sub(restyle, cleaned)


MATHML_TAGS = {
    "math", "mrow", "mi", "mo", "mn", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac",
    "msqrt", "mroot", "mstyle", "merror", "mpadded", "mphantom", "mfenced", "menclose", "munder",
    "mover", "munderover", "mtable", "mtr", "mtd", "mlabeledtr", "mmultiscripts", "mprescripts",
    "none", "semantics", "annotation",
}  # fmt: skip
MATHML_ATTRIBUTES = {
    "xmlns", "display", "alttext", "mathvariant", "mathsize", "stretchy", "fence", "separator",
    "lspace", "rspace", "accent", "accentunder", "columnalign", "rowalign", "columnspacing",
    "rowspacing", "columnlines", "rowlines", "frame", "width", "height", "depth", "linethickness",
    "displaystyle", "scriptlevel", "open", "close", "separators", "notation", "minsize", "maxsize",
    "movablelimits", "largeop", "symmetric", "form", "encoding", "columnspan", "rowspan",
    "class", "id",  # (equation numbers and references: tex.py)
    "mathcolor", "mathbackground", "voffset",  # (\color, \colorbox, \xrightarrow: MathJax draws them)
}  # fmt: skip


def clean_mathml(mathml: str) -> str:
    """MathML as latex2mathml made it, with nothing but MathML in it: latex2mathml copies the
    text of \\text{...} as it is, so `\\text{<script>}` would otherwise be markup."""
    import nh3  # (nh3: only where HTML is cleaned)

    return nh3.clean(
        mathml,
        tags=MATHML_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT - {"math"},
        attributes={tag: MATHML_ATTRIBUTES for tag in MATHML_TAGS},
        url_schemes=set(),
        link_rel=None,
    )


# The whole rendered body: what report HTML may hold, plus the markup knowrepo itself makes
# (MathML, heading anchors, focusable scroll areas, search hints). Run last, after every step
# that edits the HTML as text, so that no such edit can make markup of text.
_BODY_TAGS = _TAGS | MATHML_TAGS | {"input"}
_BODY_ATTRIBUTES = {
    **{tag: MATHML_ATTRIBUTES for tag in MATHML_TAGS},
    **_ATTRIBUTES,
    "*": _ATTRIBUTES["*"] | {"tabindex", "data-pagefind-ignore", "data-pagefind-body", "aria-hidden"},
    "div": _ATTRIBUTES.get("div", set()) | {"data-figure"},  # a Plotly figure's JSON (site.js checks it)
    "img": _ATTRIBUTES["img"] | {"width", "height"},
    "input": {"type", "checked", "disabled"},  # a task list's checkbox (see _SET_ATTRIBUTES)
}


# Every <input> a disabled checkbox, a task list's box (all Markdown makes): an <input> with no
# type, or type="text", would be a text field on the page asking the reader for anything.
_SET_ATTRIBUTES = {"input": {"type": "checkbox", "disabled": ""}}
# nh3 writes an element's attributes in no fixed order (a hash map): each <input> is written
# again in one order, so that a page's bytes, and the caches keyed on them, stay the same.
# (nh3 writes every value in double quotes, with `"` escaped: an attribute is name="value".)
_INPUT = re.compile(r"<input\b([^>]*)>")
_ATTRIBUTE = re.compile(r'([^\s=/>]+)(?:="([^"]*)")?')


def _checkbox(match: re.Match[str]) -> str:
    attributes = sorted(_ATTRIBUTE.findall(match.group(1)))
    return "<input" + "".join(f' {name}="{value}"' for name, value in attributes) + ">"


def clean_prose(fragment: str) -> str:
    """Rendered Markdown cleaned as the whole body will be (its formulas' MathML, a table's
    focusable wrapper and a task list's checkboxes stay), its <style> rules left for clean_body
    to put under the report body."""
    return _clean(fragment, _BODY_TAGS, _DROPPED_WITH_CONTENT - {"math"}, _BODY_ATTRIBUTES)


def clean_body(body: str) -> str:
    """The whole body cleaned, its <style> rules put under the report body (BODY_SCOPE): a
    report's CSS styles the report, never the site around it."""
    return _clean(body, _BODY_TAGS, _DROPPED_WITH_CONTENT - {"math"}, _BODY_ATTRIBUTES, BODY_SCOPE)


SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_SVG_DROPPED = {
    "script", "foreignObject", "iframe", "object", "embed", "handler", "listener",
    "set", "animate", "animateMotion", "animateTransform", "animateColor",
}  # fmt: skip


def clean_svg(data: bytes) -> bytes | None:
    """The SVG without scripts, event handlers, foreign content, animations (which can set a
    link to javascript:) and links to anything but its own parts or a data: image; None if it
    is not well-formed SVG."""
    try:
        root = ET.fromstring(data)
    except (ET.ParseError, ValueError):
        return None
    if _local(root.tag) != "svg":
        return None
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    _clean_element(root)
    svg: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)  # (bytes: an encoding is named)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + svg


def _local(name: object) -> str:
    return name.rsplit("}", 1)[-1] if isinstance(name, str) else ""


def _clean_element(element: ET.Element) -> None:
    """Keep SVG elements only (an XHTML <frame> or <meta> inside an SVG runs and redirects)."""
    if _local(element.tag) == "style":
        _clean_style(element)
    for child in list(element):
        tag = child.tag if isinstance(child.tag, str) else ""
        if not tag.startswith("{" + SVG_NS + "}") or _local(tag) in _SVG_DROPPED:
            element.remove(child)
        else:
            _clean_element(child)
    for name in list(element.attrib):
        local = _local(name).lower()
        value = element.attrib[name].strip()
        if _unsafe_attribute(name, local, value):
            del element.attrib[name]
        elif local == "style":
            element.attrib[name] = clean_declarations(value)
        elif "(" in value and loads_elsewhere(value):  # (fill="url(...)"; `(` also catches `u\\72l(`)
            element.attrib[name] = "none"


def _clean_style(element: ET.Element) -> None:
    """An SVG <style> as its text alone, all of it cleaned. XML has no raw-text elements: in
    `<style><g/>@import url(x);</style>` the <g/> is an element, and the browser reads the text
    around it (the style's text and each child's tail) as the style sheet."""
    css = (element.text or "") + "".join(child.tail or "" for child in element)
    for child in list(element):
        element.remove(child)
    element.text = clean_stylesheet(css)


def _unsafe_attribute(name: str, local: str, value: str) -> bool:
    """An event handler, a link to anything but the SVG's own parts or a data: image, or an
    attribute of a namespace other than SVG's, XLink's and XML's."""
    namespace = name[1:].split("}", 1)[0] if name.startswith("{") else ""
    safe_link = value.startswith("#") or bool(DATA_IMAGE.match(value))
    return (
        local.startswith("on")
        or (local == "href" and not safe_link)
        or namespace not in ("", XLINK_NS, "http://www.w3.org/XML/1998/namespace")
    )
