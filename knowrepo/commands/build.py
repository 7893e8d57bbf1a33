"""`knowrepo build`: the repository into a site."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from knowrepo.commands.group import Context, like_config, main, user_errors, verbosity
from knowrepo.loader import load_registry

if TYPE_CHECKING:
    from knowrepo.pipeline.state import BuildResult

_AS_COMMAND = [False]  # set by commands.command(): this process is the `knowrepo` command itself


@main.command()
@verbosity
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to publish the site (default: [site] output, _site).",
)
@click.option("--drafts", is_flag=True, help="Build reports marked draft: true too.")
@click.option("--strict", is_flag=True, help="Stop at the first error and change nothing.")
@click.option("--force", is_flag=True, help="Ignore caches and render every report again.")
@click.option(
    "-j",
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes for executing and rendering (default: one per core).",
)
@click.option(
    "--execute",
    type=like_config("execute", "mode"),
    default=None,
    help="auto (default): run notebooks that have no run for their current code, parameters "
    "and inputs; always: rerun all; never: run nothing.",
)
@click.option(
    "--pdf", "with_pdf", is_flag=True, help="Also build a PDF of every report (download on its page)."
)
@click.option(
    "--allow-failed-runs",
    is_flag=True,
    help="Exit 0 even when a run this build executed failed (it is still said, and shown on its card).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_obj
def build(obj: Context, /, directory: Path | None, output: Path | None, **flags: Any) -> None:
    """Build the repository at DIRECTORY (default: found from the current folder) into a site."""
    # (imported when the command runs: the commands are all defined at each start)
    from knowrepo.pipeline.build import BuildOptions
    from knowrepo.pipeline.build import build as run_build

    as_json, allow_failed_runs = flags.pop("as_json"), flags.pop("allow_failed_runs")
    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        root = obj.root(directory)
        options = BuildOptions(
            output=output.absolute() if output else None,
            drafts=flags["drafts"],
            strict=flags["strict"],
            force=flags["force"],
            workers=flags["workers"] or 0,
            execute=flags["execute"],
            pdf=flags["with_pdf"],
        )
        result = run_build(root, options, reporter, load_registry=load_registry)
    failing = bool(result.runs_failed) and not allow_failed_runs  # (what this build failed to do)
    if as_json:
        click.echo(json.dumps({"ok": not result.errors and not failing, **result.to_json()}, indent=2))
    elif obj.verbosity:
        for message in result.warnings:
            reporter.warn(message)
        click.echo(summary(result), err=True)
        if result.noop:
            for message in result.errors:
                reporter.error(message)
        click.echo(f"Site: {result.output}/index.html")
    if result.errors:
        click.echo(f"{len(result.errors)} problem(s); failed reports kept their previous pages:", err=True)
        for message in result.errors:
            click.echo(f"  {message}", err=True)
    if result.failed_runs:
        click.echo(still_failing(result.failed_runs), err=True)
    end_build(1 if result.errors or failing else 0)


def still_failing(lines: list[str], named: int = 3) -> str:
    """One short line for the variants whose latest run failed (each line `source [variant]:
    ...`), said by every build, a no-op one too: which, and where to read why. Each failure
    was said in full when its run ended."""
    names = [line.split("]: ", 1)[0] + "]" for line in lines]
    listed = ", ".join(names[:named]) + (f" and {len(names) - named} more" if len(names) > named else "")
    count = "1 variant's latest run" if len(names) == 1 else f"{len(names)} variants' latest runs"
    return f"{count} failed ({listed}): knowrepo runs --failed shows why"


def summary(result: BuildResult) -> str:
    if result.noop:
        return f"Nothing changed: {result.reports} reports, site at {result.output}"
    index = (
        f"search index {result.indexed_pages} pages in {result.index_seconds:.2f}s)"
        if result.index_seconds
        else "search index unchanged)"
    )
    return (
        f"Built {result.reports} reports in {result.seconds:.2f}s "
        f"({result.executed} executed, {result.rendered} rendered, {result.cached} cached; "
        f"{result.pages_written} files written, {result.files_linked} hard-linked; {index}"
    )


def end_build(code: int) -> None:
    """As the `knowrepo` command, end the process now, without tearing down its heap: freeing
    the objects of a 1,000-report build and the final collection took 0.04-0.08 s of a 0.6 s
    rebuild (Instagram's atexit os._exit). By now every file is written and closed, and worker
    pools and the render server connection are shut down."""
    if _AS_COMMAND[0]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        sys.exit(code)
