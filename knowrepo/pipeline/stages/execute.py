"""Stage 2, execute: plan every notebook's variants (resolved parameters, cache keys, the runs
on record) and run with papermill what has no run for its key."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from knowrepo.errors import KnowrepoError
from knowrepo.model import Run
from knowrepo.pipeline.execute.codechange import code_change
from knowrepo.pipeline.execute.executors import choice_of, executor_of
from knowrepo.pipeline.execute.plan import needs_run, plan_report, run_request, staleness
from knowrepo.pipeline.execute.run import execute_all, failure_line, unmatched_inputs
from knowrepo.pipeline.execute.runstore import RunStore
from knowrepo.pipeline.state import BuildState
from knowrepo.support.tracebacks import published_traceback, repository_roots, shorten_paths


def execute(state: BuildState) -> None:
    # A folder knowrepo did not make is a warning; a damaged run record an error, and the
    # report publishes without that run.
    store = RunStore(state.root, warn=lambda e: state.result.warnings.append(str(e)), error=state.complain)
    requests = []
    for report in state.reports:
        unmatched = unmatched_inputs(state.root, report.source, report.meta.inputs)
        state.result.warnings += [str(problem) for problem in unmatched]  # (printed at the end)
        if report.kind != "notebook":
            continue
        try:
            plan = plan_report(state.root, state.config, report, store)
            wanted = [
                _request(state, plan, variant)
                for variant in plan.variants
                if (plan.executes or state.mode == "always") and needs_run(variant, state.mode)
            ]
        except KnowrepoError as exc:  # (it may name another file: a run record, an input)
            state.fail(exc, report.source)
            continue
        state.plans[report.slug] = plan
        requests += wanted
    if requests:
        executor = executor_of(choice_of(state.config.execute), state.load_registry())
        runs = execute_all(requests, state.workers, state.reporter, executor)
        state.result.executed = len(runs)
        state.result.runs_failed = sum(not run.ok for run in runs)
        state.run_failures = [failure_line(run) for run in runs if not run.ok and run.folder is None]
        for slug, plan in list(state.plans.items()):
            try:
                for variant in plan.variants:
                    variant.runs = store.runs(slug, variant.name)
            except KnowrepoError as exc:
                del state.plans[slug]
                state.fail(exc, plan.report.source)
    roots = repository_roots(state.root)
    for plan in state.plans.values():  # what a page says of its run's data: part of the page's key
        for variant in plan.variants:
            variant.stale = staleness(state.root, plan, variant.shown, state.now)
            variant.runs = [_published(run, roots) for run in variant.runs]
            variant.code_changed = code_change(plan, variant.shown, state.config.caches)
    state.reports = [r for r in state.reports if r.source not in state.failed]
    state.executed = True


def _published(run: Run, roots: list[str]) -> Run:
    """The run as the site shows it: its error with no path of the machine that ran it (the
    record keeps them: `knowrepo runs ID` shows them to whoever has the run store)."""
    error = run.error
    if error is None:
        return run
    shorter = replace(
        error,
        evalue=shorten_paths(error.evalue, roots),
        traceback=published_traceback(error.traceback, roots),
    )
    return run if shorter == error else replace(run, error=shorter)


def _request(state: BuildState, plan: Any, variant: Any) -> Any:
    """The run a build makes for a variant. When the published run was a deliberate rerun
    (-p overrides) and the code or inputs changed since, the new run keeps its overrides."""
    origin: dict[str, Any] = {"by": "build"}
    shown = variant.shown
    if shown is not None and shown.ok and shown.overrides:
        private = plan.report.meta.private_params
        kept = {k: shown.params[k] for k in shown.overrides if k in shown.params and k not in private}
        if kept:
            variant = plan.with_overrides(variant, kept, state.root)
            origin.update(overrides=sorted(kept), kept_from=shown.id)
            values = ", ".join(f"{k}={v}" for k, v in kept.items())
            state.reporter.info(
                f"{plan.report.source} [{variant.name}]: the code or inputs changed since run {shown.id};"
                f" rerunning it with its overrides ({values})"
            )
    return run_request(state.root, state.config, plan, variant, origin)
