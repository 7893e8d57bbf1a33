"""The recorded runs as `knowrepo runs` and `knowrepo list` show them: the runs of the reports
and variants named, newest first, or pruned; each report with how its last run went."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.config import load_config
from knowrepo.errors import KnowrepoError, did_you_mean
from knowrepo.model import shown_run
from knowrepo.pipeline.dates import page_dated
from knowrepo.pipeline.discover import discover, notebook_reports
from knowrepo.pipeline.execute.pins import pins_path, read_pins
from knowrepo.pipeline.execute.runstore import RUN_ID, RunStore
from knowrepo.pipeline.textnotebook import SOURCE_KINDS, source_kind_of
from knowrepo.plugins import LoadRegistry
from knowrepo.support.lock import repository_lock

if TYPE_CHECKING:
    from knowrepo.model import Report, Run
    from knowrepo.support.progress import Reporter


def _selected(store: RunStore, report: str | None, variants: tuple[str, ...]) -> list[tuple[Report, str]]:
    """(report, variant name) pairs with runs that the arguments address."""
    root = store.root.parent
    notebooks = notebook_reports(root)
    pairs = []
    for target in [notebooks.find(root, report)] if report else notebooks.reports:
        names = store.variants(target.slug)
        for name in variants:
            if name not in names:
                raise KnowrepoError(
                    target.source,
                    f"no runs of variant '{name}'{did_you_mean(name, names)};"
                    f" variants with runs: {', '.join(names) or 'none'}",
                )
        pairs += [(target, n) for n in names if not variants or n in variants]
    return pairs


def list_runs(store: RunStore, report: str | None, variants: tuple[str, ...]) -> list[Run]:
    """Runs, newest first."""
    found = [r for target, v in _selected(store, report, variants) for r in store.runs(target.slug, v)]
    return sorted(found, key=lambda r: r.id, reverse=True)


def prune_runs(
    store: RunStore, report: str | None, variants: tuple[str, ...], keep: int, load_registry: LoadRegistry
) -> list[Run]:
    """Delete old runs (never one whose record cannot be read: it is not listed), under the
    repository's lock (knowrepo.toml read, and checked against the registry, for its folder)."""
    removed: list[Run] = []
    state_dir = load_config(store.root.parent, load_registry).state_dir
    with repository_lock(state_dir, "knowrepo runs --prune", lambda _line: None):
        _pins_readable(store)
        store.clean_all_abandoned()
        for target, variant in _selected(store, report, variants):
            removed += store.prune(target.slug, variant, keep)
    return removed


def _pins_readable(store: RunStore) -> None:
    """Prune keeps each pinned run: with a part of runs/pins.yaml unread (a merge conflict),
    it would delete a run that is pinned, so it deletes nothing until the file is fixed."""
    _pins, problems = read_pins(pins_path(store.root.parent), RUN_ID)
    if problems:
        what = problems[0].message.rpartition("; ")[0]  # (without what becomes of the pins)
        why = "no run is pruned until it is fixed (a pinned run would be deleted)"
        raise KnowrepoError(problems[0].path, f"{what}; {why}")


def _listed_date(store: RunStore, report: Report, runs: list[Run], names: list[str]) -> str:
    """The date the site lists a report by: the run its page shows (of its first variant that
    shows one, as its card: a variant tried only in scratch runs shows none; its pin honoured),
    else its source's date."""
    for name in names:
        of_variant = [run for run in runs if run.variant == name]
        pinned = store.pinned(report.slug, name, of_variant) if of_variant else ""
        if (shown := shown_run(of_variant, pinned)) is not None:
            return page_dated(report, shown)["date"]
    return page_dated(report, None)["date"]


def report_rows(root: Path, reporter: Reporter) -> list[dict[str, Any]]:
    """One row per report (drafts too), in slug order; what is wrong in runs/ goes to `reporter`."""
    store = RunStore.telling(root, reporter)
    rows = []
    for report in sorted(discover(root, {}, drafts=True).reports, key=lambda r: r.slug):
        names = list(report.meta.variants) or (
            store.variants(report.slug) if report.kind == "notebook" else []
        )
        runs = (
            [run for name in names for run in store.runs(report.slug, name)]
            if report.kind == "notebook"
            else []
        )
        latest = max(runs, key=lambda r: r.id) if runs else None
        rows.append({
            "slug": report.slug, "title": report.meta.title, "source": report.source, "kind": report.kind,
            "source_kind": SOURCE_KINDS[source_kind_of(root, report.source, report.kind)].short,
            "variants": names, "last_run": latest.status if latest else None,
            "last_run_at": latest.started if latest else "", "date": _listed_date(store, report, runs, names),
            "draft": report.meta.draft,
        })  # fmt: skip
    return rows


def failed_latest(store: RunStore, report: str | None, variants: tuple[str, ...]) -> list[Run]:
    """The latest run of each variant addressed, where it failed: what is failing now (a
    scratch run is not counted, as a build does not: VariantPlan.latest)."""
    latest = [
        [r for r in store.runs(target.slug, v) if not r.scratch][-1:]
        for target, v in _selected(store, report, variants)
    ]
    return [runs[0] for runs in latest if runs and not runs[0].ok]


def traceback_of(run: Run) -> str:
    """The traceback of a failed run, whole and coloured as the kernel wrote it: from its
    executed notebook's first error output, else what run.json keeps (uncoloured, its last
    4,000 characters), else ""."""
    try:
        nb = json.loads(run.notebook.read_text()) if run.has_notebook else {}
    except (OSError, ValueError, RecursionError):
        nb = {}
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        for output in cell.get("outputs", []) if isinstance(cell, dict) else []:
            if isinstance(output, dict) and output.get("output_type") == "error":
                lines = output.get("traceback") or []
                return "\n".join(str(line) for line in lines) if isinstance(lines, list) else ""
    return run.error.traceback if run.error else ""
