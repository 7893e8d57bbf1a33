"""`knowrepo run`: execute reports' variants with papermill and record each run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from knowrepo.commands.build import summary
from knowrepo.commands.group import (
    Context,
    like_config,
    main,
    params_option,
    user_errors,
    variants_option,
    verbosity,
)
from knowrepo.errors import KnowrepoError
from knowrepo.loader import load_registry
from knowrepo.support.faults import pause_point

if TYPE_CHECKING:
    pass


@main.command()
@verbosity
@click.argument("report", required=False)
@params_option
@click.option(
    "-r",
    "--raw",
    "raw",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a parameter to the text VALUE, as it is.",
)
@click.option(
    "--params-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML file of parameter values.",
)
@variants_option
@click.option("--all", "all_reports", is_flag=True, help="Run every notebook report.")
@click.option(
    "--due", is_flag=True, help="Run every variant whose schedule fell due since its last scheduled run."
)
@click.option(
    "--email", "then_email", is_flag=True, help="Then email each new successful run to its readers."
)
@click.option("--from", "from_run", metavar="RUN_ID", help="Rerun a recorded run, changing only -p values.")
@click.option("--force", is_flag=True, help="Run even when an identical successful run exists.")
@click.option(
    "--scratch",
    is_flag=True,
    help="Keep the run in the history, marked Scratch, but never publish it (`knowrepo publish RUN_ID` can).",
)
@click.option(
    "-j", "--workers", type=click.IntRange(min=1), default=None, help="Runs at once (default: one per core)."
)
@click.option(
    "--timeout", type=like_config("execute", "timeout"), default=None, help="Seconds a cell may run."
)
@click.option(
    "--executor",
    type=like_config("execute", "executor"),
    default=None,
    help="Where runs execute: processes here (local, the default), a Dask cluster (dask), or a plugin's.",
)
@click.option("--scheduler", metavar="ADDRESS", help="The Dask scheduler, e.g. tcp://host:8786.")
@click.option(
    "--retries",
    type=like_config("execute", "retries"),
    default=None,
    help="Times a run whose worker died is submitted again (default 1; never a failed cell).",
)
@click.option(
    "--build", "then_build", is_flag=True, help="Then build the site, so that it shows the new runs."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run records as JSON on stdout.")
@click.pass_obj
def run(
    obj: Context,
    /,
    report: str | None,
    params: tuple[str, ...],
    as_json: bool,
    then_build: bool,
    then_email: bool,
    **flags: Any,
) -> None:
    """Execute REPORT (a slug or a path) with papermill and record each run.

    Every variant runs unless --variant narrows it. Runs land in runs/<slug>/<variant>/<id>/;
    `knowrepo build` publishes them."""
    # (imported when a command runs, here and below: the commands are all defined at each start)
    from knowrepo.pipeline.execute.runner import RunOptions, run_reports

    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        _scratch_alone(flags["scratch"], then_email, flags["due"])
        options = RunOptions(
            report=report,
            assignments=params,
            email=then_email,
            command=tuple(sys.argv[1:]),  # (recorded as typed, private values masked)
            **{**flags, "workers": flags["workers"] or 0},
        )
        outcome = run_reports(obj.root(), options, reporter, load_registry)
    pause_point("runs-saved", obj.root() / ".knowrepo")  # (the fault tests kill here, and below)
    runs = outcome.runs
    if as_json:
        click.echo(json.dumps([r.to_json() for r in runs], indent=2, default=str))
    elif obj.verbosity:
        for one in runs:
            status = "ok" if one.ok else "FAILED"
            click.echo(f"{status:6} {one.slug} [{one.variant}] {one.id} {one.duration:.1f}s", err=True)
        if runs and flags["scratch"]:
            click.echo(
                "Scratch runs are kept in the history, never published (`knowrepo publish RUN_ID`).", err=True
            )
        elif runs and not then_build:
            click.echo("The site shows these runs after `knowrepo build` (or run with --build).", err=True)
    built = _build_site(obj, as_json) if then_build else True
    pause_point("built", obj.root() / ".knowrepo")
    emailed = _email_owed(obj, as_json) if then_email else True
    if any(not r.ok for r in runs) or outcome.broken or not built or not emailed:
        sys.exit(1)


def _scratch_alone(scratch: bool, email: bool, due: bool) -> None:
    """A scratch run is never published: it owes no email, and no schedule makes one."""
    if scratch and (email or due):
        option = "--email" if email else "--due"
        raise KnowrepoError(
            None, f"--scratch with {option}: a scratch run is never published or emailed (drop one of them)"
        )


def _email_owed(obj: Context, as_json: bool) -> bool:
    """Every email that runs owe (these new ones, and any a killed or failed command left);
    False if one is still owed."""
    # (the command's work: imported when it runs, not at every start)
    from knowrepo.exports.outbox import deliver_pending

    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        done = deliver_pending(obj.root(), reporter, load_registry)
    for line in done.sent:
        reporter.info(line)
    return not done.failed


def _build_site(obj: Context, as_json: bool) -> bool:
    """`knowrepo build` after the runs; False if a report failed to build (the emails that
    the runs owe still go: the other reports' pages are published)."""
    # (the command's work: imported when it runs, not at every start)
    from knowrepo.pipeline.build import build

    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        result = build(obj.root(), reporter=reporter, load_registry=load_registry)
    if obj.verbosity and not as_json:
        click.echo(summary(result), err=True)
        click.echo(f"Site: {result.output}/index.html")
    for message in result.errors:
        reporter.error(message)
    return not result.errors
