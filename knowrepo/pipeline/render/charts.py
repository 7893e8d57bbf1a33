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
import re
from dataclasses import dataclass
from typing import Any

PLOTLY_MIME = "application/vnd.plotly.v1+json"
_VEGA_MIME = re.compile(r"^application/vnd\.vega(lite)?\.v\d+(\.\d+)*[+.]json$")  # (Altair 6 writes .v6.json)
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
    import os

    found = []
    for module in ("plotly", "bokeh", "vl_convert"):
        spec = importlib.util.find_spec(module) if installed(module) else None
        try:
            st = os.stat(spec.origin) if spec and spec.origin else None
        except OSError:
            st = None
        found.append(f"{module}:{st.st_mtime_ns}:{st.st_size}" if st else "")
    return ",".join(found)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else value if isinstance(value, str) else ""


def _static_image(data: dict[str, Any]) -> tuple[str, str] | None:
    for mime in ("image/svg+xml", "image/png"):
        if isinstance(data.get(mime), (str, list)) and _text(data[mime]):
            return mime, _text(data[mime])
    return None


def _vega_from_mime(data: dict[str, Any]) -> Chart | None:
    """JupyterLab's Vega and Vega-Lite output types (Altair's "mimetype" renderer)."""
    for mime, spec in data.items():
        if (match := _VEGA_MIME.match(mime)) and isinstance(spec, dict):
            mode = "vega-lite" if match.group(1) else "vega"
            return Chart("vega", {"spec": spec, "mode": mode}, _static_image(data))
    return None


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
            return Chart("vega", {"spec": spec, "mode": mode})
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
    if isinstance(docs, dict) and isinstance(items, list) and items:
        return Chart("bokeh", {"docs_json": docs, "render_items": items})
    return None


def find_chart(output: dict[str, Any]) -> Chart | None:
    """The interactive chart an output holds, when the site can ship its library; else None
    (the output's static fallback then shows, as for any other output)."""
    data, meta = output.get("data"), output.get("metadata") or {}
    if not isinstance(data, dict):
        return None
    plotly = data.get(PLOTLY_MIME)
    if isinstance(plotly, dict) and installed("plotly"):
        return Chart("plotly", {k: plotly[k] for k in ("data", "layout") if k in plotly})
    vega = installed("vl_convert")  # (its Vega-Embed bundle is what the site draws Vega charts with)
    if vega and (chart := _vega_from_mime(data) or _vega_from_altair_html(_text(data.get("text/html")))):
        return chart
    if BOKEH_EXEC in data or BOKEH_EXEC in meta:
        script = _text(data.get("application/javascript"))
        return _bokeh_from_script(script) if installed("bokeh") else None
    return None


def is_bokeh_scaffold(output: dict[str, Any]) -> bool:
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


def vega_svg(chart: Chart) -> str | None:
    """A static SVG of a Vega or Vega-Lite chart, drawn by vl-convert (no browser), for the PDF
    and readers without JavaScript; None when it cannot be drawn offline (data from a URL)."""
    import vl_convert

    convert = vl_convert.vega_to_svg if chart.spec.get("mode") == "vega" else vl_convert.vegalite_to_svg
    try:
        return convert(chart.spec["spec"], allowed_base_urls=[])  # never the network
    except Exception:  # (vl-convert raises ValueError, and others for specs it cannot parse)
        return None
