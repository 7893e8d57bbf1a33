"""What `knowrepo run` does, for the command and for `knowrepo email --rerun`: find the
reports and variants the options address (a report, --all, --from a run, the schedules that
fell --due), plan each run and execute them on the registered executor chosen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.config import load_config
from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.discover import notebook_reports
from knowrepo.pipeline.execute.executors import choice_of, executor_of
from knowrepo.pipeline.execute.origin import typed_command
from knowrepo.pipeline.execute.params import parse_assignments
from knowrepo.pipeline.execute.plan import plan_report, require_known, run_request
from knowrepo.pipeline.execute.run import execute_all, unmatched_inputs
from knowrepo.pipeline.execute.runstore import RunStore
from knowrepo.pipeline.schedule import last_due, run_date
from knowrepo.plugins import Executor, LoadRegistry
from knowrepo.support import clock
from knowrepo.support.lock import repository_lock
from knowrepo.support.text import read_text
from knowrepo.support.tracebacks import repository_roots
from knowrepo.support.yamltext import YamlProblem, load_yaml, plain_problem

if TYPE_CHECKING:
    from knowrepo.config import Config
    from knowrepo.model import Report, Run
    from knowrepo.pipeline.execute.plan import VariantPlan
    from knowrepo.pipeline.execute.run import RunRequest
    from knowrepo.support.progress import Reporter


@dataclass
class RunOptions:
    report: str | None = None
    assignments: tuple[str, ...] = ()
    raw: tuple[str, ...] = ()  # -r: values passed as text, as they are
    params_file: Path | None = None
    variants: tuple[str, ...] = ()
    all_reports: bool = False
    from_run: str | None = None
    force: bool = False
    due: bool = False  # the variants whose schedule fell due since their last scheduled run
    workers: int = 0
    timeout: int | None = None
    executor: str | None = None  # a registered executor (local, dask): over [execute] executor
    scheduler: str | None = None  # a Dask scheduler's address
    retries: int | None = None  # submissions again of a run whose worker died
    email: bool = False  # each new run owes its readers an email (run.json's origin says so)
    scratch: bool = False  # kept in history, never published (origin.scratch): a run to look at
    command: tuple[str, ...] = ()  # the command line as typed (its words after the program's name)


@dataclass
class RunOutcome:
    runs: list[Run]  # the new runs
    broken: list[KnowrepoError]  # files --all or --due could not run: each already reported


def run_reports(
    root: Path, options: RunOptions, reporter: Reporter, load_registry: LoadRegistry
) -> RunOutcome:
    """Execute the addressed reports' variants on the registered executor chosen. Planned and
    run under the repository's lock: a build or run meanwhile would execute the same notebooks."""
    config = with_executor(load_config(root, load_registry), options)
    broken: list[KnowrepoError] = []
    executor = executor_of(choice_of(config.execute, scheduler=options.scheduler), load_registry())
    executor.check()  # (its one-line errors, before anything is planned or run)
    with repository_lock(config.state_dir, "knowrepo run", reporter.info):
        RunStore(root).clean_all_abandoned()  # (runs killed mid-kernel, of any report)
        runs = _run_locked(root, config, options, reporter, broken, executor)
    return RunOutcome(runs, broken)


def with_executor(config: Config, options: RunOptions) -> Config:
    """The config with the command's --executor, --scheduler and --retries over [execute]'s."""
    chosen = {"executor": options.executor, "scheduler": options.scheduler, "retries": options.retries}
    given: dict[str, Any] = {k: v for k, v in chosen.items() if v is not None}
    return replace(config, execute=replace(config.execute, **given))


def _run_locked(
    root: Path,
    config: Config,
    options: RunOptions,
    reporter: Reporter,
    broken: list[KnowrepoError],
    executor: Executor,
) -> list[Run]:
    store = RunStore.telling(root, reporter)
    requests: list[RunRequest]
    if options.due:
        requests = _due_requests(root, config, store, reporter, broken)
        _report_broken(broken, reporter)
        requests = _owing(requests, options)
        return execute_all(requests, config.workers(options.workers), reporter, executor)
    targets, layers, variants, origin = _addressed(root, options, store, broken)
    _report_broken(broken, reporter)
    requests = []
    for report in targets:  # validate everything before any kernel starts
        try:
            plan = plan_report(root, config, report, store, layers)
            _warn_unmatched_inputs(root, report, reporter)
            for variant in require_known(plan, variants if not options.all_reports else []):
                if not options.force and (same := _identical_run(variant)) is not None:
                    reporter.info(
                        f"{report.slug} [{variant.name}] is up to date (run {same.id}); --force reruns it"
                    )
                    continue
                requests.append(run_request(root, config, plan, variant, origin, options.timeout))
        except KnowrepoError as exc:
            if not options.all_reports:
                raise
            broken.append(exc)  # (--all: one report that cannot run stops no other)
            _report_broken([exc], reporter)
    requests = _owing(_typed(_scratch(requests, options), options, root), options)
    return execute_all(requests, config.workers(options.workers), reporter, executor)


def _scratch(requests: list[RunRequest], options: RunOptions) -> list[RunRequest]:
    """With --scratch, each run says so in its run.json: history keeps it, no page shows it."""
    return (
        [replace(r, origin={**r.origin, "scratch": True}) for r in requests] if options.scratch else requests
    )


def _owing(requests: list[RunRequest], options: RunOptions) -> list[RunRequest]:
    """With --email, each run records in its own run.json that it owes its readers an email:
    the run and the debt land in one rename, so no crash keeps one without the other."""
    return [replace(r, origin={**r.origin, "email": True}) for r in requests] if options.email else requests


def _typed(requests: list[RunRequest], options: RunOptions, root: Path) -> list[RunRequest]:
    """A run by hand records the command typed, each run's private values masked in it and
    the machine's paths shortened (`-C /home/alice/repo`: `-C .`)."""
    if not options.command:
        return requests
    roots = repository_roots(root)

    def command(request: RunRequest) -> str:
        return typed_command(options.command, request.private, request.all_secrets(), roots)

    return [replace(r, origin={**r.origin, "command": command(r)}) for r in requests]


def _warn_unmatched_inputs(root: Path, report: Report, reporter: Reporter) -> None:
    for problem in unmatched_inputs(root, report.source, report.meta.inputs):
        reporter.warn(str(problem))


def _report_broken(broken: list[KnowrepoError], reporter: Reporter) -> None:
    for error in broken:
        reporter.error(f"{error} (not run)")


def _identical_run(variant: VariantPlan) -> Run | None:
    """The latest successful run of exactly this plan (code, parameters, inputs), if any; never
    a scratch run. None while the variant's latest run failed: a failed run is never "up to
    date" (the data, or the environment, may have been fixed since), so asking to run it runs it."""
    if variant.latest is not None and not variant.latest.ok:
        return None
    return next(
        (r for r in reversed(variant.runs) if r.ok and r.cache_key == variant.key and not r.scratch), None
    )


def _addressed(
    root: Path, options: RunOptions, store: RunStore, broken: list[KnowrepoError]
) -> tuple[list[Report], list[tuple[dict[str, Any], bool]], list[str], dict[str, Any]]:
    """(reports, parameter layers, variants, origin) that the options ask to run; with --all,
    the files that failed discovery are added to `broken` and the rest still run."""
    notebooks = notebook_reports(root)
    layers: list[tuple[dict[str, Any], bool]] = []
    if options.params_file:
        layers.append((params_file(options.params_file), False))
    origin: dict[str, Any]  # (what run.json records of why the run was made)
    variants, origin = list(options.variants), {"by": "run"}
    if options.from_run:
        previous = store.find(options.from_run)
        targets = [notebooks.find(root, previous.slug)]
        layers.insert(
            0, ({k: v for k, v in previous.params.items() if k not in previous.private_params}, False)
        )
        variants, origin = [previous.variant], {"by": "run", "from": previous.id}
    elif options.all_reports:
        targets = notebooks.reports
        broken.extend(notebooks.broken)
    elif options.report:
        targets = [notebooks.find(root, options.report)]
    else:
        raise KnowrepoError(None, "name a REPORT (slug or path), or use --all or --from RUN_ID")
    cli_values, raw_values = parse_assignments(options.assignments), parse_assignments(options.raw, "-r")
    if cli_values:
        layers.append((cli_values, True))
    if raw_values:
        layers.append((raw_values, False))
    if cli_values or raw_values:
        origin["overrides"] = sorted({*cli_values, *raw_values})
    return targets, layers, variants, origin


def params_file(path: Path) -> dict[str, Any]:
    """The parameter values of a --params-file, checked as plain data."""
    try:
        values = load_yaml(read_text(path)) or {}
    except YamlProblem as exc:
        raise KnowrepoError(path, f"invalid YAML: {exc}") from None
    if not isinstance(values, dict):
        raise KnowrepoError(path, "must be a mapping of parameter names to values")
    if problem := plain_problem(values, "the parameters"):
        raise KnowrepoError(path, problem)
    return values


def _due_requests(
    root: Path, config: Config, store: RunStore, reporter: Reporter, broken: list[KnowrepoError]
) -> list[RunRequest]:
    """A run for each variant whose schedule fell due since its last scheduled run: once, for
    the latest due time, however many were missed; a failed one waits for the next due time.
    A file that fails discovery goes to `broken` (its schedule cannot be read)."""
    now, notebooks = clock.now(), notebook_reports(root)
    requests: list[RunRequest] = []
    broken.extend(notebooks.broken)
    for report in notebooks.reports:
        if report.meta.schedule:
            try:  # (one report's schedule or date that fails stops no other)
                requests += _due_of(root, config, store, report, now, reporter)
            except KnowrepoError as exc:
                broken.append(exc)
    if not requests and not broken:
        reporter.info("Nothing is due.")
    return requests


def _due_of(
    root: Path, config: Config, store: RunStore, report: Report, now: dt.datetime, reporter: Reporter
) -> list[RunRequest]:
    """The runs of one scheduled report's variants that fell due since their last scheduled run."""
    schedule = report.meta.schedule
    requests: list[RunRequest] = []
    for variant in plan_report(root, config, report, store).variants:
        due = last_due(report.source, schedule, variant.name, now).isoformat()
        if any(r.origin.get("by") == "schedule" and r.origin.get("due", "") >= due for r in variant.runs):
            continue
        date = run_date(report.source, schedule, dt.datetime.fromisoformat(due))
        dated = plan_report(root, config, report, store, run_date=date)
        planned = next(v for v in dated.variants if v.name == variant.name)
        if not requests:  # (said once, of what runs)
            _warn_unmatched_inputs(root, report, reporter)
        origin = {"by": "schedule", "due": due, "run_date": date.isoformat()}  # (the date: its period)
        requests.append(run_request(root, config, dated, planned, origin))
        reporter.info(f"{report.source} [{variant.name}]: due since {due[:16].replace('T', ' ')} UTC")
    return requests
