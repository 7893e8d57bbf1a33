"""What bodies a report needs rendered: its source, or one per run (the run a variant page
shows merged with the source's current prose), each keyed by everything that shapes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from knowrepo.config import Config
from knowrepo.model import Report, Run
from knowrepo.pipeline.render.job import RenderJob
from knowrepo.support.hashing import key_of

if TYPE_CHECKING:
    from knowrepo.pipeline.execute.plan import ReportPlan


@dataclass
class View:
    """One body to render: a report's source, or one run of it."""

    key: str
    job: RenderJob | None  # None: a run that has no notebook to render
    run: Run | None = None


def report_views(
    root: Path, config: Config, report: Report, plan: ReportPlan | None, fingerprint: str, assets_dir: Path
) -> dict[str, View]:
    """A report's views by name: 'source', or run ids."""
    code = report.meta.code or config.site.code
    job = RenderJob(
        root=str(root),
        source=report.source,
        kind=report.kind,
        slug=report.slug,
        code=code,
        title=report.meta.title,
        assets_dir=str(assets_dir),
        index_code=config.site.index_code,
        sanitize=config.site.sanitize,
        max_output=config.site.max_output_kb * 1024,
        thumbnail=report.meta.thumbnail,
    )
    # What else shapes it: the options declared to re-render (the report's front matter first,
    # as its `code:`), and its title.
    shape: tuple[object, ...] = (config.values("render", report.meta), report.meta.title)
    if report.meta.thumbnail:  # (only then: the keys of every other report stay as they were)
        shape = (*shape, report.meta.thumbnail)
    if plan is None or not any(v.shown for v in plan.variants):  # (no runs, or scratch runs alone)
        return {"source": View(key_of(fingerprint, report.source_hash, report.kind, shape), job)}
    views: dict[str, View] = {}
    for variant in plan.variants:
        shown = variant.shown
        for run in variant.runs:
            merge = run is shown and run.declared == variant.declared_key  # same code: prose can merge
            key = key_of(fingerprint, run.id, merge, report.source_hash if merge else "", shape)
            if not run.has_notebook:  # it ended before writing one: its page says so
                views[run.id] = View(key, None, run)
                continue
            notebook = run.notebook.relative_to(root).as_posix()
            views[run.id] = View(key, job.for_run(notebook, merge), run)
    return views
