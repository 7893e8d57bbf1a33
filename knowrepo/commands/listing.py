"""`knowrepo list`: the reports, with their variants and how their last run went."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from knowrepo.commands.group import Context, main, user_errors, verbosity
from knowrepo.support.columns import aligned

if TYPE_CHECKING:
    pass


@main.command(name="list")
@verbosity
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON on stdout.")
@click.pass_obj
def list_command(obj: Context, as_json: bool) -> None:
    """List the reports: slug, kind, title, variants, the last run's status and date."""
    # (imported when the command runs, as every command's work: they are all defined at each start)
    from knowrepo.pipeline.execute.history import report_rows

    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        rows = report_rows(obj.root(), reporter)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console  # (rich: only to draw a table or a progress bar)
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a pipe: aligned columns under a header, nothing cut
        lines = aligned(LIST_HEADER, [_fields(row) for row in rows])
        click.echo("\n".join(lines))
        return
    table = Table(box=None, header_style="bold")
    table.add_column("report", no_wrap=True)
    for column in LIST_HEADER[1:]:
        table.add_column(column, overflow="fold")
    for row in rows:
        status = {"ok": "[green]ok[/]", "failed": "[red]failed[/]"}.get(row["last_run"] or "", "-")
        slug, kind, title, variants, _status, when = _fields(row)
        # (escaped: a title's "[b]" is text as written, not rich's markup)
        table.add_row(*map(escape, (slug, kind, title, variants)), status, when[:16])
    console.print(table)


LIST_HEADER = ("report", "kind", "title", "variants", "last run", "when")


def _fields(row: dict[str, Any]) -> list[str]:
    """A row of `list` as the columns of LIST_HEADER show it."""
    return [
        row["slug"],
        row["source_kind"],
        row["title"],
        ",".join(row["variants"]) or "-",
        row["last_run"] or "-",
        row["last_run_at"] or "-",
    ]
