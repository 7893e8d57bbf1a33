"""Mermaid diagrams (```` ```mermaid ```` fences, as JupyterLab 4.1+ and GitHub draw them), drawn
offline from the Mermaid bundle the `mermaidx` package ships.

The fence becomes `<pre class="kr-mermaid">` (its source, escaped); the `diagrams` body pass then
turns each one into a chart placeholder like the chart libraries' (charts.py): the source as a
JSON asset, drawn by site.js with the site's one copy of mermaid.min.js (in the reader's light or
dark theme), and a static SVG drawn at build time by mermaidx (Mermaid itself, in an embedded
JavaScript engine: no browser) for the PDF, which runs no JavaScript, and for readers without it.
The static SVG is made with SVG text labels (Mermaid's default HTML labels are <foreignObject>,
which WeasyPrint does not draw), and cached by its source: Mermaid in an interpreter takes
0.5-3 s a diagram (and 1 s to start, once per process that meets one).
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.pipeline.render.charts import installed
from knowrepo.pipeline.render.sanitize import clean_svg
from knowrepo.support.atomic import write_atomic
from knowrepo.support.caches import Caches

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererProtocol
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

    from knowrepo.plugins import BodyContext

FENCE_CLASS = "kr-mermaid"
# The fence's own markup (its text escaped: no tag inside): a <pre> with tags inside is a
# report's raw HTML, never a diagram.
_FENCE = re.compile(rf'<pre class="{FENCE_CLASS}">([^<]*)</pre>')
# What Mermaid is told here (site.js tells it the same but the labels: HTML, as in JupyterLab).
STATIC_CONFIG: dict[str, Any] = {
    "securityLevel": "strict",
    "htmlLabels": False,  # SVG text: WeasyPrint draws no <foreignObject>
    "flowchart": {"htmlLabels": False},
}
_MYST_OPTION = re.compile(r"^:[\w-]+:.*$")  # a MyST directive's option line (```{mermaid} then :caption: x)
_ACC_TITLE = re.compile(r"^\s*accTitle\s*:\s*(.+?)\s*$", re.M)
_VIEW_BOX = re.compile(r'\sviewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"')
MAX_SOURCE = 50_000  # Mermaid's own maxTextSize: a longer diagram it refuses


def mermaid_plugin(md: MarkdownIt) -> None:
    """A markdown-it plugin: fences whose info string is `mermaid` (GitHub, JupyterLab) or
    `{mermaid}` (MyST) render as `<pre class="kr-mermaid">source</pre>`; other fences as before."""
    default = md.renderer.rules["fence"]  # type: ignore[attr-defined]  # (RendererHTML's: the Protocol has none)

    def fence(
        self: RendererProtocol, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        if fence_language(token.info) in ("mermaid", "{mermaid}"):
            return diagram_fence(diagram_source(token.info, token.content))
        return str(default(tokens, idx, options, env))

    md.add_render_rule("fence", fence)


def diagram_fence(source: str) -> str:
    """What a diagram's fence renders as, for the `diagrams` body pass to find."""
    return f'<pre class="{FENCE_CLASS}">{html.escape(source)}</pre>\n'


def fence_language(info: str) -> str:
    """The first word of a fence's info string, as CommonMark reads it."""
    words = info.strip().split(maxsplit=1)
    return words[0].lower() if words else ""


def diagram_source(info: str, content: str) -> str:
    """The diagram's text: a MyST directive's leading option lines (`:caption: x`) are not Mermaid."""
    if fence_language(info) != "{mermaid}":
        return content
    lines = content.split("\n")
    while lines and _MYST_OPTION.match(lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines)


def draw_diagrams(body: str, ctx: BodyContext) -> str:
    """The `diagrams` body pass: each fenced diagram as a placeholder site.js draws in, holding
    its static SVG; the source with a note where Mermaid cannot draw it (a one-line warning)."""
    if f'class="{FENCE_CLASS}"' not in body:
        return body
    if not installed("mermaidx"):
        count = len(_FENCE.findall(body))
        ctx.warn(
            f"{ctx.source}: {count} Mermaid diagram(s) shown as their source: the mermaidx package,"
            " which ships Mermaid, is not installed (pip install mermaidx)"
        )
        return _FENCE.sub(lambda m: source_block(m.group(1), "Mermaid is not installed here"), body)
    caches = Caches(Path(ctx.root) / ".knowrepo")
    number = 0

    def place(match: re.Match[str]) -> str:
        nonlocal number
        number += 1
        source = html.unescape(match.group(1))
        svg, problem = static_svg(source, caches)
        if problem:
            ctx.warn(f"{ctx.source}: Mermaid diagram {number}: {problem}")
        spec = ctx.asset(json.dumps({"source": source}).encode(), ".mermaid.json")
        image = ctx.asset(svg.encode(), ".svg") if svg else None
        return placeholder(spec, image, alt_text(source), match.group(1))

    return _FENCE.sub(place, body)


def static_svg(source: str, caches: Caches) -> tuple[str | None, str | None]:
    """(SVG, None), or (None, what went wrong): the diagram drawn by Mermaid in mermaidx's
    JavaScript engine, cleaned as any SVG a page links to, cached by its source and settings."""
    if len(source) > MAX_SOURCE:
        return None, f"Mermaid cannot draw it: over {MAX_SOURCE:,} characters (Mermaid's limit)"
    key = hashlib.sha256(json.dumps([source, STATIC_CONFIG, _version()]).encode()).hexdigest()[:24]
    path, failed = caches.diagram(key), caches.diagram(key).with_suffix(".error")
    if path.exists():
        return path.read_text(encoding="utf-8"), None
    if failed.exists():  # (Mermaid's answer is the same each time: the build says it without asking again)
        return None, failed.read_text(encoding="utf-8")
    svg, problem, lasting = _draw(source)
    if svg is not None:
        write_atomic(path, svg.encode())
    elif lasting:  # (Mermaid's own verdict on the text; a fault of the engine is tried again)
        write_atomic(failed, str(problem).encode())
    return svg, problem


def _draw(source: str) -> tuple[str | None, str | None, bool]:
    """(SVG, None, _) or (None, what went wrong, whether the same text always fails so)."""
    import mermaidx  # (mermaidx: only where a diagram is drawn; it starts a JavaScript engine)

    try:
        drawn = mermaidx.render(source, config=STATIC_CONFIG).svg()
    except Exception as exc:  # mermaidx raises RuntimeError for Mermaid's errors, others for its own
        lasting = isinstance(exc, RuntimeError) and str(exc).startswith("Mermaid rendering failed")
        return None, f"Mermaid cannot draw it: {_first_line(exc)}", lasting
    cleaned = clean_svg(sized(drawn).encode())
    if cleaned is None:
        return None, "Mermaid's drawing is not well-formed SVG: its source is shown in the PDF", True
    return cleaned.decode(), None, True


@functools.cache
def _version() -> str:
    import importlib.metadata  # (only where a diagram is drawn: the cache key's part)

    return importlib.metadata.version("mermaidx")


def _first_line(exc: Exception) -> str:
    """Mermaid's message, short: "Parse error on line 3: ... Expecting 'SQE', got 'PS'"."""
    text = str(exc).removeprefix("Mermaid rendering failed: ").removeprefix("Error: ")
    lines = [line.strip() for line in text.splitlines() if line.strip().strip("-^")]  # (not its ---^ marker)
    return " ".join(lines[:1] + lines[-1:] if len(lines) > 1 else lines)[:300] or type(exc).__name__


def sized(svg: str) -> str:
    """The SVG with its own width and height (Mermaid writes width="100%" and a max-width
    style): as an <img> it then has a size, in the PDF as on the page."""
    box = _VIEW_BOX.search(svg[:2000])
    if box is None:
        return svg
    width, height = (round(float(n)) for n in box.groups())
    head, rest = svg.split(">", 1)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    head = re.sub(r'\sstyle="[^"]*"', "", head)
    return f'{head} width="{width}" height="{height}">{rest}'


def alt_text(source: str) -> str:
    """What a screen reader says for the static image: the diagram's accTitle or its front
    matter's title, else its kind."""
    if title := _ACC_TITLE.search(source):
        return title.group(1)
    lines = [ln.strip() for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("%%")]
    if lines[:1] == ["---"] and "---" in lines[1:]:  # Mermaid's front matter (title:, config:)
        end = lines.index("---", 1)
        titles = [ln.split(":", 1)[1].strip() for ln in lines[1:end] if ln.startswith("title:")]
        if titles and titles[0]:
            return titles[0].strip("\"'")
        lines = lines[end + 1 :]
    return f"Diagram ({lines[0].split()[0] if lines else 'empty'})"


def placeholder(spec: str, image: str | None, alt: str, escaped_source: str) -> str:
    """The box site.js draws a diagram in: its static SVG until then (and in the PDF), else
    its source with a note (site.js still tries: the browser's Mermaid may draw what mermaidx's
    could not)."""
    inner = (
        f'<img src="{html.escape(image)}" alt="{html.escape(alt)}">'
        if image
        else '<p class="interactive-note">Mermaid could not draw this diagram: its source is shown.</p>'
        f'<pre class="mermaid-source">{escaped_source}</pre>'
    )
    figure = f'class="kr-chart {FENCE_CLASS}" data-figure="{html.escape(spec)}" role="figure"'
    return f"<div {figure}>{inner}</div>"


def source_block(escaped_source: str, why: str) -> str:
    """A diagram shown as its source, with a note saying why (the page and the PDF alike)."""
    return (
        f'<div class="mermaid-fallback"><p class="interactive-note">{html.escape(why)}: its source'
        f' is shown.</p><pre class="mermaid-source">{escaped_source}</pre></div>'
    )
