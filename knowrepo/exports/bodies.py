"""What `knowrepo pdf` and `knowrepo email` export: a report's rendered body for one run or
for the latest successful run of each variant, rendered through the build's own cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from knowrepo.config import Config, load_config
from knowrepo.errors import KnowrepoError
from knowrepo.exports.pdf import (
    PdfJob,
    pdf_base_url,
    pdf_name,
    print_html,
    print_stylesheet,
    render_pdf,
)
from knowrepo.model import RenderedPage, Report, Run
from knowrepo.pipeline.assemble.theme import check_templates, make_environment, theme_dirs, theme_files
from knowrepo.pipeline.discover import discover, find_report
from knowrepo.pipeline.execute.plan import plan_report, require_known
from knowrepo.pipeline.execute.runstore import RunStore, near_run_id
from knowrepo.pipeline.render.job import no_notebook_page, render_fingerprint
from knowrepo.pipeline.render.renderer import render_all
from knowrepo.pipeline.render.views import report_views
from knowrepo.pipeline.stages.render import cached_body
from knowrepo.plugins import LoadRegistry, Registry
from knowrepo.support.tracebacks import run_error_line

if TYPE_CHECKING:
    from knowrepo.pipeline.execute.plan import ReportPlan
    from knowrepo.pipeline.render.job import Outcome, RenderJob
    from knowrepo.pipeline.render.views import View
    from knowrepo.support.progress import Reporter


@dataclass
class Export:
    report: Report
    body: RenderedPage
    run: Run | None
    variant: str  # "" when the report has no variants to tell apart
    file_name: str
    slug_by_source: dict[str, str]  # every report's page, for the links between them


def exports_for(
    root: Path,
    name: str,
    run_id: str | None,
    variants: tuple[str, ...],
    reporter: Reporter,
    load_registry: LoadRegistry,
    last_good: bool = False,
) -> tuple[Config, list[Export]]:
    """The bodies to export, rendering (through the cache, with the registry's parts)
    whatever is not rendered yet."""
    config = load_config(root, load_registry)
    found = discover(root, {}, drafts=True)
    report = find_report(root, found.reports, name, found.errors)
    if report.source in found.failed_sources:
        raise next(e for e in found.errors if e.path == report.source)
    store = RunStore.telling(root, reporter)
    plan = plan_report(root, config, report, store) if report.kind == "notebook" else None
    chosen = _chosen(report, plan, run_id, variants, last_good) or [("source", None, "")]
    fingerprint = render_fingerprint(load_registry())
    views = report_views(root, config, report, plan, fingerprint, config.caches.assets)
    # (drafts are exported on request, but the site does not publish them: no link goes there)
    slugs = {r.source: r.slug for r in found.reports if not r.meta.draft or r.source == report.source}
    wanted = [views[view_name] for view_name, _run, _label in chosen]
    bodies = _bodies(config, wanted, load_registry)
    exports = [
        Export(report, bodies[view.key], run, label, pdf_name(report.slug, label), slugs)
        for (_name, run, label), view in zip(chosen, wanted, strict=True)
    ]
    return config, exports


def _chosen(
    report: Report, plan: ReportPlan | None, run_id: str | None, variants: tuple[str, ...], last_good: bool
) -> list[tuple[str, Run | None, str]]:
    """(view name, run, variant label) of what to export: one run, or each variant's shown run.
    A variant whose latest run failed is refused unless `last_good` (its last successful run)."""
    if plan is None:
        return []
    label = len(plan.variants) > 1
    chosen: list[tuple[str, Run | None, str]]
    if run_id:
        chosen = [(r.id, r, v.name if label else "") for v in plan.variants for r in v.runs if r.id == run_id]
        if not chosen:
            hint = near_run_id(run_id, [r.id for v in plan.variants for r in v.runs])
            raise KnowrepoError(report.source, f"no run {run_id} of this report{hint}")
        return chosen
    chosen = []
    for variant in require_known(plan, list(variants)):
        latest, shown = variant.latest, variant.shown
        if latest is not None and not latest.ok and not last_good:
            error = run_error_line(latest.error) or "failed"  # (one line, naming the cell)
            good = (
                f"its last successful run ({shown.id}, {shown.started[:10]})"
                if shown and shown.ok
                else "none"
            )
            raise KnowrepoError(
                report.source,
                f"the latest run of variant '{variant.name}' ({latest.id}) failed: {error};"
                f" --last-good uses {good}",
            )
        if shown is not None:
            chosen.append((shown.id, shown, variant.name if label else ""))
    return chosen


def _bodies(config: Config, views: list[View], load_registry: LoadRegistry) -> dict[str, RenderedPage]:
    """The rendered body of each view: cached, else rendered here (any error stops the export)."""
    bodies: dict[str, RenderedPage] = {}
    todo: list[tuple[RenderJob, str]] = []  # (job, view key)
    for view in views:
        if view.job is None:
            bodies[view.key] = no_notebook_page(view.run)
        elif (body := cached_body(config.caches.rendered(view.key))) is not None:
            bodies[view.key] = body
        else:
            todo.append((view.job, view.key))
    keys = {id(job): key for job, key in todo}

    def done(job: RenderJob, outcome: Outcome) -> None:
        if isinstance(outcome, KnowrepoError):
            raise outcome
        bodies[keys[id(job)]] = outcome[0]

    render_all([job for job, _key in todo], 1, done, load_registry)
    return bodies


def export_pdf(root: Path, config: Config, export: Export, registry: Registry) -> bytes:
    """The PDF of one export (deterministic: the same run gives the same bytes), with the
    registry's template filters and page passes."""
    dirs = theme_dirs(root, config.theme.name)
    files = theme_files(dirs)
    stylesheet = print_stylesheet(files)
    env = make_environment(dirs, registry)
    check_templates(env, files)  # one line naming a broken template, as the build says it
    document = print_html(
        env,
        config,
        export.report,
        export.body,
        export.run,
        export.variant,
        config.state_dir / "cache" / "assets",
        export.slug_by_source,
        registry.page_passes(),
    )
    assets = str(config.state_dir / "cache" / "assets")
    base = pdf_base_url(config, export.report)
    job = PdfJob("", export.report.source, document, base, (assets,), stylesheet)
    result = render_pdf(job)
    if isinstance(result, KnowrepoError):
        raise result
    return result
