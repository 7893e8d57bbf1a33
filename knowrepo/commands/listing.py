"""`knowrepo list`: the reports, with their variants and how their last run went."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from knowrepo.commands.group import Context, main, user_errors, verbosity

if TYPE_CHECKING:
    from knowrepo.support.progress import Reporter


@main.command(name="list")
@verbosity
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON on stdout.")
@click.pass_obj
def list_command(obj: Context, as_json: bool) -> None:
    """List the reports: slug, title, variants, the last run's status and date."""
    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        rows = report_rows(obj.root(), reporter)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a pipe: tab-separated lines
        for row in rows:
            fields = [
                row["slug"],
                row["title"],
                ",".join(row["variants"]),
                row["last_run"] or "",
                row["last_run_at"],
            ]
            click.echo("\t".join(fields))
        return
    table = Table(box=None, header_style="bold")
    table.add_column("report", no_wrap=True)
    for column in ("title", "variants", "last run", "when"):
        table.add_column(column, overflow="fold")
    for row in rows:
        status = {"ok": "[green]ok[/]", "failed": "[red]failed[/]"}.get(row["last_run"] or "", "-")
        table.add_row(row["slug"], row["title"], ", ".join(row["variants"]), status, row["last_run_at"][:16])
    console.print(table)


def report_rows(root: Path, reporter: Reporter) -> list[dict[str, Any]]:
    """One row per report (drafts too), in slug order; what is wrong in runs/ goes to `reporter`."""
    from knowrepo.pipeline.discover import discover
    from knowrepo.pipeline.execute.runstore import RunStore

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
            "variants": names, "last_run": latest.status if latest else None,
            "last_run_at": latest.started if latest else "", "date": report.date, "draft": report.meta.draft,
        })  # fmt: skip
    return rows
