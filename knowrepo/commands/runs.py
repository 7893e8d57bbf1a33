"""`knowrepo runs`: list the recorded runs, or prune old ones."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from knowrepo.commands.group import Context, main, user_errors, variants_option, verbosity
from knowrepo.errors import KnowrepoError

if TYPE_CHECKING:
    from knowrepo.model import Report, Run
    from knowrepo.pipeline.execute.runstore import RunStore


@main.command()
@verbosity
@click.argument("report", required=False)
@variants_option
@click.option("--prune", is_flag=True, help="Delete old runs (the latest successful run is always kept).")
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="With --prune: runs to keep per variant.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON on stdout.")
@click.pass_obj
def runs(
    obj: Context, report: str | None, variants: tuple[str, ...], prune: bool, keep: int, as_json: bool
) -> None:
    """List the recorded runs of REPORT (of every report without one), or prune them."""
    from knowrepo.pipeline.execute.runstore import RunStore

    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        root = obj.root()
        # Each damaged run record is named and left out; the other runs are listed (or pruned).
        store = RunStore.telling(root, reporter, damaged_is_error=True)
        if prune:
            removed = prune_runs(store, report, variants, keep)
            if as_json:
                click.echo(json.dumps([r.to_json() for r in removed], indent=2, default=str))
            elif obj.verbosity:
                click.echo(f"Removed {len(removed)} run(s); kept up to {keep} per variant.", err=True)
        else:
            found = list_runs(store, report, variants)
            if as_json:
                click.echo(json.dumps([r.to_json() for r in found], indent=2, default=str))
            elif not found:
                click.echo("No runs recorded yet.", err=True)
            else:
                _print_table(found)
    if store.damaged:
        sys.exit(1)


def _print_table(found: list[Run]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a pipe: tab-separated lines, nothing cut
        for one in found:
            params = " ".join(f"{k}={v}" for k, v in one.params.items())
            fields = [one.id, one.slug, one.variant, one.status, one.started, f"{one.duration:.1f}s", params]
            click.echo("\t".join(fields))
        return
    table = Table(box=None, header_style="bold")
    table.add_column("run id", no_wrap=True, min_width=27)  # what --from needs: never cut
    for column in ("report", "variant", "status", "started", "duration", "parameters"):
        table.add_column(column, overflow="fold")
    for one in found:
        params = " ".join(f"{k}={v}" for k, v in one.params.items())
        status = "[green]ok[/]" if one.ok else "[red]failed[/]"
        table.add_row(one.id, one.slug, one.variant, status, one.started, f"{one.duration:.1f}s", params)
    console.print(table)


def _selected(store: RunStore, report: str | None, variants: tuple[str, ...]) -> list[tuple[Report, str]]:
    """(report, variant name) pairs with runs that the arguments address."""
    from knowrepo.pipeline.discover import notebook_reports

    root = store.root.parent
    notebooks = notebook_reports(root)
    pairs = []
    for target in [notebooks.find(root, report)] if report else notebooks.reports:
        names = store.variants(target.slug)
        for name in variants:
            if name not in names:
                raise KnowrepoError(
                    target.source,
                    f"no runs of variant '{name}'; variants with runs: {', '.join(names) or 'none'}",
                )
        pairs += [(target, n) for n in names if not variants or n in variants]
    return pairs


def list_runs(store: RunStore, report: str | None, variants: tuple[str, ...]) -> list[Run]:
    """Runs, newest first."""
    found = [r for target, v in _selected(store, report, variants) for r in store.runs(target.slug, v)]
    return sorted(found, key=lambda r: r.id, reverse=True)


def prune_runs(store: RunStore, report: str | None, variants: tuple[str, ...], keep: int) -> list[Run]:
    """Delete old runs (never one whose record cannot be read: it is not listed)."""
    from knowrepo.config import load_config
    from knowrepo.support.lock import repository_lock

    removed: list[Run] = []
    state_dir = load_config(store.root.parent).state_dir
    with repository_lock(state_dir, "knowrepo runs --prune", lambda _line: None):
        store.clean_all_abandoned()
        for target, variant in _selected(store, report, variants):
            removed += store.prune(target.slug, variant, keep)
    return removed
