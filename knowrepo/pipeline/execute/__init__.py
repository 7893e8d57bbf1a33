"""Stage 2, execute: plan every notebook's variants (resolved parameters, cache keys, the runs
on record) and run with papermill what has no run for its key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from knowrepo.errors import KnowrepoError

if TYPE_CHECKING:
    from knowrepo.pipeline.state import BuildState


def execute(state: BuildState) -> None:
    from knowrepo.pipeline.execute.plan import needs_run, plan_report, run_request
    from knowrepo.pipeline.execute.run import execute_all, failure_line
    from knowrepo.pipeline.execute.runstore import RunStore

    store = RunStore(state.root)
    requests = []
    for report in state.reports:
        if report.kind != "notebook":
            continue
        try:
            plan = plan_report(state.root, state.config, report, store)
            wanted = [
                run_request(state.root, state.config, plan, variant, {"by": "build"})
                for variant in plan.variants
                if (plan.executes or state.mode == "always") and needs_run(variant, state.mode)
            ]
        except KnowrepoError as exc:  # (it may name another file: a run record, an input)
            state.fail(exc, report.source)
            continue
        state.plans[report.slug] = plan
        requests += wanted
    if requests:
        runs = execute_all(requests, state.workers, state.reporter)
        state.result.executed = len(runs)
        state.run_failures = [failure_line(run) for run in runs if not run.ok]
        for slug, plan in list(state.plans.items()):
            try:
                for variant in plan.variants:
                    variant.runs = store.runs(slug, variant.name)
            except KnowrepoError as exc:
                del state.plans[slug]
                state.fail(exc, plan.report.source)
    state.reports = [r for r in state.reports if r.source not in state.failed]
