"""`knowrepo run` and `knowrepo runs`: address reports, plan, execute, list and prune runs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowrepo.config import load_config
from knowrepo.errors import KnowrepoError, did_you_mean
from knowrepo.model import Report
from knowrepo.pipeline.discover import discover, slugify_path
from knowrepo.pipeline.execute.params import parse_assignments
from knowrepo.pipeline.execute.plan import needs_run, plan_report, require_known, run_request
from knowrepo.pipeline.execute.runstore import Run, RunStore
from knowrepo.support.lock import repository_lock
from knowrepo.support.yamltext import YamlProblem, load_yaml, plain_problem


@dataclass
class RunOptions:
    report: str | None = None
    assignments: tuple[str, ...] = ()
    params_file: Path | None = None
    variants: tuple[str, ...] = ()
    all_reports: bool = False
    from_run: str | None = None
    force: bool = False
    workers: int = 0
    timeout: int | None = None


def find_report(root: Path, reports: list[Report], name: str) -> Report:
    """A report by slug (churn, sales/monthly-revenue) or by path (reports/x.ipynb, ./x.ipynb)."""
    by_slug = {r.slug: r for r in reports}
    if name.strip("/") in by_slug:
        return by_slug[name.strip("/")]
    path = Path(name)
    for candidate in (Path.cwd() / path, root / path):
        try:
            rel = candidate.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
        for report in reports:
            if report.source == rel:
                return report
    slug = slugify_path(name.removeprefix("reports/"))
    if slug in by_slug:
        return by_slug[slug]
    raise KnowrepoError(None, f"no report '{name}'{did_you_mean(name, list(by_slug))}")


def _notebooks(root: Path) -> list[Report]:
    found = discover(root, {}, drafts=True)
    if found.errors:
        raise found.errors[0]
    return [r for r in found.reports if r.kind == "notebook"]


def run_reports(root: Path, options: RunOptions, reporter: Any) -> list[dict[str, Any]]:
    """Execute the addressed reports' variants; returns the new run records. Planned and run
    under the repository's lock: a build or run meanwhile would execute the same notebooks."""
    config = load_config(root)
    with repository_lock(config.state_dir, "knowrepo run", reporter.info):
        return _run_locked(root, config, options, reporter)


def _run_locked(root: Path, config: Any, options: RunOptions, reporter: Any) -> list[dict[str, Any]]:
    from knowrepo.pipeline.execute.run import execute_all

    store = RunStore(root)
    notebooks = _notebooks(root)
    layers: list[tuple[dict[str, Any], bool]] = []
    if options.params_file:
        try:
            values = load_yaml(options.params_file.read_text(encoding="utf-8")) or {}
        except YamlProblem as exc:
            raise KnowrepoError(options.params_file, f"invalid YAML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KnowrepoError(options.params_file, f"cannot read: {exc}") from None
        if not isinstance(values, dict):
            raise KnowrepoError(options.params_file, "must be a mapping of parameter names to values")
        if problem := plain_problem(values, "the parameters"):
            raise KnowrepoError(options.params_file, problem)
        layers.append((values, False))
    cli_values = parse_assignments(options.assignments)
    variants = list(options.variants)
    origin: dict[str, Any] = {"by": "run"}

    if options.from_run:
        previous = store.find(options.from_run)
        record = previous.record
        report = find_report(root, notebooks, record["slug"])
        private = set(record.get("private_params", []))
        layers.insert(0, ({k: v for k, v in record["params"].items() if k not in private}, False))
        variants = [record["variant"]]
        origin = {"by": "run", "from": previous.id}
        targets = [report]
    elif options.all_reports:
        targets = notebooks
    elif options.report:
        targets = [find_report(root, notebooks, options.report)]
    else:
        raise KnowrepoError(None, "name a REPORT (slug or path), or use --all or --from RUN_ID")
    if cli_values:
        layers.append((cli_values, True))
        origin["overrides"] = sorted(cli_values)

    requests = []
    for report in targets:  # validate everything before any kernel starts
        plan = plan_report(root, config, report, config.state_dir / "cache", store, layers)
        for variant in require_known(plan, variants if not options.all_reports else []):
            latest = variant.latest
            if not options.force and latest and latest.ok and not needs_run(variant, "auto"):
                reporter.info(
                    f"{report.slug} [{variant.name}] is up to date (run {latest.id}); --force reruns it"
                )
                continue
            requests.append(run_request(root, config, plan, variant, origin, options.timeout))
    workers = options.workers or config.execute.workers or os.cpu_count() or 1
    return execute_all(requests, workers, reporter)


def _selected_runs(root: Path, report: str | None, variants: tuple[str, ...]) -> list[tuple[Report, str]]:
    store = RunStore(root)
    notebooks = _notebooks(root)
    targets = [find_report(root, notebooks, report)] if report else notebooks
    pairs = []
    for target in targets:
        names = store.variants(target.slug)
        for name in variants:
            if name not in names:
                raise KnowrepoError(
                    target.source,
                    f"no runs of variant '{name}'; variants with runs: {', '.join(names) or 'none'}",
                )
        pairs += [(target, n) for n in names if not variants or n in variants]
    return pairs


def list_runs(root: Path, report: str | None, variants: tuple[str, ...]) -> list[dict[str, Any]]:
    """Run records, newest first."""
    store = RunStore(root)
    records = [r.record for t, v in _selected_runs(root, report, variants) for r in store.runs(t.slug, v)]
    return sorted(records, key=lambda r: r["id"], reverse=True)


def prune_runs(root: Path, report: str | None, variants: tuple[str, ...], keep: int) -> list[Run]:
    store = RunStore(root)
    removed: list[Run] = []
    with repository_lock(load_config(root).state_dir, "knowrepo runs --prune", lambda _line: None):
        for target, variant in _selected_runs(root, report, variants):
            removed += store.prune(target.slug, variant, keep)
    return removed
