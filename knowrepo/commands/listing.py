"""`knowrepo list`: the reports, with their variants and how their last run went."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from knowrepo.commands.group import Context, main, user_errors, verbosity

if TYPE_CHECKING:
    pass


@main.command(name="list")
@verbosity
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON on stdout.")
@click.pass_obj
def list_command(obj: Context, as_json: bool) -> None:
    """List the reports: slug, title, variants, the last run's status and date."""
    # (imported when the command runs, as every command's work: they are all defined at each start)
    from knowrepo.pipeline.execute.history import report_rows

    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        rows = report_rows(obj.root(), reporter)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console  # (rich: only to draw a table or a progress bar)
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
