"""Figures and tables that can be cited: what makes a rendered body's floats and targets.

Three ways in, one markup out (`<figure class="kr-float" id=LABEL data-kr-kind=fig|tbl>` with
its `<figcaption>`; the 'crossrefs' pass numbers them in document order):

- a notebook code cell's options, as Quarto reads them (`#| label: fig-x`, `#| fig-cap:`,
  `#| tbl-cap:`, `#| fig-alt:`, `#| fig-subcap:`), or as MyST-NB reads its cell metadata
  (`"mystnb": {"figure": {"caption": ..., "name": ...}, "image": {"alt": ...}}`): the cell's
  outputs become the float. prepare.py reads them (`cell_float`) and the notebook template
  marks the outputs with a comment holding the float (`float_marker`); the 'floats' body pass
  turns the marked outputs into the figure;
- Markdown, as Quarto writes it: an image alone in its paragraph with an id `fig-...`
  (`![Caption](plot.png){#fig-x}`: the `{#...}` left as text by a parser without attributes,
  or an `id` by one with them), and a table followed by a paragraph `: Caption {#tbl-x}`;
- MyST's figure directive (```` ```{figure} plot.png ```` with `:name:`, `:alt:`, `:width:`, the
  caption as its body): a Markdown plugin (`myst_figure`) writes it as a `<figure
  class="kr-myst-figure">` that the sanitizer keeps, and the pass makes it a float;
- targets: a heading's `{#sec-x}` (as text, or an id) and a MyST target line `(name)=` before a
  heading give the heading that id.

Done on the rendered HTML, not in the Markdown parser: notebook outputs are no Markdown, and
the same pass serves every parser a plugin may register.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from knowrepo.pipeline.render.htmltext import plain
from knowrepo.pipeline.render.nbtext import joined as _text
from knowrepo.plugins import BodyContext
from knowrepo.support.yamltext import YamlProblem, load_yaml

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

FLOAT_KINDS = {"fig": "Figure", "tbl": "Table"}  # a label's prefix, its float's name


@dataclass(frozen=True)
class CellFloat:
    """What a code cell's options make of its outputs."""

    kind: str  # "fig" or "tbl"
    label: str  # its id (empty: a caption without a number)
    caption: str  # the caption, as Markdown
    subcaptions: tuple[str, ...] = ()  # one per image output: (a), (b), ...
    alt: tuple[str, ...] = field(default=())  # alt text per image output (one: for all)

    @property
    def labels(self) -> list[str]:
        """The labels it defines: its own, and one per subcaption (`fig-x-1`, ...)."""
        if not self.label:
            return []
        return [self.label, *(f"{self.label}-{n}" for n in range(1, len(self.subcaptions) + 1))]


def _texts(value: Any) -> tuple[str, ...]:
    """A caption option as a list of texts (one text, or a YAML list of them)."""
    if isinstance(value, list):
        return tuple(str(item) for item in value if item is not None)
    return (str(value),) if value not in (None, "", True, False) else ()


_OPTION = re.compile(r"^#\|\s?(.*)$")


def cell_options(cell: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Quarto's cell options (`#| echo: false` lines at the top of a code cell), parsed as
    Quarto reads them (YAML after `#| `): (the options, what is wrong with them or "").
    The option lines leave the shown code, as Quarto hides them."""
    lines = _text(cell.get("source")).split("\n")
    options = []
    while lines and (match := _OPTION.match(lines[0])):
        options.append(match.group(1))
        lines.pop(0)
    if not options:
        return {}, ""
    cell["source"] = "\n".join(lines)
    try:
        values = load_yaml("\n".join(options)) or {}
    except YamlProblem as exc:
        return {}, f"its #| options are not YAML ({exc.problem}); ignored"
    if not isinstance(values, dict):
        return {}, "its #| options are not YAML 'key: value' lines; ignored"
    return values, ""


def cell_float(options: dict[str, Any], metadata: dict[str, Any]) -> CellFloat | None:
    """The float a code cell's Quarto options (`#|` lines, parsed) or MyST-NB metadata make of
    its outputs; None for a cell that is no figure or table (a `label: load-data` alone)."""
    options = {**_mystnb_options(metadata), **options}
    label = str(options.get("label") or "").strip()
    kind = label.split("-", 1)[0] if label.split("-", 1)[0] in FLOAT_KINDS else ""
    captions = {k: _texts(options.get(f"{k}-cap")) for k in FLOAT_KINDS}
    subcaps = {k: _texts(options.get(f"{k}-subcap")) for k in FLOAT_KINDS}
    if not kind:
        kind = "tbl" if captions["tbl"] or subcaps["tbl"] else "fig"
        if not (captions[kind] or subcaps[kind] or options.get("_mystnb")):
            return None
    caption = captions[kind]
    subcaptions = subcaps[kind]
    if len(caption) > 1 and not subcaptions:  # (Quarto: a caption per figure)
        caption, subcaptions = (), caption
    return CellFloat(kind, label, caption[0] if caption else "", subcaptions, _texts(options.get("fig-alt")))


def _mystnb_options(metadata: dict[str, Any]) -> dict[str, Any]:
    """MyST-NB's figure metadata as the Quarto options that say the same."""
    mystnb = metadata.get("mystnb")
    if not isinstance(mystnb, dict):
        return {}
    figure, image = mystnb.get("figure"), mystnb.get("image")
    figure = figure if isinstance(figure, dict) else {}
    image = image if isinstance(image, dict) else {}
    options: dict[str, Any] = {}
    if figure:
        options = {"_mystnb": True, "label": figure.get("name") or "", "fig-cap": figure.get("caption")}
    if image.get("alt"):
        options["fig-alt"] = image["alt"]
    return options


def float_marker(spec: CellFloat, caption_html: str, subcaption_html: list[str]) -> str:
    """The JSON the notebook template writes in a comment before a float's outputs (escaped:
    no `-->` can end the comment early)."""
    data = {**asdict(spec), "caption": caption_html, "subcaptions": subcaption_html}
    return html.escape(json.dumps(data, ensure_ascii=False))


# ---- the 'floats' body pass ----------------------------------------------------------------

_CELL_FLOAT = re.compile(r"<!--kr-float (.*?)-->(.*?)<!--/kr-float-->", re.S)
_IMG = re.compile(r"<img\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.S)
_ATTR = re.compile(r"""\s([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_LONE_IMAGE = re.compile(
    r"<p>\s*(<img\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)\s*(?:\{#(fig-[^\s}]+)([^}]*)\})?\s*</p>", re.S
)
# (the caption line as a paragraph, its id set by a parser with attributes or left as text; or,
# with a parser that has definition lists, as a definition without a term)
_TABLE_CAPTION = re.compile(
    r"(<div class=\"table-scroll\"[^>]*>\s*<table\b(?:(?!<table\b).)*?</table>\s*</div>"
    r"|<table\b(?:(?!<table\b).)*?</table>)\s*"
    r"(?:<p(?: id=\"(tbl-[^\"]+)\")?>:\s*|<dl>\s*<dd>)"
    r"(.*?)\s*(?:\{#(tbl-[^\s}]+)[^}]*\})?\s*(?:</p>|</dd>\s*</dl>)",
    re.S,
)
# (each part within its own element: `(?:(?!</x>).)*?` never runs on into the next one)
_MYST_FIGURE = re.compile(
    r'<figure class="kr-myst-figure"(?: id="([^"]*)")?>((?:(?!</figure>).)*?)'
    r"<figcaption>(.*?)</figcaption>((?:(?!</figure>).)*?)</figure>",
    re.S,
)
_HEADING_ID = re.compile(
    r"<h([1-6])((?:\s[^>]*)?)>((?:(?!</h[1-6]>).)*?)\s*\{#([^\s}]+)[^}]*\}\s*</h\1>", re.S
)
_TARGET = re.compile(r"<p>\(([^()\s<>]+)\)=</p>\s*<h([1-6])((?:\s[^>]*)?)>", re.S)


def make_floats(body: str, ctx: BodyContext) -> str:
    """The 'floats' body pass: cells' marked outputs, captioned Markdown images and tables as
    figures; `{#sec-x}` and `(name)=` as heading ids (before 'headings' keeps them)."""
    if "<!--kr-float " in body:
        body = _CELL_FLOAT.sub(_cell_figure, body)
    if "<img" in body and "fig-" in body:
        body = _LONE_IMAGE.sub(_image_figure, body)
    if "kr-myst-figure" in body:
        body = _MYST_FIGURE.sub(_myst_figure, body)
    if "<table" in body and "<p" in body and "tbl-" in body:
        body = _TABLE_CAPTION.sub(_table_figure, body)
    if "{#" in body:
        body = _HEADING_ID.sub(_heading_id, body)
    if ")=</p>" in body:
        body = _TARGET.sub(_target, body)
    return body


def _myst_figure(match: re.Match[str]) -> str:
    """MyST's figure directive (see myst_figure) as a float, its legend after the caption."""
    label, image, caption, legend = match.groups()
    return figure("fig", label or "", caption, image, after=legend)


def figure(kind: str, label: str, caption: str, inner: str, css: str = "", after: str = "") -> str:
    """A float's markup: a figure caption below, a table caption above (as Quarto places them).
    The number is a placeholder the 'crossrefs' pass fills in document order."""
    number = f'<span class="kr-float-number" data-kr-for="{html.escape(label)}"></span>' if label else ""
    text = f"{number}: {caption}" if number and caption else number or caption
    caption_html = f"<figcaption>{text}</figcaption>" if text else ""
    ident = f' id="{html.escape(label)}"' if label else ""
    title = html.escape(plain(caption), quote=True)
    opening = f'<figure class="kr-float kr-{kind}{css}"{ident} data-kr-kind="{kind}" data-kr-title="{title}">'
    if kind == "tbl":
        return f"{opening}{caption_html}{inner}</figure>"
    return f"{opening}{inner}{caption_html}{after}</figure>"


def _cell_figure(match: re.Match[str]) -> str:
    try:
        spec = json.loads(html.unescape(match.group(1)))
        kind, label, caption = str(spec["kind"]), str(spec["label"]), str(spec["caption"])
        subcaptions = [str(text) for text in spec["subcaptions"]]
    except (ValueError, KeyError, TypeError):  # (a marker knowrepo did not write: left alone)
        return match.group(2)
    inner = match.group(2)
    if subcaptions:
        found = iter(range(len(subcaptions)))

        def sub(image: re.Match[str]) -> str:
            index = next(found, None)
            if index is None:
                return image.group(0)
            letter = chr(ord("a") + index % 26)
            ident = f' id="{html.escape(label)}-{index + 1}"' if label else ""
            cap = f"<figcaption>({letter}) {subcaptions[index]}</figcaption>"
            return f'<figure class="kr-subfloat"{ident} data-kr-sub="{letter}">{image.group(0)}{cap}</figure>'

        inner = _IMG.sub(sub, inner)
    return figure(kind, label, caption, inner, " kr-cell-float")


def _attrs(tag: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(tag)}


def _image_figure(match: re.Match[str]) -> str:
    """`![Caption](x.png){#fig-x}`: the image alone in its paragraph, as a figure."""
    image, label, rest = match.group(1), match.group(2), match.group(3) or ""
    attrs = _attrs(image)
    label = label or attrs.get("id", "")
    if not label.startswith("fig-"):
        return match.group(0)
    caption = attrs.get("alt", "")  # (still escaped, as in the tag)
    alt_match = re.search(r"fig-alt=(?:\"([^\"]*)\"|&quot;(.*?)&quot;)", rest) or re.search(
        r"\sfig-alt=\"([^\"]*)\"", image
    )
    alt = next((g for g in alt_match.groups() if g), "") if alt_match else caption
    image = re.sub(r"\s(?:id|fig-alt)=\"[^\"]*\"", "", image)
    image = re.sub(r"\salt=\"[^\"]*\"", f' alt="{alt}"', image, count=1)
    return figure("fig", label, caption, image)


def _table_figure(match: re.Match[str]) -> str:
    """A table, then `: Caption {#tbl-x}` (Quarto's table caption), as a captioned table."""
    label = match.group(2) or match.group(4) or ""
    return figure("tbl", label, match.group(3), match.group(1))


def _heading_id(match: re.Match[str]) -> str:
    level, attrs, inner, ident = match.groups()
    attrs = re.sub(r'\sid="[^"]*"', "", attrs)
    return f'<h{level}{attrs} id="{html.escape(ident)}">{inner}</h{level}>'


def _target(match: re.Match[str]) -> str:
    ident, level, attrs = match.groups()
    attrs = re.sub(r'\sid="[^"]*"', "", attrs)
    return f'<h{level}{attrs} id="{ident}">'


# ---- MyST's figure directive, a Markdown plugin ----------------------------------------------

_DIRECTIVE_OPTION = re.compile(r"^:([\w-]+):[ \t]*(.*)$")


def myst_figure(md: MarkdownIt) -> None:
    """```` ```{figure} path ```` (and `:::{figure}` where a plugin reads colon fences): an
    image with its caption, as MyST writes it (`:name:` or `:label:`, `:alt:`, `:width:`; the
    body's first paragraph the caption, the rest a legend). Other fences render as before."""

    def wrap(kind: str) -> None:
        rules: dict[str, Any] = md.renderer.rules  # type: ignore[attr-defined]  # (RendererHTML's)
        original = rules.get(kind)

        def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
            token = tokens[idx]
            match = re.match(r"^\{figure\}\s*(.*)$", token.info.strip())
            if match is None:
                return (
                    str(original(tokens, idx, options, env))
                    if original
                    else self.renderToken(tokens, idx, options, env)
                )
            return _figure_directive(md, match.group(1).strip(), token.content, env)

        md.add_render_rule(kind, render)

    wrap("fence")
    if "colon_fence" in md.renderer.rules:  # type: ignore[attr-defined]
        wrap("colon_fence")


def _figure_directive(md: MarkdownIt, path: str, content: str, env: Any) -> str:
    """The directive as a `<figure class="kr-myst-figure">` (the 'floats' pass numbers it)."""
    lines = content.split("\n")
    options: dict[str, str] = {}
    while lines and (option := _DIRECTIVE_OPTION.match(lines[0].strip())):
        options[option.group(1).lower()] = option.group(2).strip()
        lines.pop(0)
    parts = re.split(r"\n[ \t]*\n", "\n".join(lines).strip(), maxsplit=1)
    # (without the page's footnotes: a parse with them lists them all again, in the caption)
    env = {key: value for key, value in env.items() if key != "footnotes"}
    caption = md.renderInline(parts[0], env) if parts[0] else ""
    legend = f'<div class="legend">{md.render(parts[1], env)}</div>' if len(parts) > 1 else ""
    label = options.get("name") or options.get("label") or ""
    alt = options.get("alt") or plain(caption)
    width = re.match(r"^(\d+)(?:px)?$", options.get("width", ""))
    size = f' width="{width.group(1)}"' if width else ""
    src = html.escape(md.normalizeLink(path))
    ident = f' id="{html.escape(label)}"' if label else ""
    image = f'<img src="{src}" alt="{html.escape(alt, quote=True)}"{size}>'
    return (
        f'<figure class="kr-myst-figure"{ident}>{image}<figcaption>{caption}</figcaption>{legend}</figure>\n'
    )
