"""`knowrepo email`: a report's PDF to its readers, with its summary and key figures."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from knowrepo.commands.group import Context, fail, main, user_errors, variants_option, verbosity
from knowrepo.errors import KnowrepoError
from knowrepo.loader import load_registry


@main.command()
@verbosity
@click.argument("report", required=False)
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
@click.option("--pending", is_flag=True, help="Send the emails that runs made with `run --email` still owe.")
@click.option(
    "--drop", "drop", multiple=True, metavar="RUN_ID", help="With --pending: give up this run's email."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="With --dry-run: the folder for the .eml files.",
)
@click.pass_obj
def email(
    obj: Context,
    /,
    report: str | None,
    params: tuple[str, ...],
    rerun: bool,
    run_id: str | None,
    pending: bool,
    drop: tuple[str, ...],
    to: tuple[str, ...],
    cc: tuple[str, ...],
    variants: tuple[str, ...],
    last_good: bool,
    dry_run: bool,
    output: Path,
) -> None:
    """Email REPORT as a PDF, with its summary and key figures, to its readers.

    --pending sends what scheduled runs still owe (a killed or failed `run --email`)."""
    # (imported when the command runs: the commands are all defined at each start)
    from knowrepo.exports.email import send_report

    if pending or drop:
        others = {"REPORT": report, "--run": run_id, "--rerun": rerun, "-p": params, "--to": to, "--cc": cc,
                  "--variant": variants, "--last-good": last_good, "--dry-run": dry_run}  # fmt: skip
        _pending(obj, [name for name, value in others.items() if value], drop)
        return
    if report is None:
        fail(KnowrepoError(None, "name a REPORT (slug or path), or use --pending"))
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
            to=to,
            cc=cc,
            variants=variants,
            assignments=params,
            dry_run=dry_run,
            output=output,
            reporter=obj.reporter(),
            last_good=last_good,
            load_registry=load_registry,
        )
    if obj.verbosity:
        for line in sent:
            click.echo(line, err=True)


def _pending(obj: Context, others: list[str], drop: tuple[str, ...]) -> None:
    """Send every owed email (or with --drop, give those up); exit 1 if one stays owed (or
    is not dropped)."""
    # (the command's work: imported when it runs, not at every start)
    from knowrepo.exports.outbox import deliver_pending, drop_owed

    if others:
        fail(KnowrepoError(None, f"--pending sends what the runs owe, as they owe it: leave out {others[0]}"))
    reporter = obj.reporter()
    with user_errors():
        if drop:
            done = drop_owed(obj.root(), drop, reporter)
            lines, still_owed = done.sent, done.failed
        else:
            done = deliver_pending(obj.root(), reporter, load_registry)
            lines, still_owed = (done.sent if done.owed else ["Nothing is owed."]), done.failed
    for line in lines:
        reporter.info(line)
    if still_owed:
        sys.exit(1)
