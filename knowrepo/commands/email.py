"""`knowrepo email`: a report's PDF to its readers, with its summary and key figures."""

from __future__ import annotations

from pathlib import Path

import click

from knowrepo.commands.group import Context, fail, main, user_errors, variants_option, verbosity
from knowrepo.errors import KnowrepoError


@main.command()
@verbosity
@click.argument("report")
@click.option(
    "--to", "to", multiple=True, metavar="ADDRESS", help="Recipient (repeatable; default: front matter)."
)
@click.option("--cc", "cc", multiple=True, metavar="ADDRESS", help="Copy to (repeatable).")
@variants_option
@click.option("--run", "run_id", metavar="RUN_ID", help="Send this run (default: the latest successful run).")
@click.option("--rerun", is_flag=True, help="Run the report first (with -p values), then send the new run.")
@click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="With --rerun: a parameter."
)
@click.option("--last-good", is_flag=True, help="Send the last successful run when the latest failed.")
@click.option("--dry-run", is_flag=True, help="Write the .eml file(s) instead of sending.")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="With --dry-run: the folder for the .eml files.",
)
@click.pass_obj
def email(
    obj: Context, report: str, params: tuple[str, ...], rerun: bool, run_id: str | None, **rest: object
) -> None:
    """Email REPORT as a PDF, with its summary and key figures, to its readers."""
    from knowrepo.exports.email import send_report

    if params and not rerun:
        fail(KnowrepoError(None, "-p takes effect with --rerun only"))
    if rerun and run_id:
        fail(KnowrepoError(None, "--run and --rerun exclude each other"))
    with user_errors():
        sent = send_report(
            obj.root(),
            report,
            run_id=run_id,
            rerun=rerun,
            assignments=params,
            reporter=obj.reporter(),
            **rest,
        )  # type: ignore[arg-type]
    if obj.verbosity:
        for line in sent:
            click.echo(line, err=True)
