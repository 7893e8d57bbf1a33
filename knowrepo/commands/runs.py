"""`knowrepo runs`: list the recorded runs, or prune old ones."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from knowrepo.commands.group import Context, main, user_errors, variants_option, verbosity
from knowrepo.loader import load_registry
from knowrepo.support.columns import aligned

if TYPE_CHECKING:
    from knowrepo.model import Run


@main.command()
@verbosity
@click.argument("report", required=False, metavar="[REPORT | RUN_ID]")
@variants_option
@click.option("--prune", is_flag=True, help="Delete old runs (the latest successful run is always kept).")
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="With --prune: runs to keep per variant.",
)
@click.option("--failed", is_flag=True, help="Only the variants whose latest run failed: that run.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON on stdout.")
@click.pass_obj
def runs(
    obj: Context,
    report: str | None,
    variants: tuple[str, ...],
    prune: bool,
    keep: int,
    as_json: bool,
    failed: bool = False,
) -> None:
    """List the recorded runs of REPORT (of every report without one), or prune them. With a
    run id for REPORT: that run, and the traceback of its error."""
    # (imported when the command runs, as every command's work: they are all defined at each start)
    from knowrepo.pipeline.execute.history import failed_latest, list_runs, prune_runs
    from knowrepo.pipeline.execute.runstore import RUN_ID, RunStore

    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        root = obj.root()
        # Each damaged run record is named and left out; the other runs are listed (or pruned).
        store = RunStore.telling(root, reporter, damaged_is_error=True)
        if report and RUN_ID.fullmatch(report) and not prune:
            _show_run(store.find(report), as_json)
        elif failed and not prune:
            _print_failed(failed_latest(store, report, variants), as_json)
        elif prune:
            removed = prune_runs(store, report, variants, keep, load_registry)
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


def _show_run(run: Run, as_json: bool) -> None:
    """One run: what it was, and (failed) its error line and whole traceback, coloured on a
    terminal, plain in a pipe or a file."""
    from knowrepo.pipeline.execute.history import traceback_of  # (the command's work)
    from knowrepo.support.tracebacks import error_line, strip_ansi

    if as_json:
        click.echo(json.dumps(run.to_json(), indent=2, default=str))
        return
    params = " ".join(f"{k}={v}" for k, v in run.params.items())
    click.echo(f"Run {run.id} of {run.source} [{run.variant}]: {'ok' if run.ok else 'failed'}")
    click.echo(f"Started {run.started}, {run.duration:.1f}s{f'; parameters {params}' if params else ''}")
    if run.period:
        click.echo(f"Period {run.period}")
    if run.scratch:
        click.echo("A scratch run: never published unless pinned (knowrepo publish RUN_ID)")
    if run.error is not None:
        click.echo(f"Error: {error_line(run.error.ename, run.error.evalue, run.error.cell, 1000)}")
        trace = traceback_of(run)
        if trace:
            click.echo("")
            click.echo(trace if sys.stdout.isatty() else strip_ansi(trace), color=sys.stdout.isatty())
    click.echo(f"Rerun: knowrepo run --from {run.id}")


def _print_failed(found: list[Run], as_json: bool) -> None:
    """The latest run of each failing variant: one line each, and how to read more."""
    from knowrepo.support.tracebacks import error_line  # (the command's work)

    if as_json:
        click.echo(json.dumps([r.to_json() for r in found], indent=2, default=str))
        return
    if not found:
        click.echo("No variant's latest run failed.", err=True)
        return
    for run in found:
        error = error_line(run.error.ename, run.error.evalue, run.error.cell) if run.error else "failed"
        click.echo(f"{run.id}\t{run.source} [{run.variant}]\t{error}")
    click.echo("knowrepo runs RUN_ID shows a run's traceback.", err=True)


def _print_table(found: list[Run]) -> None:
    from rich.console import Console  # (rich: only to draw a table or a progress bar)
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    rows = [_fields(one) for one in found]
    if not console.is_terminal:  # a pipe: aligned columns under a header, nothing cut
        click.echo("\n".join(aligned(RUNS_HEADER, rows)))
        return
    table = Table(box=None, header_style="bold")
    table.add_column(RUNS_HEADER[0], no_wrap=True, min_width=27)  # what --from needs: never cut
    for column in RUNS_HEADER[1:]:
        table.add_column(column, overflow="fold")
    for one, fields in zip(found, rows, strict=True):
        status = ("[green]ok[/]" if one.ok else "[red]failed[/]") + (" (scratch)" if one.scratch else "")
        # (escaped: a parameter's "[/x]" is text as written, not rich's markup)
        table.add_row(*map(escape, fields[:3]), status, *map(escape, fields[4:]))
    console.print(table)


RUNS_HEADER = ("run id", "report", "variant", "status", "started", "duration", "parameters")


def _fields(one: Run) -> list[str]:
    """A run as the columns of RUNS_HEADER show it."""
    params = " ".join(f"{k}={v}" for k, v in one.params.items()) or "-"
    status = f"{one.status} (scratch)" if one.scratch else one.status  # (never published unless pinned)
    return [one.id, one.slug, one.variant, status, one.started, f"{one.duration:.1f}s", params]
