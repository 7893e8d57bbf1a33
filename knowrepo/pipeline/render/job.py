"""Render one report (notebook or Markdown) to a RenderedPage. Runs in worker processes.

One exporter is built per process and reused: compiling nbconvert's templates is most of the
cost of a fresh exporter (42 ms vs 90-107 ms per notebook, shared/NOTES.md).
"""

from __future__ import annotations

import hashlib
import importlib.util
import warnings as warnings_module
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.errors import KnowrepoError, write_error
from knowrepo.model import RenderedPage, Run
from knowrepo.pipeline.frontmatter import split_markdown
from knowrepo.pipeline.ipynb import notebook_json
from knowrepo.pipeline.render.ansi import themed_ansi2html
from knowrepo.pipeline.render.assets import AssetStore
from knowrepo.pipeline.render.charts import chart_packages
from knowrepo.pipeline.render.images import image_file
from knowrepo.pipeline.render.markdown import (
    first_paragraph,
    latex_output_to_html,
    markdown_syntax,
    render_markdown,
)
from knowrepo.pipeline.render.prepare import NotebookPreparer
from knowrepo.pipeline.render.tex import math_page
from knowrepo.pipeline.textnotebook import read_notebook
from knowrepo.plugins import BodyContext, LoadRegistry, Registry, apply_passes
from knowrepo.support.faults import pause_point
from knowrepo.support.hashing import content_hash
from knowrepo.support.text import decode
from knowrepo.support.tracebacks import repository_roots, shorten_outputs
from knowrepo.support.yamltext import repair_tree

if TYPE_CHECKING:
    from nbformat import NotebookNode

TEMPLATE_DIR = Path(__file__).parent / "nbtemplate"
ROOT_TOKEN = "@@KR-ROOT@@"  # stands for the page's relative path to the site root
ASSET_PREFIX = ROOT_TOKEN + "assets/img/"  # how the URL of each asset file starts in a body


def render_fingerprint(registry: Registry) -> str:
    """Hash of everything that shapes a rendered body: knowrepo's template and code (the render
    package, the registry and the list of built-in parts), the plugins' names and versions
    (upgrading one re-renders what it drew), and which chart libraries are installed
    (installing bokeh turns its notes into charts)."""
    digest = hashlib.sha256(chart_packages().encode())
    digest.update(registry.fingerprint().encode())
    here = Path(__file__).parent  # the render package: its modules and nbconvert template
    package = here.parent.parent
    files = sorted(p for p in here.rglob("*") if "__pycache__" not in p.parts and p.is_file())
    figures = [package / "support" / "figures.py", package / "support" / "numbers.py"]  # (metric tiles)
    # (support/tracebacks.py: how tracebacks in outputs are shortened)
    for path in [
        *files,
        package / "plugins.py",
        package / "builtins.py",
        package / "support/tracebacks.py",
        *figures,
    ]:
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


Outcome = tuple[RenderedPage, list[str]] | KnowrepoError  # (page, warnings), or why it failed
OnDone = Callable[[RenderJob, Outcome], None]  # what a renderer calls as each job is done


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


class NotebookRenderer:
    """One nbconvert exporter for the life of a process."""

    def __init__(self, cache_dir: str | None = None) -> None:
        # (nbconvert: ~0.5 s, for render workers only)
        from nbconvert.exporters import HTMLExporter, TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
        from traitlets.config import Config

        class BodyExporter(HTMLExporter):
            """HTMLExporter minus its whole-page BeautifulSoup pass (~30% of the render time):
            it only adds alt text, which knowrepo sets on each image itself."""

            # (the override nbconvert's own HTMLExporter makes, and marks as this one is)
            def from_notebook_node(  # type: ignore[override]
                self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
            ) -> tuple[str, dict[str, Any]]:
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

        self.sanitize = True
        self.exporter.register_filter("kr_markdown", self._markdown)
        self.exporter.register_filter("kr_latex", latex_output_to_html)
        self.exporter.register_filter("ansi2html", themed_ansi2html)  # (nbconvert's, recoloured)
        self._highlighters: dict[str | None, Any] = {}
        self._ipython_lexers = importlib.util.find_spec("ipython_pygments_lexers") is not None
        self._Highlight2HTML = Highlight2HTML

    def _markdown(self, text: str, cell: object = None) -> str:
        """A Markdown cell (or output) as HTML; its warnings name the cell (`cell`: its number,
        which prepare.py puts in the cell's metadata)."""
        return render_markdown(text, self.sanitize, f"cell {cell}, " if isinstance(cell, int) else "")

    def body(self, nb_dict: dict[str, Any], sanitize: bool = True) -> str:
        import nbformat  # (nbformat: render workers only)

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


def warm_renderer(cache_dir: str, load_registry: LoadRegistry) -> None:
    """Load the registry, build this process's exporter and render a tiny notebook once: a
    fresh process pays ~0.15 s on its first render (Pygments lexers, template globals) on top
    of the imports."""
    registry = load_registry()
    with markdown_syntax(registry):
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
    with markdown_syntax(registry):
        _notebook_renderer(cache_dir).body(nb)


def render_job(job: RenderJob, registry: Registry) -> tuple[RenderedPage, list[str]]:
    """Render one report with the registry's renderers, Markdown syntax and body passes:
    (page, warnings). Raises KnowrepoError naming the file on failure."""
    pause_point("render", Path(job.root) / ".knowrepo")
    store = AssetStore(Path(job.assets_dir))
    deps: dict[str, str | None] = {}
    warnings: list[str] = []
    try:
        with (
            warnings_module.catch_warnings(),
            markdown_syntax(registry, lambda line: warnings.append(f"{job.source}: {line}")),
            math_page(),
        ):
            # nbconvert warns on stderr, naming no report, of outputs it has no template for
            # (application/json alone): the page shows what it can; quiet by default.
            warnings_module.simplefilter("ignore")
            body, images = _render_body(job, store, ASSET_PREFIX, warnings, registry)
        ctx = _body_context(job, store, images, deps, warnings)
        body = apply_passes(registry.body_passes(), body, ctx)
    except KnowrepoError:
        raise
    except Exception as exc:  # any failure inside nbconvert, Markdown or a pass: name the file
        raise write_error(exc) or KnowrepoError(
            job.source, f"rendering failed: {type(exc).__name__}: {exc}"
        ) from exc
    thumbnail = _thumbnail(job, store, images, ctx.read, warnings)
    page = RenderedPage(
        body=body,
        toc=ctx.toc,
        excerpt=first_paragraph(body),
        images=images,
        thumbnail=thumbnail,
        deps=deps,
    )
    return page, warnings


def _body_context(
    job: RenderJob, store: AssetStore, images: list[str], deps: dict[str, str | None], warnings: list[str]
) -> BodyContext:
    """What the body passes get: the report, and its asset store and files as they record them."""

    def asset(data: bytes, suffix: str) -> str:
        name = store.put(data, suffix)
        images.append(name)
        return ASSET_PREFIX + name

    def read(rel: str) -> bytes:
        try:
            raw = (Path(job.root) / rel).read_bytes()
        except OSError:
            deps[rel] = None  # (a file that is missing now: its coming re-renders the body)
            raise
        deps[rel] = content_hash(raw)
        return raw

    return BodyContext(
        source=job.source,
        root=job.root,
        title=job.title,
        sanitize=job.sanitize,
        asset_prefix=ASSET_PREFIX,
        asset=asset,
        read=read,
        warn=warnings.append,
    )


def _read_notebook(root: str, rel: str) -> dict[str, Any]:
    """The notebook at `rel`: a source, or a run's executed notebook (a fault in it names that
    file, never the source)."""
    path = Path(root) / rel
    if path.suffix != ".ipynb":  # a percent script or Markdown notebook (the source's prose)
        return read_notebook(path)
    data = path.read_bytes()
    nb = notebook_json(rel, data)
    return repair_tree(nb) if b"\\ud" in data.lower() else nb  # lone surrogates: no UTF-8 page holds them


def _render_body(
    job: RenderJob, store: AssetStore, prefix: str, warnings: list[str], registry: Registry
) -> tuple[str, list[str]]:
    """The body HTML of a notebook (nbconvert) or Markdown report, and its images in order."""
    if job.kind != "notebook":
        source = decode((Path(job.root) / job.source).read_bytes(), job.source)
        _yaml, text = split_markdown(source)
        first_line = source[: len(source) - len(text)].count("\n") + 1  # (after the front matter)
        return render_markdown(text, job.sanitize, first_line=first_line), []
    nb = _read_notebook(job.root, job.notebook or job.source)
    if job.merge:
        nb = merge_outputs(_read_notebook(job.root, job.source), nb)
    shorten_outputs(nb, repository_roots(job.root))  # (tracebacks, warnings: no path of this machine)

    preparer = NotebookPreparer(
        store, prefix, job.code, job.title, job.sanitize, job.max_output, job.source, registry=registry
    )
    prepared, images = preparer.prepare(nb)
    warnings.extend(preparer.warnings)
    prepared["metadata"]["knowrepo"] = {"index_code": job.index_code}
    jinja_cache = str(Path(job.assets_dir).parent / "jinja")
    return _notebook_renderer(jinja_cache).body(prepared, job.sanitize), images


def _thumbnail(
    job: RenderJob, store: AssetStore, images: list[str], read: Callable[[str], bytes], warnings: list[str]
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
        found = image_file(job.root, job.source, chosen, job.sanitize, read)
        if not isinstance(found, str) and (thumb := store.thumbnail(store.put(*found))):
            return thumb
        problem = found if isinstance(found, str) else "is not a raster image"
        warnings.append(f"{job.source}: thumbnail '{chosen}' {problem}; using the first figure")
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


def render_or_error(job: RenderJob, load_registry: LoadRegistry) -> Outcome:
    """Worker entry point: errors come back as values so one report never stops the rest. The
    worker loads the registry once (the loader comes by reference: its parts need not pickle)."""
    try:
        return render_job(job, load_registry())
    except KnowrepoError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - reported against the file, never raised
        return write_error(exc) or KnowrepoError(job.source, f"rendering failed: {type(exc).__name__}: {exc}")
