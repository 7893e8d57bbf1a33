"""Stage 3, render: every body a report's pages show (nbconvert for notebooks, markdown-it-py
for Markdown), from the render cache when its key is known, else by the build's renderer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from knowrepo.errors import KnowrepoError, WriteError
from knowrepo.model import RenderedPage
from knowrepo.pipeline.incremental import deps_unchanged, still_current
from knowrepo.pipeline.manifest import ReportEntry
from knowrepo.pipeline.render.job import no_notebook_page
from knowrepo.pipeline.render.renderer import render_all
from knowrepo.pipeline.render.views import View, report_views
from knowrepo.pipeline.state import BuildState
from knowrepo.support.atomic import write_atomic
from knowrepo.support.hashing import key_of
from knowrepo.support.shapes import fits

if TYPE_CHECKING:
    from knowrepo.model import Report
    from knowrepo.pipeline.render.job import Outcome, RenderJob


def render(state: BuildState, meanwhile: Callable[[], None]) -> None:
    """Render what no cache holds; `meanwhile` runs here while the workers render."""
    views = [view for report in state.reports for view in _views_to_render(state, report)]
    jobs = [view.job for view in views if view.job is not None]  # (every view to render has one)
    by_job = {id(view.job): view for view in views}
    if jobs:
        state.reporter.phase("Rendering", len(jobs))
    warnings: list[str] = []

    def done(job: RenderJob, outcome: Outcome) -> None:
        if isinstance(outcome, WriteError):
            raise outcome  # a full disk: no report can be rendered, nothing is published
        if isinstance(outcome, KnowrepoError):
            state.fail(outcome, job.source)
        else:
            page, page_warnings = outcome
            key = by_job[id(job)].key
            write_atomic(state.config.caches.rendered(key), json.dumps(page.to_json()).encode())
            state.bodies[key] = page
            state.result.rendered += 1
            warnings.extend(page_warnings)
        state.reporter.advance(job.source)

    try:
        render_all(jobs, state.workers, done, state.load_registry, state.renderer, meanwhile)
    finally:
        if jobs:
            state.reporter.end_phase()
    state.result.warnings.extend(dict.fromkeys(warnings))  # once each; the command prints them at the end


def _views_to_render(state: BuildState, report: Report) -> list[View]:
    """A report's views (kept in state.views); those whose body must be rendered. A report
    whose published pages are current joins the kept ones instead."""
    caches = state.config.caches
    views = report_views(
        state.root, state.config, report, state.plans.get(report.slug), state.fingerprint, caches.assets
    )
    state.views[report.slug] = views
    previous = state.manifest.reports.get(report.slug)
    deps_ok = deps_unchanged(state.root, previous)
    plan = state.plans.get(report.slug)
    stale = [v.stale for v in plan.variants] if plan else []  # pages say it: a change re-renders them
    shown = [(v.shown.id if v.shown else "", v.pinned) for v in plan.variants] if plan else []  # (a pin)
    stale += [v.code_changed for v in plan.variants if v.code_changed] if plan else []
    key = key_of(
        state.digest, [v.key for v in views.values()], report.source_hash, report.date, state.pdf_on, stale,
        shown,
    )  # fmt: skip
    state.report_keys[report.slug] = key
    if deps_ok and previous is not None and still_current(state, previous, key):
        state.kept[report.slug] = previous
        return []
    todo: list[View] = []
    for view in views.values():
        if view.job is None:
            state.bodies[view.key] = no_notebook_page(view.run)
        elif (body := _cached_body(state, view, previous, deps_ok)) is not None:
            state.bodies[view.key] = body
            state.result.cached += 1
        else:
            todo.append(view)
    return todo


def _cached_body(
    state: BuildState, view: View, previous: ReportEntry | None, deps_ok: bool
) -> RenderedPage | None:
    """The body rendered before under this view's key (unless the files it read changed)."""
    if state.options.force or (previous is not None and view.key in previous.views and not deps_ok):
        return None
    return cached_body(state.config.caches.rendered(view.key))


def cached_body(path: Path) -> RenderedPage | None:
    """The body cached at `path`, unless it is missing, damaged or of another shape."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(data, dict):
        data.pop("first_heading", None)  # (bodies cached by an earlier version)
    return RenderedPage.from_json(data) if fits(data, RenderedPage) else None
