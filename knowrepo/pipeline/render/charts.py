"""Interactive charts (Plotly, Vega-Lite/Altair, Bokeh) that stay interactive offline.

Each library's notebook output is a chart spec plus code that loads the library from a CDN (or
from a kernel). knowrepo keeps only the spec, as a JSON asset; site.js draws it with the ONE copy
of the library the site holds, copied by the build from the installed Python package. Without
the package, the output's own static image shows (or a short note).

The spec is parsed out of the library's HTML or JavaScript by hand: neither Altair's HTML nor
Bokeh's notebook JavaScript has a structured form in the saved notebook.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from knowrepo.pipeline.render.assets import IMAGE_TYPES
from knowrepo.pipeline.render.nbtext import joined as _text

if TYPE_CHECKING:
    from knowrepo.plugins import RenderContext

PLOTLY_MIME = "application/vnd.plotly.v1+json"
BOKEH_EXEC = "application/vnd.bokehjs_exec.v0+json"
BOKEH_LOAD = "application/vnd.bokehjs_load.v0+json"
# The library files site.js loads, in order, for each kind (paths under the site's assets/).
BOKEH_FILES = ("bokeh.min.js", "bokeh-widgets.min.js", "bokeh-tables.min.js", "bokeh-gl.min.js")
# Altair's HTML ends its script with `})(<spec>, <embed options>);`.
_ALTAIR_CALL = re.compile(r"\}\)\(\s*(?=\{)")
_BOKEH_VALUE = re.compile(r"\b(docs_json|render_items)\s*=\s*")
_BOKEH_ROOT = re.compile(r'^\s*<div id="[\w-]+" data-root-id="[\w-]+"[^>]*></div>\s*$')


@dataclass(frozen=True)
class Chart:
    kind: str  # plotly | vega | bokeh: the library site.js draws it with
    spec: dict[str, Any]  # what site.js hands the library
    static: tuple[str, str] | None = None  # (mime, data) of the output's own static image


@functools.cache
def installed(package: str) -> bool:
    """Whether a package is importable here (found, not imported: plotly takes 0.5 s)."""
    return importlib.util.find_spec(package) is not None


def chart_packages() -> str:
    """Which chart libraries the site can draw with, as the stats of their installed modules
    (an upgrade rewrites them): importlib.metadata alone would take 50 ms of a 0.16 s no-op build."""
    importlib.invalidate_caches()  # (a long-lived process, `knowrepo serve`, sees an install)
    installed.cache_clear()
    bokeh_major.cache_clear()
    found = []
    for module in ("plotly", "bokeh", "vl_convert"):
        spec = importlib.util.find_spec(module) if installed(module) else None
        try:
            st = os.stat(spec.origin) if spec and spec.origin else None
        except OSError:
            st = None
        found.append(f"{module}:{st.st_mtime_ns}:{st.st_size}" if st else "")
    return ",".join(found)


def _static_image(data: dict[str, Any]) -> tuple[str, str] | None:
    for mime in ("image/svg+xml", "image/png"):
        if isinstance(data.get(mime), (str, list)) and _text(data[mime]):
            return mime, _text(data[mime])
    return None


def _own_options(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec without usermeta.embedOptions, which Vega-Embed would put over site.js's own
    (turning off its CSP-safe expression interpreter, or turning on the online editor link)."""
    usermeta = spec.get("usermeta")
    if not isinstance(usermeta, dict) or "embedOptions" not in usermeta:
        return spec
    return {**spec, "usermeta": {k: v for k, v in usermeta.items() if k != "embedOptions"}}


def _vega_from_altair_html(page: str) -> Chart | None:
    """Altair's default HTML output: a div and a script that calls vegaEmbed(spec, options)."""
    if "vegaEmbed" not in page or 'id="altair-viz-' not in page:
        return None
    decoder = json.JSONDecoder()
    for call in reversed(list(_ALTAIR_CALL.finditer(page))):
        try:
            spec, end = decoder.raw_decode(page, call.end())
            rest = page[end:].lstrip()
            options, _ = decoder.raw_decode(rest[1:].lstrip()) if rest.startswith(",") else ({}, 0)
        except ValueError:
            continue
        if isinstance(spec, dict) and isinstance(options, dict):
            mode = "vega" if str(options.get("mode")) == "vega" else "vega-lite"
            return Chart("vega", {"spec": _own_options(spec), "mode": mode})
    return None


def _bokeh_from_script(script: str) -> Chart | None:
    """Bokeh's show() in a notebook: JavaScript that embeds `docs_json` into `render_items`."""
    decoder, found = json.JSONDecoder(), {}
    for match in _BOKEH_VALUE.finditer(script):
        try:
            value, _ = decoder.raw_decode(script, match.end())
            found[match.group(1)] = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            continue
    docs, items = found.get("docs_json"), found.get("render_items")
    if not (isinstance(docs, dict) and isinstance(items, list) and items):
        return None
    versions = {str(doc.get("version", "")).split(".")[0] for doc in docs.values() if isinstance(doc, dict)}
    if versions != {bokeh_major()}:  # BokehJS reads only documents of its own major version
        return None
    # Only where to draw: an item's elementid or use_for_title would reach into the page itself.
    keep = ("docid", "roots", "root_ids")
    placed = [{k: item[k] for k in keep if k in item} for item in items if isinstance(item, dict)]
    return Chart("bokeh", {"docs_json": docs, "render_items": placed})


@functools.cache
def bokeh_major() -> str:
    """The installed bokeh's major version ("3"), read once a Bokeh chart is met."""
    import importlib.metadata  # (only once a Bokeh chart is met)

    try:
        return importlib.metadata.version("bokeh").split(".")[0]
    except importlib.metadata.PackageNotFoundError:
        return ""


def render_plotly(data: Any, ctx: RenderContext) -> str | None:
    """A Plotly figure (its own MIME type), drawn by the site's plotly.min.js."""
    if not isinstance(data, dict) or not installed("plotly"):
        return None
    return show_chart(Chart("plotly", {k: data[k] for k in ("data", "layout") if k in data}), ctx)


def render_vega(data: Any, ctx: RenderContext, mode: str = "vega-lite") -> str | None:
    """JupyterLab's Vega and Vega-Lite output types (Altair's "mimetype" renderer), drawn by
    vl-convert's Vega-Embed bundle."""
    if not isinstance(data, dict) or not installed("vl_convert"):
        return None
    output_data = ctx.output.get("data") or {}
    return show_chart(
        Chart("vega", {"spec": _own_options(data), "mode": mode}, _static_image(output_data)), ctx
    )


def vega_types() -> dict[str, str]:
    """The Vega and Vega-Lite MIME types, by the mode Vega-Embed draws them in (Altair 6
    writes `.v6.json`, JupyterLab `.v5+json`)."""
    kinds = {"vega": "vega", "vegalite": "vega-lite"}
    return {
        f"application/vnd.{kind}.v{major}{sep}json": mode
        for kind, mode in kinds.items()
        for major in range(1, 10)
        for sep in "+."
    }


def render_html(data: Any, ctx: RenderContext) -> str | list[dict[str, Any]] | None:
    """HTML outputs knowrepo draws itself: Bokeh's loading scaffold (shown as nothing) and
    Altair's default HTML (a Vega chart); any other HTML shows as it is (None)."""
    if is_bokeh_scaffold(ctx.output):
        return []
    chart = _vega_from_altair_html(_text(data)) if installed("vl_convert") else None
    return show_chart(chart, ctx) if chart is not None else None


def render_bokeh(data: Any, ctx: RenderContext) -> str | None:
    """Bokeh's show(): its documents, out of the JavaScript beside this MIME type."""
    if not installed("bokeh"):
        return None
    chart = _bokeh_from_script(_text((ctx.output.get("data") or {}).get("application/javascript")))
    return show_chart(chart, ctx) if chart is not None else None


def drop_output(data: Any, ctx: RenderContext) -> list[dict[str, Any]]:
    """An output that says nothing on a page (BokehJS's CDN loader)."""
    return []


def show_chart(chart: Chart, ctx: RenderContext) -> str | None:
    """The placeholder site.js draws a chart in, its spec (and static image) written as
    assets; None when the site cannot draw it (the output's static fallback then shows)."""
    if chart.kind == "bokeh" and ctx.sanitize:
        # (imported here: the no-op build imports this module for chart_packages alone)
        from knowrepo.pipeline.render.bokehdoc import clean_documents, static_only

        if static_only(chart.spec["docs_json"]):
            return None  # model classes declared in the document, or a Dialog: its static view shows
        clean_documents(chart.spec["docs_json"])
    blob = json.dumps(chart.spec, separators=(",", ":"), default=str).encode()
    limit = 16 * ctx.max_output  # (as for images: a page never pulls in 50 MB)
    if len(blob) > limit:
        return None
    spec = ctx.asset(blob, f".{chart.kind}.json")
    static = chart.static
    if static is None and chart.kind == "vega" and (svg := vega_svg(chart, limit)) is not None:
        static = ("image/svg+xml", svg)
    image = ctx.image(*static) if static else None
    src = ctx.asset(image, IMAGE_TYPES[static[0]]) if image is not None and static else None
    return placeholder(chart, spec, src)


def is_bokeh_scaffold(output: Mapping[str, Any]) -> bool:
    """output_notebook()'s "Loading BokehJS ..." and its CDN loader, and show()'s empty root div:
    on a page they say nothing (the site loads its own BokehJS where a chart needs it)."""
    data = output.get("data")
    if not isinstance(data, dict):
        return False
    page = _text(data.get("text/html"))
    loader = "Loading BokehJS" in page and "bk-notebook-logo" in page
    return BOKEH_LOAD in data or loader or bool(_BOKEH_ROOT.match(page)) and len(data) <= 2


def placeholder(chart: Chart, src: str, image: str | None) -> str:
    """What the page holds until site.js draws the chart: its static image (also what a PDF
    shows), else a note that it needs the browser."""
    inner = (
        f'<img src="{html.escape(image)}" alt="Chart (a static view)">'
        if image
        else '<p class="interactive-note">Interactive chart: it shows in the browser, with JavaScript.</p>'
    )
    return (
        f'<div class="kr-chart kr-{chart.kind}" data-figure="{html.escape(src)}" role="figure"'
        f' aria-label="Interactive chart">{inner}</div>'
    )


MAX_STATIC_ROWS = 20_000  # more marks than this: an SVG of megabytes (and vl-convert's memory)


def data_rows(node: Any, depth: int = 0) -> int:
    """How many data rows a spec draws: inline values, datasets and sequence generators."""
    if depth > 30:
        return 0
    if isinstance(node, list):
        return sum(data_rows(item, depth + 1) for item in node)
    if not isinstance(node, dict):
        return 0
    rows = 0
    for key, value in node.items():
        if key in ("values", "datasets") and isinstance(value, list):
            rows += len(value)
        elif key == "datasets" and isinstance(value, dict):
            rows += sum(len(v) for v in value.values() if isinstance(v, list))
        elif key == "sequence" and isinstance(value, dict):
            rows += _sequence_rows(value)
        else:
            rows += data_rows(value, depth + 1)
    return rows


def _sequence_rows(sequence: dict[str, Any]) -> int:
    try:
        span = abs(float(sequence.get("stop", 0)) - float(sequence.get("start", 0)))
        return int(span / (abs(float(sequence.get("step", 1))) or 1))
    except (TypeError, ValueError, OverflowError):
        return MAX_STATIC_ROWS + 1


def vega_svg(chart: Chart, limit: int) -> str | None:
    """A static SVG of a Vega or Vega-Lite chart, drawn by vl-convert (no browser), for the PDF
    and readers without JavaScript; None when it cannot be drawn offline (data from a URL), or
    would be large (over MAX_STATIC_ROWS rows, or `limit` bytes)."""
    import vl_convert  # (vl-convert: only where a Vega chart is drawn or packaged)

    if data_rows(chart.spec.get("spec")) > MAX_STATIC_ROWS:
        return None
    convert = vl_convert.vega_to_svg if chart.spec.get("mode") == "vega" else vl_convert.vegalite_to_svg
    try:
        svg = convert(chart.spec["spec"], allowed_base_urls=[])  # never the network
    except Exception:  # (vl-convert raises ValueError, and others for specs it cannot parse)
        return None
    return svg if len(svg) <= limit else None
