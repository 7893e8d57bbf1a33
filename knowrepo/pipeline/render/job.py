"""Render one report (notebook or Markdown) to a RenderedPage. Runs in worker processes.

One exporter is built per process and reused: compiling nbconvert's templates is most of the
cost of a fresh exporter (42 ms vs 90-107 ms per notebook, shared/NOTES.md).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import importlib.util
import json
import re
import warnings as warnings_module
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from knowrepo import METRIC_MIME
from knowrepo.errors import KnowrepoError, write_error
from knowrepo.model import RenderedPage, Run
from knowrepo.pipeline.render.assets import AssetStore, png_size
from knowrepo.pipeline.render.charts import (
    BOKEH_EXEC,
    chart_packages,
    find_chart,
    is_bokeh_scaffold,
    placeholder,
    vega_svg,
)
from knowrepo.pipeline.render.nbtext import joined as _text
from knowrepo.pipeline.render.tables import align_numeric_columns
from knowrepo.pipeline.render.widgets import saved_widgets, static_widget
from knowrepo.support.hashing import content_hash
from knowrepo.support.numbers import clip, format_figure
from knowrepo.support.paths import outside_reason
from knowrepo.support.yamltext import YamlProblem, load_yaml, repair_text, repair_tree

TEMPLATE_DIR = Path(__file__).parent / "nbtemplate"
# What a report may show as an image (a path with another suffix is not copied: a .html or .js
# "image" would be a page or a script at the site's own origin).
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif", ".bmp", ".ico"}
IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/svg+xml": ".svg"}
# Output types that only show something with a live kernel or a script from the internet.
LIVE_ONLY = ("application/vnd.jupyter.widget-view+json", "application/javascript", BOKEH_EXEC)
STATIC_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "text/markdown", "text/latex")
_DEFAULT_REPR = re.compile(r"^<(Figure|matplotlib|Axes|IPython)\b.*>$", re.S)
# (each script found once, to its end: a lookahead per character was quadratic on 1 MB of tags)
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)(?:</script|\Z)", re.S | re.I)
_LOADS = re.compile(r"\b(?:require|vegaEmbed)\s*\(")
_SRC = re.compile(r"\bsrc\s*=", re.I)


def loads_script(page: str) -> bool:
    """Whether HTML loads a script from elsewhere (a CDN, require.js, Altair's loader): without
    it, it shows nothing."""
    return any(_SRC.search(m.group(1)) or _LOADS.search(m.group(2)) for m in _SCRIPT.finditer(page))


_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
_IMG_SRC = re.compile(r"""(<img\b[^>]*?\bsrc=(["']))(.+?)(\2)""", re.S)  # either quote, as HTML allows


def render_fingerprint() -> str:
    """Hash of everything that shapes a rendered body: knowrepo's template and code, and which
    chart libraries are installed (installing bokeh turns its notes into charts)."""
    digest = hashlib.sha256(chart_packages().encode())
    here = Path(__file__).parent  # the render package: its modules and nbconvert template
    for path in sorted(p for p in here.rglob("*") if "__pycache__" not in p.parts):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class RenderJob:
    root: str
    source: str  # relative to root
    kind: str
    slug: str
    code: str  # show | fold | hide
    title: str
    assets_dir: str
    notebook: str | None = None  # an executed run's notebook (relative to root) to render
    merge: bool = False  # show the source's current prose with the run's outputs
    index_code: bool = False  # let the search index see code inputs
    sanitize: bool = True  # report HTML and SVG cannot run script ([site] sanitize)
    max_output: int = 1 << 20  # bytes of a text or HTML output shown; longer ones are cut

    thumbnail: str = ""  # front matter thumbnail: a path, or the index of a figure (from 0)

    def for_run(self, notebook: str, merge: bool) -> RenderJob:
        """This job for one run's executed notebook (merged with the source's prose or not)."""
        return replace(self, notebook=notebook, merge=merge)


ROOT_TOKEN = "@@KR-ROOT@@"  # stands for the page's relative path to the site root


def merge_outputs(source: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """The source notebook with the outputs of a run of the same code, aligned by code-cell
    order: a Markdown-only edit shows at once, without executing again."""
    run_code = [
        c
        for c in run.get("cells", [])
        if c.get("cell_type") == "code" and "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]
    source_code = [c for c in source.get("cells", []) if c.get("cell_type") == "code"]
    if len(run_code) != len(source_code):
        return run
    for mine, theirs in zip(source_code, run_code, strict=True):
        mine["outputs"] = theirs.get("outputs", [])
        mine["execution_count"] = theirs.get("execution_count")
    injected = [
        c for c in run.get("cells", []) if "injected-parameters" in c.get("metadata", {}).get("tags", [])
    ]
    if injected:  # the values this run used, right after the parameters cell, as papermill put them
        cells = source.get("cells", [])
        at = next(
            (i + 1 for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), 0
        )
        cells[at:at] = injected
    source.setdefault("metadata", {}).setdefault(
        "language_info", run.get("metadata", {}).get("language_info", {})
    )
    if "widgets" in run.get("metadata", {}):  # the run's widgets, as its outputs show them
        source["metadata"]["widgets"] = run["metadata"]["widgets"]
    return source


PAPERMILL_ERROR = "papermill-error-cell-tag"


def _rejoin(nb: dict[str, Any]) -> dict[str, Any]:
    """Join the line lists of .ipynb JSON into strings, as nbformat's reader does."""
    for cell in nb.get("cells", []):
        cell["source"] = _text(cell.get("source"))
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _text(output["text"])
            data = output.get("data")
            if isinstance(data, dict):
                for mime, value in data.items():
                    if isinstance(value, list) and not _json_mime(mime):  # (a JSON list is data)
                        data[mime] = _text(value)
    return nb


INTERACTIVE_NOTE = '<p class="interactive-note">Interactive output: open the notebook to see it.</p>'


_OPTION = re.compile(r"^#\|\s?(.*)$")


def apply_cell_options(cell: dict[str, Any]) -> set[str]:
    """Quarto's cell options (`#| echo: false` lines at the top of a code cell) as knowrepo's
    cell tags; the option lines leave the shown code."""
    lines = _text(cell.get("source")).split("\n")
    options = []
    while lines and (match := _OPTION.match(lines[0])):
        options.append(match.group(1))
        lines.pop(0)
    if not options:
        return set()
    cell["source"] = "\n".join(lines)
    try:
        values = load_yaml("\n".join(options)) or {}
    except YamlProblem:
        return set()
    if not isinstance(values, dict):
        return set()
    tags = {str(t) for t in values.get("tags") or [] if isinstance(values.get("tags"), list)}
    false = (False, "false")
    if values.get("include") in false:
        tags.add("remove-cell")
    if values.get("echo") in false:
        tags.add("remove-input")
    if values.get("output") in false:
        tags.add("remove-output")
    if values.get("code-fold") in (True, "true", "show"):
        tags.add("hide-input")
    return tags


# The repr Python gives an object that has no repr of its own: worth less than any other type.
_OBJECT_REPR = re.compile(r"^<[\w.]+ object(?: at 0x[0-9a-f]+)?>$")
_WIDGET_REPR = re.compile(r"^([A-Z]\w*)\(")


def widget_note(plain: str) -> str:
    """What an ipywidget shows without a kernel: its kind, not `IntSlider(value=7, ...)`."""
    kind = f" ({html.escape(match.group(1))})" if (match := _WIDGET_REPR.match(plain)) else ""
    return f'<p class="interactive-note">Interactive widget{kind}: it works in the running notebook.</p>'


def richest_static(data: dict[str, Any], limit: int) -> dict[str, Any]:
    """A bare `<IPython.core.display.JSON object>` repr gives way to the richest other type
    (nbconvert shows no JSON: it is shown as indented text)."""
    plain = _text(data.get("text/plain", "")).strip()
    if plain and not _OBJECT_REPR.match(plain):
        return data
    others = {k: v for k, v in data.items() if k != "text/plain"}
    if any(k in others for k in (*STATIC_TYPES, "text/html")):
        return others
    if "application/json" in others:  # (not scrapbook's +json: its values are metrics, not shown)
        shown = json.dumps(others["application/json"], indent=2, ensure_ascii=False, default=str)
        return cap_output({"data": {**others, "text/plain": shown}}, limit)["data"]
    return data


def _json_mime(mime: str) -> bool:
    return mime == "application/json" or mime.endswith("+json")


def _static_outputs(output: dict[str, Any], sanitize: bool, limit: int) -> dict[str, Any]:
    """Drop output types that need a kernel or a CDN script, keeping the static fallback; with
    `sanitize`, HTML output cannot run script."""
    data = output.get("data")
    if not isinstance(data, dict):
        return output
    if LIVE_ONLY[0] in data and not any(k in data for k in (*STATIC_TYPES, "text/html")):
        return {**output, "data": {"text/html": widget_note(_text(data.get("text/plain", "")))}}
    live = any(k in data for k in LIVE_ONLY)
    data = richest_static({k: v for k, v in data.items() if k not in LIVE_ONLY}, limit)
    if live and list(data) == ["text/plain"] and _OBJECT_REPR.match(_text(data["text/plain"]).strip()):
        data = {}  # only <IPython.core.display.Javascript object> is left: the note says more
    metric = data.get(METRIC_MIME)
    if isinstance(metric, dict) and "name" in metric:
        name, value = html.escape(clip(metric["name"])), html.escape(format_figure(metric.get("value")))
        tile = (
            f'<div class="kr-metric"><span class="kr-metric-name">{name}</span> '
            f'<span class="kr-metric-value">{value}</span></div>'
        )
        return {**output, "data": {"text/html": tile}}
    page = _text(data.get("text/html", ""))
    needs_script = loads_script(page)
    has_static = any(k in data for k in STATIC_TYPES)
    if needs_script and has_static:
        data.pop("text/html")
    elif needs_script:
        data["text/html"] = INTERACTIVE_NOTE
    elif "text/html" in data and sanitize:
        from knowrepo.pipeline.render.sanitize import clean_html

        data["text/html"] = clean_html(page)
    if not data:
        data = {"text/html": INTERACTIVE_NOTE}
    return {**output, "data": data}


def _pixels(value: Any) -> int | None:
    """A width or height from output metadata, as a whole number of pixels (or none)."""
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number < 100_000 else None


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def cap_output(output: dict[str, Any], limit: int) -> dict[str, Any]:
    """An output whose text or HTML is longer than `limit` bytes, cut (text) or replaced by a
    note (HTML, images over 16 x limit): a page is never tens of megabytes of one output."""
    note = "the whole output is in the executed notebook"
    if output.get("output_type") == "stream" and len(output.get("text", "")) > limit:
        text = output["text"]
        return {
            **output,
            "text": text[:limit] + f"\n… output cut at {_size(limit)} of {_size(len(text))}; {note}\n",
        }
    data = output.get("data")
    if not isinstance(data, dict):
        return output
    capped = dict(data)
    for mime, value in data.items():
        size = len(value) if isinstance(value, str) else 0
        if mime in IMAGE_TYPES and size > 16 * limit or mime == "text/html" and size > limit:
            del capped[mime]
            capped["text/html"] = (
                f'<p class="output-cut">An output of {_size(size)} is not shown here; {note}.</p>'
            )
        elif mime == "text/plain" and size > limit:
            capped[mime] = value[:limit] + f"\n… output cut at {_size(limit)} of {_size(size)}; {note}"
    return {**output, "data": capped}


class NotebookPreparer:
    """Turns a notebook into what the template shows: tags applied, images written as files."""

    def __init__(
        self,
        store: AssetStore,
        prefix: str,
        code: str,
        title: str,
        sanitize: bool = True,
        max_output: int = 1 << 20,
        source: str = "",
    ) -> None:
        self.store, self.prefix, self.code, self.title = store, prefix, code, title
        self.sanitize, self.max_output, self.source = sanitize, max_output, source
        self.figures = 0
        self.widgets: dict[str, dict[str, Any]] = {}  # the notebook's saved widget state, by model id
        self.cell = 0  # the cell being prepared (1-based, as warnings name it)
        self.section = ""  # the last heading before it
        self.warnings: list[str] = []

    def _blob(self, mime: str, raw: str) -> bytes | None:
        """The image's bytes (an SVG cleaned when sanitizing), or None with a warning."""
        if mime == "image/svg+xml":
            if not self.sanitize:
                return raw.encode()
            from knowrepo.pipeline.render.sanitize import clean_svg

            cleaned = clean_svg(raw.encode())
            if cleaned is None:
                self.warnings.append(
                    f"{self.source}: cell {self.cell}: an SVG output is not well-formed SVG; not shown"
                )
            return cleaned
        try:
            blob = base64.b64decode("".join(raw.split()), validate=True)  # (lines wrapped at 76: fine)
        except (ValueError, TypeError):
            blob = b""
        if not blob.startswith(_MAGIC.get(mime, b"")) or not blob:
            self.warnings.append(
                f"{self.source}: cell {self.cell}: an {mime} output is not valid base64 {mime}; not shown"
            )
            return None
        return blob

    def image(self, output: dict[str, Any], section: str) -> None:
        data, meta = output.get("data", {}), output.setdefault("metadata", {})
        for mime, suffix in IMAGE_TYPES.items():
            if mime not in data:
                continue
            blob = self._blob(mime, _text(data[mime]))
            if blob is None:
                del data[mime]
                continue
            name = self.store.put(blob, suffix)
            self.figures += 1
            plain = _text(data.get("text/plain", "")).strip()
            mime_meta = meta.get(mime, {}) if isinstance(meta.get(mime), dict) else {}
            alt = mime_meta.get("alt") or meta.get("alt")
            if not alt and plain and not _DEFAULT_REPR.match(plain):
                alt = plain
            if not alt:
                alt = f"Figure {self.figures}" + (f": {section}" if section else "")
            size = png_size(blob) if mime == "image/png" else None
            width = _pixels(mime_meta.get("width")) or (size[0] if size else None)
            height = _pixels(mime_meta.get("height")) or (size[1] if size else None)
            meta["knowrepo"] = {
                "src": self.prefix + name,
                "alt": alt,
                "name": name,
                "width": width,
                "height": height,
            }
            data[mime] = ""  # the bytes now live in the file; keep the page small

    def prepare(self, nb: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(a notebook ready for the template, asset names of its images in page order)."""
        from knowrepo.pipeline.frontmatter import notebook_front_matter

        nb = _rejoin(copy.deepcopy(nb))
        self.widgets = saved_widgets(nb)  # (shown statically, cell by cell)
        nb.setdefault("metadata", {}).pop("widgets", None)  # legacy ipywidgets state crashes nbconvert
        # papermill's "An Exception was encountered" cells (giant red headings, put before the
        # front matter too): the run's page says it failed in knowrepo's own banner instead.
        nb["cells"] = [
            c for c in nb.get("cells", []) if PAPERMILL_ERROR not in c.get("metadata", {}).get("tags", [])
        ]
        _yaml, fm_index = notebook_front_matter(nb.get("cells", []))
        cells, images = [], []
        self.section = ""
        for index, cell in enumerate(nb.get("cells", [])):
            self.cell = index + 1
            tags = set(cell.get("metadata", {}).get("tags", []))
            if cell.get("cell_type") == "code":
                tags |= apply_cell_options(cell)
            if index == fm_index or "remove-cell" in tags:
                continue
            if "injected-parameters" in tags:  # shown as the values this run used
                cell.setdefault("metadata", {})["knowrepo_injected"] = True
            kind = cell.get("cell_type")
            if kind == "raw" and self.sanitize:  # nbconvert shows raw cells as HTML as they are
                from knowrepo.pipeline.render.sanitize import clean_html

                cell["source"] = clean_html(_text(cell.get("source")))
            elif kind == "markdown":
                images += self._markdown_cell(cell)
            elif kind == "code":
                images += self._code_cell(cell, tags)
                if not _text(cell.get("source")).strip() and not cell["outputs"]:
                    continue
            cells.append(cell)
        nb["cells"] = cells
        return nb, images

    def _markdown_cell(self, cell: dict[str, Any]) -> list[str]:
        """Attachments written as assets; the cell's last heading names the figures after it."""
        source, images = _text(cell.get("source")), []
        for name, bundle in (cell.get("attachments") or {}).items():
            for mime, payload in (bundle or {}).items() if isinstance(bundle, dict) else ():
                wanted = mime in IMAGE_TYPES and mime != "image/svg+xml"
                if wanted and (blob := self._blob(mime, _text(payload))) is not None:
                    asset = self.store.put(blob, IMAGE_TYPES[mime])
                    source = source.replace(f"attachment:{name}", self.prefix + asset)
                    images.append(asset)
        cell["source"] = source
        heads = re.findall(r"^#{1,6}\s+(.+)$", source, re.M)
        self.section = heads[-1].strip() if heads else self.section
        return images

    def chart(self, output: dict[str, Any]) -> list[str] | None:
        """An interactive chart's spec as a JSON asset and its output the placeholder site.js
        draws it in (with its static image, when it has one); the asset names, or None when
        the output holds no chart the site can draw (its static fallback then shows)."""
        chart = find_chart(output)
        if chart is None:
            return None
        if chart.kind == "bokeh" and self.sanitize:
            from knowrepo.pipeline.render.bokehdoc import clean_documents, static_only

            if static_only(chart.spec["docs_json"]):
                return None  # model classes declared in the document, or a Dialog: its static view shows
            clean_documents(chart.spec["docs_json"])
        blob = json.dumps(chart.spec, separators=(",", ":"), default=str).encode()
        if len(blob) > 16 * self.max_output:  # (as for images: a page never pulls in 50 MB)
            return None
        names = [self.store.put(blob, f".{chart.kind}.json")]
        static, limit = chart.static, 16 * self.max_output
        if static is None and chart.kind == "vega" and (svg := vega_svg(chart, limit)) is not None:
            static = ("image/svg+xml", svg)
        image = self._blob(*static) if static else None
        if image is not None:
            names.append(self.store.put(image, IMAGE_TYPES[static[0]]))
        src = self.prefix + names[-1] if image is not None else None
        output["data"] = {"text/html": placeholder(chart, self.prefix + names[0], src)}
        output["metadata"] = {}
        return names

    def _with_saved_widgets(self, outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Widget outputs as the static outputs of their saved state (others as they are)."""
        found: list[dict[str, Any]] = []
        for output in outputs:
            shown = static_widget(output, self.widgets) if self.widgets else None
            found += [output] if shown is None else shown
        return found

    def _code_cell(self, cell: dict[str, Any], tags: set[str]) -> list[str]:
        """Cell tags and the code setting applied; outputs made static, capped, images as files."""
        meta = cell.setdefault("metadata", {})
        if "remove-input" in tags or self.code == "hide":
            meta.setdefault("transient", {})["remove_source"] = True
        elif "hide-input" in tags or self.code == "fold":
            meta["knowrepo"] = {"fold": True}
        if "remove-output" in tags:
            cell["outputs"] = []
        outputs, images = [], []
        for output in self._with_saved_widgets(cell.get("outputs", [])):
            if is_bokeh_scaffold(output):
                continue
            if (charted := self.chart(output)) is not None:
                outputs.append(output)
                images.extend(charted)
                continue
            output = _static_outputs(cap_output(output, self.max_output), self.sanitize, self.max_output)
            self.image(output, self.section)
            if name := output.get("metadata", {}).get("knowrepo", {}).get("name"):
                images.append(name)
            outputs.append(output)
        cell["outputs"] = outputs
        return images


class NotebookRenderer:
    """One nbconvert exporter for the life of a process."""

    def __init__(self, cache_dir: str | None = None) -> None:
        from nbconvert.exporters import HTMLExporter, TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
        from traitlets.config import Config

        class BodyExporter(HTMLExporter):
            """HTMLExporter minus its whole-page BeautifulSoup pass (~30% of the render time):
            it only adds alt text, which knowrepo sets on each image itself."""

            def from_notebook_node(self, nb, resources=None, **kw):  # type: ignore[override]
                resources = self._init_resources(resources)
                self.register_filter(
                    "filter_data_type",
                    WidgetsDataTypeFilter(
                        notebook_metadata=self._nb_metadata, parent=self, resources=resources
                    ),
                )
                return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        config = Config()
        config.TemplateExporter.exclude_input_prompt = True
        config.TemplateExporter.exclude_output_prompt = True
        config.Exporter.optimistic_validation = True  # validate once, not after every preprocessor
        self.exporter = BodyExporter(
            config=config, template_name="knowrepo", extra_template_basedirs=[str(TEMPLATE_DIR)]
        )
        if cache_dir:
            # Compiled templates cached on disk: a one-report rebuild skips most of the
            # ~0.4 s that compiling nbconvert's template tree costs a fresh process.
            from jinja2 import FileSystemBytecodeCache

            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            self.exporter.environment.bytecode_cache = FileSystemBytecodeCache(cache_dir)
        from knowrepo.pipeline.render.ansi import themed_ansi2html
        from knowrepo.pipeline.render.markdown import latex_output_to_html, render_markdown

        self.sanitize = True
        self.exporter.register_filter("kr_markdown", lambda text: render_markdown(text, self.sanitize))
        self.exporter.register_filter("kr_latex", latex_output_to_html)
        self.exporter.register_filter("ansi2html", themed_ansi2html)  # (nbconvert's, recoloured)
        self._highlighters: dict[str | None, Any] = {}
        self._ipython_lexers = importlib.util.find_spec("ipython_pygments_lexers") is not None
        self._Highlight2HTML = Highlight2HTML

    def body(self, nb_dict: dict[str, Any], sanitize: bool = True) -> str:
        import nbformat

        self.sanitize = sanitize
        nb = nbformat.from_dict(nb_dict)
        if nb.get("nbformat", 4) < 4:
            nb = nbformat.convert(nb, 4)
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name"))
        if lexer == "ipython3" and self._ipython_lexers:
            # The same IPython3Lexer, found through Pygments' plugin registry: nbconvert's own
            # path to it imports all of IPython (0.12 s of a one-report rebuild).
            lexer = "ipython"
        if lexer not in self._highlighters:
            self._highlighters[lexer] = self._Highlight2HTML(pygments_lexer=lexer, parent=self.exporter)
        self.exporter.register_filter("highlight_code", self._highlighters[lexer])
        html_body, _resources = self.exporter.from_notebook_node(nb)
        return html_body


_renderer: NotebookRenderer | None = None


def _notebook_renderer(cache_dir: str | None) -> NotebookRenderer:
    global _renderer
    if _renderer is None:
        _renderer = NotebookRenderer(cache_dir)
    return _renderer


def warm_renderer(cache_dir: str) -> None:
    """Build this process's exporter and render a tiny notebook once: a fresh process pays
    ~0.15 s on its first render (Pygments lexers, template globals) on top of the imports."""
    from knowrepo.pipeline.render.markdown import render_markdown

    render_markdown("*warm*", sanitize=True)
    cell = {
        "id": "warm",
        "cell_type": "code",
        "metadata": {},
        "source": "x = 1",
        "outputs": [],
        "execution_count": 1,
    }
    info = {"name": "python", "pygments_lexer": "ipython3"}
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"language_info": info}, "cells": [cell]}
    _notebook_renderer(cache_dir).body(nb)


def _local_images(
    body: str,
    job: RenderJob,
    store: AssetStore,
    prefix: str,
    images: list[str],
    deps: dict[str, str],
    warnings: list[str],
) -> str:
    """Copy relative images the prose points at into the assets, by content hash."""

    def swap(match: re.Match[str]) -> str:
        src = html.unescape(match.group(3))
        if re.match(r"^([a-z][a-z0-9+.-]*:|/|#)", src, re.I) or src.startswith(prefix):
            return match.group(0)
        name, problem = _copy_image(job, src, store, deps)
        if name is None:
            warnings.append(f"{job.source}: image '{src}' {problem}")
            return match.group(0)
        images.append(name)
        return f"{match.group(1)}{prefix}{name}{match.group(4)}"

    return _IMG_SRC.sub(swap, body)


def _copy_image(job: RenderJob, src: str, store: AssetStore, deps: dict[str, str]) -> tuple[str | None, str]:
    """(asset name, "") of a relative image copied into the assets, or (None, why not)."""
    root = Path(job.root)
    path = (root / job.source).parent / unquote(src.split("#")[0].split("?")[0])
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return None, f"is not an image file ({path.suffix or 'no suffix'}); not published"
    if reason := outside_reason(root, path):
        return None, f"{reason}; not published"
    path = path.resolve()
    if not path.is_file():
        return None, "not found"
    data = raw = path.read_bytes()
    if job.sanitize and path.suffix.lower() == ".svg":
        from knowrepo.pipeline.render.sanitize import clean_svg

        if (data := clean_svg(raw)) is None:  # type: ignore[assignment]
            return None, "is not well-formed SVG; not published"
    deps[path.relative_to(root.resolve()).as_posix()] = content_hash(raw)
    return store.put(data, path.suffix.lower()), ""


def render_job(job: RenderJob) -> tuple[RenderedPage, list[str]]:
    """Render one report: (page, warnings). Raises KnowrepoError naming the file on failure."""
    from knowrepo.pipeline.render.markdown import anchor_headings, first_paragraph
    from knowrepo.support.faults import pause_point

    pause_point("render", Path(job.root) / ".knowrepo")
    store = AssetStore(Path(job.assets_dir))
    prefix = ROOT_TOKEN + "assets/img/"
    deps: dict[str, str] = {}
    warnings: list[str] = []
    try:
        with warnings_module.catch_warnings():
            # nbconvert warns on stderr, naming no report, of outputs it has no template for
            # (application/json alone): the page shows what it can; quiet by default.
            warnings_module.simplefilter("ignore")
            body, images = _render_body(job, store, prefix, warnings)
        body = repair_text(body)
        body = _local_images(body, job, store, prefix, images, deps, warnings)
        body, toc, heading = anchor_headings(body, drop_title=job.title)
        body = align_numeric_columns(body)
        if job.sanitize:  # last: no edit of the HTML as text comes after it
            from knowrepo.pipeline.render.sanitize import clean_body

            body = clean_body(body)
    except KnowrepoError:
        raise
    except Exception as exc:  # any failure inside nbconvert or Markdown: name the file
        raise write_error(exc) or KnowrepoError(
            job.source, f"rendering failed: {type(exc).__name__}: {exc}"
        ) from exc
    thumbnail = _thumbnail(job, store, images, deps, warnings)
    page = RenderedPage(
        body=body,
        toc=toc,
        excerpt=first_paragraph(body),
        images=images,
        thumbnail=thumbnail,
        deps=deps,
    )
    return page, warnings


def _read_notebook(root: str, rel: str) -> dict[str, Any]:
    """The notebook at `rel`: a source, or a run's executed notebook (a fault in it names that
    file, never the source)."""
    path = Path(root) / rel
    if path.suffix != ".ipynb":  # a percent script or Markdown notebook (the source's prose)
        from knowrepo.pipeline.textnotebook import read_notebook

        return read_notebook(path)
    from knowrepo.pipeline.discover import notebook_json

    data = path.read_bytes()
    nb = notebook_json(rel, data)
    return repair_tree(nb) if b"\\ud" in data.lower() else nb  # lone surrogates: no UTF-8 page holds them


def _render_body(
    job: RenderJob, store: AssetStore, prefix: str, warnings: list[str]
) -> tuple[str, list[str]]:
    """The body HTML of a notebook (nbconvert) or Markdown report, and its images in order."""
    # Imported here: the build's main process imports this module for RenderJob alone.
    from knowrepo.pipeline.frontmatter import split_markdown
    from knowrepo.pipeline.render.markdown import render_markdown
    from knowrepo.support.text import decode

    if job.kind != "notebook":
        _yaml, text = split_markdown(decode((Path(job.root) / job.source).read_bytes(), job.source))
        return render_markdown(text, job.sanitize), []
    nb = _read_notebook(job.root, job.notebook or job.source)
    if job.merge:
        nb = merge_outputs(_read_notebook(job.root, job.source), nb)
    preparer = NotebookPreparer(store, prefix, job.code, job.title, job.sanitize, job.max_output, job.source)
    prepared, images = preparer.prepare(nb)
    warnings.extend(preparer.warnings)
    prepared["metadata"]["knowrepo"] = {"index_code": job.index_code}
    jinja_cache = str(Path(job.assets_dir).parent / "jinja")
    return _notebook_renderer(jinja_cache).body(prepared, job.sanitize), images


def _thumbnail(
    job: RenderJob, store: AssetStore, images: list[str], deps: dict[str, str], warnings: list[str]
) -> str | None:
    """The card's image: the one front matter names (a path, or the index of a figure, from 0
    as knowledge-repo counts), else the first raster image of the page."""
    chosen = job.thumbnail.strip()
    if chosen.isdigit():
        rasters = [name for name in images if not name.endswith((".svg", ".json"))]
        if int(chosen) < len(rasters):
            return store.thumbnail(rasters[int(chosen)])
        warnings.append(
            f"{job.source}: thumbnail {chosen}: the page has {len(rasters)} figure(s); using the first"
        )
    elif chosen:
        name, problem = _copy_image(job, chosen, store, deps)
        if name is not None and (thumb := store.thumbnail(name)):
            return thumb
        warnings.append(
            f"{job.source}: thumbnail '{chosen}' {problem or 'is not a raster image'}; using the first figure"
        )
    return next(
        (
            thumb
            for name in images
            if not name.endswith((".svg", ".json")) and (thumb := store.thumbnail(name))
        ),
        None,
    )


def no_notebook_page(run: Run | None) -> RenderedPage:
    """The body of a run that ended before papermill wrote its notebook: nothing but that fact
    (the page's banner shows the error)."""
    body = (
        '<p class="run-no-notebook">This run ended before it wrote a notebook, so it has no'
        " outputs to show. Its error is above; the executed notebook is not available.</p>"
    )
    excerpt = f"Run {run.id if run else ''} failed before it wrote a notebook."
    return RenderedPage(body, [], excerpt, [], None, {})


def render_or_error(job: RenderJob) -> tuple[RenderedPage, list[str]] | KnowrepoError:
    """Worker entry point: errors come back as values so one report never stops the rest."""
    try:
        return render_job(job)
    except KnowrepoError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - reported against the file, never raised
        return write_error(exc) or KnowrepoError(job.source, f"rendering failed: {type(exc).__name__}: {exc}")
