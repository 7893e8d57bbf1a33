"""Markdown and math to HTML, shared by Markdown reports and notebook markdown cells.

One dialect for both, as JupyterLab and GitHub render them: CommonMark with GitHub's extensions
(markdown-it-py, the Python port of markdown-it that MyST and Jupyter Book use), plus math as
Jupyter reads it. The syntax is the registry's: each extension a markdown-it-py plugin
(syntax.py holds knowrepo's).
markdown-it-py rather than cmarkgfm (GitHub's cmark-gfm): it passes all 655 examples of the
CommonMark 0.31.2 spec (cmark-gfm, a 0.29 implementation, 644), its tokens carry line numbers
(`check` names lines by them), and its plugins are the extension point (cmark-gfm's extensions
are C); cmark-gfm passes GFM's 24 extension examples, knowrepo's plugins 21
(tests/unit/test_markdown_spec.py names the rest).

Math is rendered at build time to MathML (latex2mathml), which browsers lay out natively:
no MathJax, no CDN, no JavaScript in the site.
"""

from __future__ import annotations

import contextlib
import functools
import html
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from knowrepo.model import TocEntry
from knowrepo.pipeline.render import syntax
from knowrepo.pipeline.render.sanitize import clean_mathml, clean_prose
from knowrepo.pipeline.render.syntax import highlight_block
from knowrepo.plugins import Registry
from knowrepo.support.yamltext import xml_text

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

__all__ = ["highlight_block"]  # (moved to syntax.py; imported from here by other parts)

_TAGS = re.compile(r"<[^>]+>")
_HEADINGS = re.compile(r"<h([1-6])((?:\s[^>]*)?)>(.*?)</h\1>", re.S)
_ID_ATTR = re.compile(r'\sid="([^"]*)"')

# Operators latex2mathml (2.x) writes as identifiers: no space around them ("p̂A±z"), and \sim
# as an ASCII tilde. MathML operators, as TeX sets them.
_OPERATORS = {
    "<mi>&#x000B1;</mi>": "<mo>&#x000B1;</mo>",  # \pm
    "<mi>&#x0007E;</mi>": "<mo>&#x0223C;</mo>",  # \sim
    "<mi>&#x029F5;</mi>": "<mo>&#x02216;</mo>",  # \setminus
}
_OPERATOR = re.compile("|".join(re.escape(k) for k in _OPERATORS))


def math_to_html(latex: str, display: bool) -> str:
    """MathML for one formula; if latex2mathml cannot parse it, the source as code."""
    # Imported here: 0.06 s that a render worker pays only once it meets math.
    from latex2mathml.converter import convert as latex_to_mathml

    try:
        mathml = latex_to_mathml(latex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many types for unsupported input
        return f'<code class="math-error">{html.escape(latex)}</code>'

    mathml = _OPERATOR.sub(lambda m: _OPERATORS[m.group()], mathml)
    # alttext keeps the TeX source: screen readers read it, and PDF export draws it as SVG.
    tex = html.escape(latex.strip())
    mathml = clean_mathml(mathml).replace("<math ", f'<math alttext="{tex}" data-pagefind-ignore ', 1)
    # The search index gets the TeX source, not MathML's letters run together (β0+β1·tenure).
    mathml += f'<span class="visually-hidden" aria-hidden="true">{tex}</span>'
    # tabindex: a wide formula scrolls, and keyboard users must be able to scroll it.
    return f'<div class="math" tabindex="0">{mathml}</div>' if display else mathml


# knowrepo's own Markdown syntax, by name: each a markdown-it-py plugin and its settings, applied
# in this order on CommonMark. knowrepo.builtins registers each of them, and plugins add theirs
# after them.
SYNTAX: dict[str, tuple[Any, dict[str, Any]]] = {
    "math": (syntax.math, {"render": math_to_html}),
    "tables": (syntax.tables, {}),
    "strikethrough": (syntax.strikethrough, {}),
    "tasklists": (syntax.tasklists, {}),
    "autolinks": (syntax.autolinks, {}),
    "footnotes": (syntax.footnotes, {}),
    "highlight": (syntax.highlight, {}),
}
# The registry whose syntax the Markdown rendered now takes (render_job sets it for the report
# it renders): a Markdown text deep inside an output (a Bokeh Markdown model) is rendered as the
# report's prose is, without the registry passed through every cleaner.
_SYNTAX_OF: ContextVar[Registry | None] = ContextVar("markdown_syntax_of", default=None)


@contextlib.contextmanager
def markdown_syntax(registry: Registry) -> Iterator[None]:
    """Within it, render_markdown takes the syntax `registry` holds."""
    token = _SYNTAX_OF.set(registry)
    try:
        yield
    finally:
        _SYNTAX_OF.reset(token)


@functools.cache
def _converter(registry: Registry | None) -> MarkdownIt:
    """CommonMark (raw HTML allowed, as in Jupyter) with the registry's syntax plugins (None:
    knowrepo's own), once per process (imported here: the build's main process loads the
    registry, which names this module, and converts nothing)."""
    from markdown_it import MarkdownIt  # (markdown-it-py: only where Markdown is rendered)

    md = MarkdownIt("commonmark", {"html": True})
    normalize = md.normalizeLink
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # (_safe_link empties the bad ones)
    md.normalizeLink = lambda url: _safe_link(normalize(url))  # type: ignore[method-assign]
    plugins = registry.markdown_plugins() if registry is not None else list(SYNTAX.values())
    for plugin, config in plugins:
        md.use(plugin, **config)
    return md


def _safe_link(href: str) -> str:
    """A link's URL, or "" for one that runs script or reads files (javascript:, vbscript:,
    file:, data: but images'), as cmark-gfm writes it: the link shows, and leads nowhere
    (markdown-it would show its source as text)."""
    # (markdown-it-py: only where Markdown is rendered)
    from markdown_it.common.normalize_url import validateLink

    return href if validateLink(href) else ""


def render_markdown(text: str, sanitize: bool = False) -> str:
    """Markdown (with $math$, tables, fenced code, footnotes) to an HTML fragment, with the
    syntax of the registry markdown_syntax() set (else knowrepo's own). With `sanitize`, raw
    HTML in it cannot run script (the MathML and markup knowrepo makes stay)."""
    out = _converter(_SYNTAX_OF.get()).render(text)
    return clean_prose(out) if sanitize else out


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
