"""What `knowrepo pdf` and `knowrepo email` export: a report's rendered body for one run or
for the latest successful run of each variant, rendered through the build's own cache."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowrepo.commands.run import find_report
from knowrepo.config import Config, load_config
from knowrepo.errors import KnowrepoError
from knowrepo.exports.pdf import PdfJob, pdf_name, print_html, render_pdf
from knowrepo.model import RenderedPage, Report
from knowrepo.pipeline.assemble.theme import make_environment, theme_dirs, theme_files
from knowrepo.pipeline.discover import discover
from knowrepo.pipeline.execute.runstore import RunStore


@dataclass
class Export:
    report: Report
    body: RenderedPage
    run: dict[str, Any] | None
    variant: str  # "" when the report has no variants to tell apart
    file_name: str


def exports_for(
    root: Path, name: str, run_id: str | None, variants: tuple[str, ...], reporter: Any
) -> tuple[Config, list[Export]]:
    """The bodies to export, rendering (through the cache) whatever is not rendered yet."""
    from knowrepo.pipeline.build import _render_all, _views
    from knowrepo.pipeline.execute.plan import plan_report, require_known
    from knowrepo.pipeline.render.job import no_notebook_page, render_fingerprint

    config = load_config(root)
    found = discover(root, {}, drafts=True)
    report = find_report(root, found.reports, name)
    if report.source in found.failed_sources:
        raise next(e for e in found.errors if e.path == report.source)
    cache_dir = config.state_dir / "cache"
    plans = {}
    chosen: list[tuple[str, Any, str]] = []  # (view name, run, variant label)
    if report.kind == "notebook":
        plan = plan_report(root, config, report, cache_dir, RunStore(root))
        plans[report.slug] = plan
        label = len(plan.variants) > 1
        if run_id:
            for variant in plan.variants:
                for run in variant.runs:
                    if run.id == run_id:
                        chosen.append((run.id, run, variant.name if label else ""))
            if not chosen:
                raise KnowrepoError(report.source, f"no run {run_id} of this report")
        else:
            for variant in require_known(plan, list(variants)):
                if variant.shown is not None:
                    chosen.append((variant.shown.id, variant.shown, variant.name if label else ""))
    if not chosen:
        chosen.append(("source", None, ""))
    views = _views(root, config, [report], plans, render_fingerprint(), cache_dir / "assets")[report.slug]
    wanted = [views[view_name] for view_name, _run, _label in chosen]
    bodies: dict[str, RenderedPage] = {}
    todo = []
    for view in wanted:
        cached = cache_dir / "render" / f"{view.key}.json"
        if view.job is None:
            bodies[view.key] = no_notebook_page(view.run.record)
        elif cached.exists():
            bodies[view.key] = RenderedPage.from_json(json.loads(cached.read_text()))
        else:
            todo.append(view)
    rendered, errors, _warnings = _render_all([v.job for v in todo], [v.key for v in todo], 1, True, reporter)
    bodies.update(rendered)
    exports = []
    for (_view_name, run, label), view in zip(chosen, wanted, strict=True):
        exports.append(
            Export(report, bodies[view.key], run.record if run else None, label, pdf_name(report.slug, label))
        )
    return config, exports


def export_pdf(root: Path, config: Config, export: Export) -> bytes:
    """The PDF of one export (deterministic: the same run gives the same bytes)."""
    dirs = theme_dirs(root, config.site.theme)
    files = theme_files(dirs)
    stylesheet = files["static/print.css"].read_text() if "static/print.css" in files else ""
    env = make_environment(dirs)
    document = print_html(
        env,
        config,
        export.report,
        export.body,
        export.run,
        export.variant,
        config.state_dir / "cache" / "assets",
        stylesheet,
    )
    assets = str(config.state_dir / "cache" / "assets")
    job = PdfJob(key="", source=export.report.source, html=document, base_url=str(root), allowed=(assets,))
    result = render_pdf(job)
    if isinstance(result, KnowrepoError):
        raise result
    return result
