"""Markdown and math to HTML, shared by Markdown reports and notebook markdown cells.

Math is rendered at build time to MathML (tex.py), which browsers lay out natively: no
MathJax, no CDN, no JavaScript in the site.
"""

from __future__ import annotations

import contextlib
import functools
import html
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from knowrepo.model import TocEntry
from knowrepo.pipeline.render.equations import formula_html
from knowrepo.pipeline.render.fences import lift_indented_fences
from knowrepo.pipeline.render.lists import four_space_lists
from knowrepo.pipeline.render.sanitize import clean_html
from knowrepo.plugins import Registry
from knowrepo.support.yamltext import xml_text

if TYPE_CHECKING:
    import markdown

# One regex walks the text once: code (left alone) or math (replaced by a placeholder that
# Markdown passes through untouched). Inline $...$ as Jupyter reads it: `$ x $` with spaces
# inside is math too; prices like "$5 and $10" stay text, since a closing $ is never followed
# by a digit, nor an opening one ($10. Then $x$); never escaped, nor part of a word ("US$").
_TOKENS = re.compile(
    r"(?P<fence>^[ \t]*(?P<f>```|~~~).*?^[ \t]*(?P=f)[ \t]*$)"
    r"|(?P<code>(?P<ticks>`+).+?(?P=ticks))"
    r"|\$\$(?P<display>.+?)\$\$"
    r"|\\\[(?P<display2>.+?)\\\]"
    r"|(?P<env>\\begin\{(?P<envname>[A-Za-z]+\*?)\}.*?\\end\{(?P=envname)\})"  # bare, as MathJax reads it
    r"|\\\((?P<inline2>.+?)\\\)"
    r"|(?P<dollar>\\\$)"  # an escaped dollar: a dollar sign, as Jupyter shows it
    r"|(?<![\\$\w])\$(?!\d)(?P<inline>(?=[^$\n]*[^\s$])[^$\n]+?)(?<!\\)\$(?!\d)",
    re.S | re.M,
)

_TAGS = re.compile(r"<[^>]+>")
_HEADINGS = re.compile(r"<h([1-6])((?:\s[^>]*)?)>(.*?)</h\1>", re.S)
_ID_ATTR = re.compile(r'\sid="([^"]*)"')


# knowrepo's own Markdown: Python-Markdown's extensions, and magiclink (bare URLs link, as in
# Jupyter); by name, each (extension, its settings). knowrepo.builtins registers each of them,
# and plugins add theirs beside them.
SYNTAX: dict[str, tuple[str, dict[str, Any]]] = {
    "extra": ("extra", {}),
    "codehilite": ("codehilite", {"css_class": "highlight", "guess_lang": False}),
    "sane_lists": ("sane_lists", {}),
    "smarty": ("smarty", {}),
    "magiclink": ("pymdownx.magiclink", {}),
}
# The registry whose syntax extensions the Markdown rendered now takes (render_job sets it for
# the report it renders): a Markdown text deep inside an output (a Bokeh Markdown model) is
# rendered as the report's prose is, without the registry passed through every cleaner.
_SYNTAX_OF: ContextVar[Registry | None] = ContextVar("markdown_syntax_of", default=None)


@contextlib.contextmanager
def markdown_syntax(registry: Registry) -> Iterator[None]:
    """Within it, render_markdown takes the syntax extensions `registry` holds."""
    token = _SYNTAX_OF.set(registry)
    try:
        yield
    finally:
        _SYNTAX_OF.reset(token)


@functools.cache
def _converter(registry: Registry | None) -> markdown.Markdown:
    """Python-Markdown with the registry's syntax extensions (None: knowrepo's own), once per
    process (imported here: the build's main process loads the registry, which names this
    module, and converts nothing)."""
    import markdown  # (Python-Markdown: only where Markdown is rendered)

    if registry is not None:
        extensions, configs = registry.markdown_extensions()
    else:
        extensions = [extension for extension, _config in SYNTAX.values()]
        configs = {extension: config for extension, config in SYNTAX.values() if config}
    return markdown.Markdown(extensions=extensions, extension_configs=configs, output_format="html")


def highlight_block(lang: str, code: str) -> str:
    """A code block as the codehilite extension makes a fenced one (same classes, same lexer
    choice: none guessed)."""
    # (Python-Markdown: only where Markdown is rendered)
    from markdown.extensions.codehilite import CodeHilite

    return CodeHilite(code, lang=lang or None, css_class="highlight", guess_lang=False).hilite()


def math_to_html(latex: str, display: bool) -> str:
    """MathML for one formula (tex.py); if it cannot be converted, the source as code."""
    return formula_html(latex, display)


def render_markdown(text: str, sanitize: bool = False) -> str:
    """Markdown (with $math$, tables, fenced code, footnotes) to an HTML fragment, with the
    syntax extensions of the registry markdown_syntax() set (else knowrepo's own). With
    `sanitize`, raw HTML in it cannot run script (the math is added after, from escaped TeX)."""
    formulas: list[tuple[str, bool]] = []
    # A placeholder per formula that no author can write beforehand (one in an attribute would
    # otherwise be replaced by markup that ends the attribute).
    token = secrets.token_hex(6)
    placeholder = re.compile(rf"(<p>)?KRMATH{token}x(\d+)KR(</p>)?")

    def protect(match: re.Match[str]) -> str:
        if match.group("fence") or match.group("code"):
            return match.group(0)
        if match.group("dollar"):
            return "&#36;"
        display = match.group("display") or match.group("display2") or match.group("env")
        latex = display if display is not None else match.group("inline") or match.group("inline2")
        formulas.append((latex, display is not None))
        return f"KRMATH{token}x{len(formulas) - 1}KR"

    blocks: list[str] = []

    def lift(lang: str, code: str) -> str:
        blocks.append(highlight_block(lang, code))
        return f"KRCODE{token}x{len(blocks) - 1}KR"

    protected = four_space_lists(lift_indented_fences(_TOKENS.sub(protect, text), lift))
    converter = _converter(_SYNTAX_OF.get())
    converter.reset()
    out = converter.convert(protected)
    if blocks:  # (Pygments escapes the code; the sanitizer below keeps its spans)
        out = re.sub(rf"(?:<p>)?KRCODE{token}x(\d+)KR(?:</p>)?", lambda m: blocks[int(m.group(1))], out)
    if sanitize:
        out = clean_html(out)
    # Wide tables scroll inside a focusable wrapper (keyboard users can scroll them too).
    out = out.replace("<table>", '<div class="table-scroll" tabindex="0"><table>').replace(
        "</table>", "</table></div>"
    )
    if not formulas:
        return out

    def restore(match: re.Match[str]) -> str:
        latex, display = formulas[int(match.group(2))]
        rendered = math_to_html(latex, display)
        if match.group(1) and match.group(3):  # a formula alone in its paragraph
            return rendered if display else f"<p>{rendered}</p>"
        return (match.group(1) or "") + rendered + (match.group(3) or "")

    return placeholder.sub(restore, out)


def latex_output_to_html(latex: str) -> str:
    """A text/latex output ($$...$$, $...$ or bare) as MathML."""
    body = latex.strip()
    for left, right in (("$$", "$$"), ("\\[", "\\]"), ("$", "$"), ("\\(", "\\)")):
        if body.startswith(left) and body.endswith(right) and len(body) > len(left) + len(right):
            return math_to_html(body[len(left) : -len(right)], display=True)
    return math_to_html(body, display=True)


_TYPOGRAPHY = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "--", "—": "---", "…": "..."})


def _plain_quotes(text: str) -> str:
    """Text as its author typed it: what smarty made curly or long, straight again."""
    return " ".join(text.translate(_TYPOGRAPHY).split())


def plain_text(fragment: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", fragment)).split())


def _anchor(text: str, used: set[str]) -> str:
    base = re.sub(r"[^\w\- ]", "", text.lower()).strip().replace(" ", "-") or "section"
    anchor, n = base, 1
    while anchor in used:
        n += 1
        anchor = f"{base}-{n}"
    used.add(anchor)
    return anchor


def anchor_headings(body: str, drop_title: str = "") -> tuple[str, list[TocEntry], str]:
    """Give every heading a unique id and list h2-h3 as the table of contents.

    Done on the whole page rather than by Markdown's toc extension because a notebook is
    rendered cell by cell: only the assembled body sees every heading and can keep ids unique.
    The first h1, when it repeats the title shown in the page header, is dropped.
    Returns (body, toc, text of the first heading).
    """
    used: set[str] = set()
    toc: list[TocEntry] = []
    first: list[str] = []

    def visit(match: re.Match[str]) -> str:
        level, attrs, inner = int(match.group(1)), match.group(2), match.group(3)
        text = plain_text(inner).rstrip("¶").strip()
        if not first:
            first.append(text)
            if level == 1 and drop_title and _plain_quotes(text) == _plain_quotes(drop_title):
                return ""
        existing = _ID_ATTR.search(attrs)
        if existing and existing.group(1) not in used:
            anchor = existing.group(1)
            used.add(anchor)
        else:
            anchor = _anchor(text, used)
            attrs = _ID_ATTR.sub("", attrs) + f' id="{anchor}"'
        if level in (2, 3):
            toc.append(TocEntry(level, anchor, text))
        link = (
            f'<a class="anchor" href="#{anchor}" aria-hidden="true" tabindex="-1" data-pagefind-ignore>#</a>'
        )
        return f"<h{level}{attrs}>{inner}{link}</h{level}>"

    return _HEADINGS.sub(visit, body), toc, first[0] if first else ""


def first_paragraph(body: str, limit: int = 280) -> str:
    """Plain text of the first paragraph, cut at a word boundary."""
    match = re.search(r"<p>(.*?)</p>", body, re.S)
    text = xml_text(plain_text(match.group(1))) if match else ""
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "…"
    return text
