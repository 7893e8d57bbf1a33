"""Files the site takes from installed Python packages (chart libraries, the math font), never
from a CDN: a site on an intranet shows the same offline."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
from pathlib import Path
from typing import TYPE_CHECKING

from knowrepo.pipeline.render.charts import BOKEH_FILES
from knowrepo.support.atomic import write_atomic

if TYPE_CHECKING:
    from knowrepo.support.caches import Caches


def package_file(package: str, *parts: str) -> Path | None:
    """A data file of an installed package, found without importing it (plotly takes 0.5 s)."""
    spec = importlib.util.find_spec(package)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (path := Path(folder, *parts)).is_file():
            return path
    return None


def math_font(caches: Caches) -> Path | None:
    """An OpenType math font for the site's MathML: Chromium lays out sub- and superscripts only
    with one, and a reader's machine may have none. STIX Two Math, from ziamath (the PDF's
    formula renderer) as WOFF: 0.8 MB, fetched only by pages with math, made once (0.1 s)."""
    source = package_file("ziamath", "fonts", "STIXTwoMath-Regular.ttf")
    if source is None:
        return None
    path = caches.math_font(f"stix2-{source.stat().st_size}")
    if not path.exists():
        from fontTools.ttLib import TTFont  # (fontTools: only where the math font is packaged)

        font, data = TTFont(source), io.BytesIO()
        font.flavor = "woff"
        font.save(data)
        write_atomic(path, data.getvalue())
    return path


def chart_libraries(kinds: set[str], caches: Caches) -> list[tuple[str, str]]:
    """(site path, file) of each library site.js draws the site's charts with: plotly.js from
    plotly, BokehJS from bokeh, Vega-Embed (with Vega and Vega-Lite) from vl-convert, and
    Mermaid's own mermaid.min.js from mermaidx (Mermaid diagrams)."""
    files: list[tuple[str, Path | None]] = []
    if "plotly" in kinds:
        files.append(("assets/plotly.min.js", package_file("plotly", "package_data", "plotly.min.js")))
    if "bokeh" in kinds:
        files += [(f"assets/bokeh/{n}", package_file("bokeh", "server/static/js", n)) for n in BOKEH_FILES]
    if "vega" in kinds:
        files.append(("assets/vega.js", vega_bundle(caches)))
    if "mermaid" in kinds:
        files.append(("assets/mermaid.min.js", package_file("mermaidx", "assets", "mermaid.js")))
    return [(path, str(source)) for path, source in files if source is not None]


def vega_bundle(caches: Caches) -> Path | None:
    """vl-convert's own Vega-Embed bundle (0.9 MB), written once per vl-convert version: making
    it starts vl-convert's JavaScript engine (1.8 s). It is wrapped in a function of its own:
    loaded as a classic script, its top-level names (a `function $` among them) were globals,
    and SlickGrid, which takes a global `$` for jQuery, then broke every Bokeh table on a page
    that also drew a Vega chart. It sets window.vegaEmbed, vega and vegaLite itself."""
    try:
        version = importlib.metadata.version("vl-convert-python")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = caches.vega_bundle(f"{version}-scoped")
    if not path.exists():
        import vl_convert  # (vl-convert: only where a Vega chart is drawn or packaged)

        # (its stub makes `snippet` required; the function's own default is the one wanted here)
        bundle = vl_convert.javascript_bundle()  # type: ignore[call-arg]
        write_atomic(path, f"(function () {{\n{bundle}\n}})();\n".encode())
    return path
