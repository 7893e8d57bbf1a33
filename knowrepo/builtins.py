"""knowrepo's own parts, registered through the same public calls a plugin makes
(loader.py registers them first, then the plugins').

This module sits above every part it registers (pipeline/, exports/), and only loader.py
imports it: a part that needs the registry is handed it, or the loader, by its caller.

The order of registration is the order of precedence: a renderer registered earlier is tried
first on an output that holds several registered types, and passes run in this order unless
a pass is placed with before=/after=. The README's "Extending knowrepo" names each part.

Registered directly by loader.load_registry, not through an entry point of knowrepo's own: an entry
point needs knowrepo installed with its metadata up to date, and a checkout on PYTHONPATH (or
an editable install made before the entry point existed) would then run without its parts.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from knowrepo import METRIC_MIME
from knowrepo.config import Config
from knowrepo.exports.pdf import build_pdfs
from knowrepo.pipeline.assemble.authors import author_names
from knowrepo.pipeline.assemble.links import rewrite_report_links, slug_text
from knowrepo.pipeline.assemble.pages import format_date
from knowrepo.pipeline.dates import period_label
from knowrepo.pipeline.render import callouts as callout_syntax
from knowrepo.pipeline.render import charts
from knowrepo.pipeline.render.citations import cite_references
from knowrepo.pipeline.render.crossref import resolve_references
from knowrepo.pipeline.render.equations import number_equations
from knowrepo.pipeline.render.floats import make_floats, myst_figure
from knowrepo.pipeline.render.images import local_images
from knowrepo.pipeline.render.job import ROOT_TOKEN
from knowrepo.pipeline.render.markdown import SYNTAX, anchor_headings
from knowrepo.pipeline.render.mermaid import draw_diagrams, mermaid_plugin
from knowrepo.pipeline.render.outputs import metric_tile
from knowrepo.pipeline.render.tables import align_numeric_columns
from knowrepo.pipeline.render.widgets import WIDGET_VIEW, render_widget
from knowrepo.pipeline.state import BuildState
from knowrepo.plugins import BodyContext, Executor, PageContext, Registry
from knowrepo.support.figures import figure_label, show_figure
from knowrepo.support.numbers import SHOWN_TEXT, SHOWN_TEXT_RUN, clip
from knowrepo.support.tracebacks import run_error_line
from knowrepo.support.yamltext import repair_text

if TYPE_CHECKING:
    from knowrepo.exports.bodies import Export
    from knowrepo.pipeline.execute.executors import ExecutorChoice


def setup(registry: Registry) -> None:
    """Every built-in part, by kind."""
    executors(registry)
    renderers(registry)
    markdown(registry)
    callouts(registry)
    passes(registry)
    steps_and_exports(registry)
    templates(registry)


def executors(registry: Registry) -> None:
    registry.add_executor("local", _local)
    registry.add_executor("dask", _dask)


def renderers(registry: Registry) -> None:
    """Saved widgets first (their outputs are then shown as any output is), then the charts."""
    registry.add_renderer(WIDGET_VIEW, render_widget)
    registry.add_renderer(charts.BOKEH_LOAD, charts.drop_output)
    registry.add_renderer(charts.PLOTLY_MIME, charts.render_plotly)
    for mime, mode in charts.vega_types().items():
        registry.add_renderer(mime, partial(charts.render_vega, mode=mode))
    registry.add_renderer("text/html", charts.render_html)
    registry.add_renderer(charts.BOKEH_EXEC, charts.render_bokeh)
    registry.add_renderer(METRIC_MIME, metric_tile)


def markdown(registry: Registry) -> None:
    """CommonMark's extensions as GitHub and JupyterLab read them (tables, strikethrough, task
    lists, autolinks, footnotes), math as Jupyter reads it, and code highlighted by Pygments:
    each a markdown-it-py plugin (pipeline/render/syntax.py); Mermaid fences (render/mermaid.py)."""
    for name, (extension, config) in SYNTAX.items():
        registry.add_markdown(name, extension, config)
    registry.add_markdown("mermaid", mermaid_plugin)  # after `highlight`: its fence rule wraps that one
    registry.add_markdown("myst_figure", myst_figure)  # (after 'highlight': other fences stay code)


def callouts(registry: Registry) -> None:
    """Callouts in the syntax of each tool authors come from, one HTML shape for all
    (pipeline/render/callouts.py): each syntax a markdown-it-py plugin of its own."""
    registry.add_markdown("github-alerts", callout_syntax.github_alerts_plugin)
    registry.add_markdown("mkdocs-admonitions", callout_syntax.mkdocs_admonitions_plugin)
    registry.add_markdown("myst-callouts", callout_syntax.myst_callouts_plugin)
    registry.add_markdown("quarto-callouts", callout_syntax.quarto_callouts_plugin)


def passes(registry: Registry) -> None:
    """Over a rendered body (cached with it), then over a body as it goes on a page."""
    registry.add_body_pass("repair", _repair)
    registry.add_body_pass("images", local_images)
    registry.add_body_pass("floats", make_floats)  # (before 'headings': it keeps their ids)
    registry.add_body_pass("crossrefs", resolve_references)
    registry.add_body_pass("citations", cite_references)  # (its References heading: in the contents)
    registry.add_body_pass("headings", _headings)
    registry.add_body_pass("equations", _equations)
    registry.add_body_pass("tables", _tables)
    registry.add_body_pass("diagrams", draw_diagrams)  # Mermaid fences: drawn by site.js, SVG for the PDF
    registry.add_body_pass("sanitize", _sanitize)
    registry.add_page_pass("links", _links)
    registry.add_page_pass("root", _root)


def steps_and_exports(registry: Registry) -> None:
    registry.add_build_step("pdf", _pdfs, after="render")
    registry.add_export("pdf", partial(_pdf_export, registry=registry))  # (its page passes, filters)


def templates(registry: Registry) -> None:
    registry.add_filter("figure", show_figure)  # (a figure with its unit and format: support/figures.py)
    registry.add_filter("figure_label", figure_label)
    registry.add_filter("clip", clip)
    registry.add_filter("error_line", run_error_line)
    registry.add_filter("period", period_label)  # a run's period as it reads: 2026-11 -> November 2026
    registry.add_context("tag_slug", slug_text)
    registry.add_context("author_names", author_names)  # (each person once, a username readable)
    registry.add_context("format_date", format_date)
    registry.add_context("shown_text", SHOWN_TEXT)
    registry.add_context("shown_text_run", SHOWN_TEXT_RUN)


# The executors and the export are imported when used: every process that builds or renders
# loads the registry, and importing them (run.py, Dask's side, exports/bodies.py) cost a
# one-report rebuild ~20 ms it never uses.


def _local(choice: ExecutorChoice) -> Executor:
    # (see above: not in every process that loads the registry)
    from knowrepo.pipeline.execute.executors import LocalExecutor

    return LocalExecutor(choice)


def _dask(choice: ExecutorChoice) -> Executor:
    # (see above: not in every process that loads the registry)
    from knowrepo.pipeline.execute.executors import DaskExecutor

    return DaskExecutor(choice)


def _pdf_export(root: Path, config: Config, item: Export, *, registry: Registry) -> bytes:
    # (see above: not in every process that loads the registry)
    from knowrepo.exports.bodies import export_pdf

    return export_pdf(root, config, item, registry)


def _pdfs(state: BuildState) -> None:
    """The PDFs of the reports' pages, in builds with PDFs on ([pdf] enabled, --pdf)."""
    if state.pdf_on:
        build_pdfs(state)


def _repair(body: str, ctx: BodyContext) -> str:
    """Lone surrogates (from a notebook's JSON) as U+FFFD: no UTF-8 page holds them."""
    return repair_text(body)


def _headings(body: str, ctx: BodyContext) -> str:
    """Unique ids for every heading; h2-h3 as the page's contents (ctx.toc)."""
    body, ctx.toc, _first = anchor_headings(body, drop_title=ctx.title)
    return body


def _equations(body: str, ctx: BodyContext) -> str:
    """Equation numbers and \\eqref links, once the whole page is known (a reference may come
    before its equation); a reference to nothing or a formula not drawn: one line each."""
    body, problems = number_equations(body)
    for problem in problems:
        ctx.warn(f"{ctx.source}: {problem}")
    return body


def _tables(body: str, ctx: BodyContext) -> str:
    return align_numeric_columns(body)


def _sanitize(body: str, ctx: BodyContext) -> str:
    """[site] sanitize: last, so that no edit of the HTML as text comes after it."""
    if not ctx.sanitize:
        return body
    from knowrepo.pipeline.render.sanitize import clean_body  # (nh3: only where a body renders)

    return clean_body(body)


def _links(body: str, ctx: PageContext) -> str:
    """Links to other reports' sources as links to their pages."""
    return rewrite_report_links(body, ctx.source, ctx.page, ctx.slug_by_source)


def _root(body: str, ctx: PageContext) -> str:
    """Links to the site's own files, relative to the page."""
    return body.replace(ROOT_TOKEN, ctx.root)
