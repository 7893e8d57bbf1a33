"""The `knowrepo` command: a thin shell over the pipeline stages.

Imports stay lazy: a no-op build must not pay for nbconvert, jinja2 or papermill.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from knowrepo.errors import KnowrepoError


class Context:
    def __init__(self, directory: Path | None, verbosity: int) -> None:
        self.directory = directory
        self.verbosity = verbosity

    def root(self, given: Path | None = None) -> Path:
        from knowrepo.config import find_root

        return find_root(given or self.directory or Path.cwd())

    def reporter(self, as_json: bool = False) -> Any:
        from knowrepo.support.progress import make_reporter

        return make_reporter(0 if as_json else self.verbosity)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run as if started in DIR (the repository is found upward from there).",
)
@click.option("-q", "--quiet", count=True, help="Print only errors.")
@click.option("-v", "--verbose", count=True, help="Print every file handled.")
@click.version_option(package_name="knowrepo")
@click.pass_context
def main(ctx: click.Context, directory: Path | None, quiet: int, verbose: int) -> None:
    """Publish notebooks and Markdown analyses as a static knowledge site."""
    ctx.obj = Context(directory, max(0, 1 + verbose - quiet))


def _adjust(delta: int) -> Any:
    def callback(ctx: click.Context, _param: click.Parameter, count: int) -> None:
        if count and ctx.find_object(Context):
            obj = ctx.find_object(Context)
            obj.verbosity = max(0, obj.verbosity + delta * count)

    return callback


def verbosity(command: Any) -> Any:
    """-q / -v after the command name too (`knowrepo build -q`), not only before it."""
    command = click.option(
        "-q", "--quiet", count=True, expose_value=False, callback=_adjust(-1), help="Print only errors."
    )(command)
    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=_adjust(1),
        help="Print every file handled.",
    )(command)


def fail(error: KnowrepoError, as_json: bool = False) -> None:
    if as_json:
        click.echo(json.dumps({"ok": False, "error": str(error)}))
    click.echo(f"error: {error}", err=True)
    sys.exit(1)


def interrupted() -> None:
    click.echo("interrupted: the published site and recorded runs are unchanged", err=True)
    sys.exit(130)


@contextlib.contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """A KnowrepoError ends the command with its one line and exit 1; Ctrl-C with exit 130;
    a file that cannot be written with its one line; anything else (a bug) with one line and
    exit 2, the traceback only with -vv (cron mails stay readable)."""
    try:
        yield
    except KnowrepoError as exc:
        fail(exc, as_json)
    except KeyboardInterrupt:
        interrupted()
    except OSError as exc:
        fail(KnowrepoError(exc.filename, f"cannot read or write: {exc.strerror or exc}"), as_json)
    except Exception as exc:
        verbose = (click.get_current_context(silent=True) or click.Context(main)).find_object(Context)
        if verbose is not None and verbose.verbosity >= 3:
            import traceback

            traceback.print_exc()
        message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        click.echo(
            f"error: knowrepo failed unexpectedly ({message}); this is a bug, please report it"
            " (-vv shows the traceback)",
            err=True,
        )
        sys.exit(2)


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
    type=click.Choice(["never", "auto", "always"]),
    default=None,
    help="auto (default): run notebooks that have no run for their current code, parameters "
    "and inputs; always: rerun all; never: run nothing.",
)
@click.option(
    "--pdf", "with_pdf", is_flag=True, help="Also build a PDF of every report (download on its page)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_obj
def build(
    obj: Context,
    directory: Path | None,
    output: Path | None,
    drafts: bool,
    strict: bool,
    force: bool,
    workers: int | None,
    execute: str | None,
    with_pdf: bool,
    as_json: bool,
) -> None:
    """Build the repository at DIRECTORY (default: found from the current folder) into a site."""
    from knowrepo.pipeline.build import BuildOptions
    from knowrepo.pipeline.build import build as run_build

    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        root = obj.root(directory)
        options = BuildOptions(
            output=output.absolute() if output else None,
            drafts=drafts,
            strict=strict,
            force=force,
            workers=workers or 0,
            execute=execute,
            pdf=with_pdf,
        )
        result = run_build(root, options, reporter)
    if as_json:
        click.echo(json.dumps({"ok": not result.errors, **result.to_json()}, indent=2))
    elif obj.verbosity:
        for message in result.warnings:
            reporter.warn(message)
        if result.noop:
            click.echo(f"Nothing changed: {result.reports} reports, site at {result.output}", err=True)
            for message in result.errors:
                reporter.error(message)
        else:
            click.echo(
                f"Built {result.reports} reports in {result.seconds:.2f}s "
                f"({result.executed} executed, {result.rendered} rendered, {result.cached} cached; "
                f"{result.pages_written} files written, {result.files_linked} hard-linked; "
                + (
                    f"search index {result.indexed_pages} pages in {result.index_seconds:.2f}s)"
                    if result.index_seconds
                    else "search index unchanged)"
                ),
                err=True,
            )
        click.echo(f"Site: {result.output}/index.html")
    if result.errors:
        click.echo(f"{len(result.errors)} problem(s); failed reports kept their previous pages:", err=True)
        for message in result.errors:
            click.echo(f"  {message}", err=True)
    _end_build(1 if result.errors else 0)


def _end_build(code: int) -> None:
    """As the `knowrepo` command, end the process now, without tearing down its heap: freeing
    the objects of a 1,000-report build and the final collection took 0.04-0.08 s of a 0.6 s
    rebuild (Instagram's atexit os._exit). By now every file is written and closed, and worker
    pools and the render server connection are shut down."""
    if _AS_COMMAND:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        sys.exit(code)


@main.command()
@verbosity
@click.argument("report", required=False)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a parameter (repeatable); the value is read as the parameter's type.",
)
@click.option(
    "--params-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML file of parameter values.",
)
@click.option("--variant", "variants", multiple=True, help="Run only this variant (repeatable).")
@click.option("--all", "all_reports", is_flag=True, help="Run every notebook report.")
@click.option("--from", "from_run", metavar="RUN_ID", help="Rerun a recorded run, changing only -p values.")
@click.option("--force", is_flag=True, help="Run even when an identical successful run exists.")
@click.option(
    "-j", "--workers", type=click.IntRange(min=1), default=None, help="Runs at once (default: one per core)."
)
@click.option("--timeout", type=click.IntRange(min=1), default=None, help="Seconds a cell may run.")
@click.option("--json", "as_json", is_flag=True, help="Print the run records as JSON on stdout.")
@click.pass_obj
def run(
    obj: Context,
    report: str | None,
    params: tuple[str, ...],
    params_file: Path | None,
    variants: tuple[str, ...],
    all_reports: bool,
    from_run: str | None,
    force: bool,
    workers: int | None,
    timeout: int | None,
    as_json: bool,
) -> None:
    """Execute REPORT (a slug or a path) with papermill and record each run.

    Every variant runs unless --variant narrows it. Runs land in runs/<slug>/<variant>/<id>/;
    `knowrepo build` publishes them."""
    from knowrepo.commands.run import RunOptions, run_reports

    reporter = obj.reporter(as_json)
    with user_errors(as_json):
        root = obj.root()
        options = RunOptions(
            report=report,
            assignments=params,
            params_file=params_file,
            variants=variants,
            all_reports=all_reports,
            from_run=from_run,
            force=force,
            workers=workers or 0,
            timeout=timeout,
        )
        records = run_reports(root, options, reporter)
    failed = [r for r in records if r["status"] != "ok"]
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
    elif obj.verbosity:
        for record in records:
            status = "ok" if record["status"] == "ok" else "FAILED"
            click.echo(
                f"{status:6} {record['slug']} [{record['variant']}] {record['id']} "
                f"{record.get('duration', 0):.1f}s",
                err=True,
            )
    if failed:
        sys.exit(1)


@main.command()
@verbosity
@click.argument("report", required=False)
@click.option("--variant", "variants", multiple=True, help="Only this variant (repeatable).")
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
    from knowrepo.commands.run import list_runs, prune_runs

    with user_errors(as_json):
        root = obj.root()
        if prune:
            removed = prune_runs(root, report, variants, keep)
            if as_json:
                click.echo(json.dumps([r.record for r in removed], indent=2, default=str))
            elif obj.verbosity:
                click.echo(f"Removed {len(removed)} run(s); kept up to {keep} per variant.", err=True)
            return
        records = list_runs(root, report, variants)
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    if not records:
        click.echo("No runs recorded yet.", err=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("run id", "report", "variant", "status", "started", "duration", "parameters"):
        table.add_column(column)
    for record in records:
        params = " ".join(f"{k}={v}" for k, v in record.get("params", {}).items())
        status = "[green]ok[/]" if record["status"] == "ok" else "[red]failed[/]"
        table.add_row(
            record["id"],
            record["slug"],
            record["variant"],
            status,
            record["started"],
            f"{record['duration']:.1f}s",
            params,
        )
    Console().print(table)


@main.command()
@verbosity
@click.argument("report")
@click.option(
    "--run", "run_id", metavar="RUN_ID", help="Export this run (default: the latest successful run)."
)
@click.option("--variant", "variants", multiple=True, help="Only this variant (repeatable).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The PDF file (default: <slug>.pdf here; one file per variant).",
)
@click.pass_obj
def pdf(
    obj: Context, report: str, run_id: str | None, variants: tuple[str, ...], output: Path | None
) -> None:
    """Export REPORT (a slug or a path) to a typeset PDF: every variant unless --variant."""
    from knowrepo.exports.bodies import export_pdf, exports_for

    with user_errors():
        root = obj.root()
        config, exports = exports_for(root, report, run_id, variants, obj.reporter())
        for item in exports:
            data = export_pdf(root, config, item)
            target = output or Path(item.file_name)
            if output and len(exports) > 1:
                target = output.with_name(f"{output.stem}-{item.variant}{output.suffix or '.pdf'}")
            target.write_bytes(data)
            if obj.verbosity:
                click.echo(f"wrote {target} ({len(data) // 1024} KiB)", err=True)


@main.command()
@verbosity
@click.argument("report")
@click.option(
    "--to", "to", multiple=True, metavar="ADDRESS", help="Recipient (repeatable; default: front matter)."
)
@click.option("--cc", "cc", multiple=True, metavar="ADDRESS", help="Copy to (repeatable).")
@click.option("--variant", "variants", multiple=True, help="Only this variant (repeatable).")
@click.option("--run", "run_id", metavar="RUN_ID", help="Send this run (default: the latest successful run).")
@click.option("--rerun", is_flag=True, help="Run the report first (with -p values), then send the new run.")
@click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="With --rerun: a parameter."
)
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
    obj: Context,
    report: str,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    variants: tuple[str, ...],
    run_id: str | None,
    rerun: bool,
    params: tuple[str, ...],
    dry_run: bool,
    output: Path,
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
            to=to,
            cc=cc,
            variants=variants,
            run_id=run_id,
            rerun=rerun,
            assignments=params,
            dry_run=dry_run,
            output=output,
            reporter=obj.reporter(),
        )
    if obj.verbosity:
        for line in sent:
            click.echo(line, err=True)


@main.command()
@verbosity
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--execute", is_flag=True, help="Re-execute an edited notebook (default: re-render its last run)."
)
@click.pass_obj
def serve(obj: Context, directory: Path | None, port: int, host: str, execute: bool) -> None:
    """Preview the site: build, serve, rebuild what changes and reload the open pages."""
    from knowrepo.preview.server import serve as run_server

    try:
        run_server(obj.root(directory), host, port, execute, lambda line: click.echo(line, err=True))
    except KnowrepoError as exc:
        fail(exc)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


@main.command()
@verbosity
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="Knowledge Repository", help="The site's title.")
@click.option("--author", default="Your Name", help="Author named in the starter reports.")
@click.pass_obj
def init(obj: Context, directory: Path, title: str, author: str) -> None:
    """Create a new knowledge repository in DIRECTORY that `knowrepo build` builds at once."""
    from knowrepo.commands.init import init_repository

    with user_errors():
        written = init_repository(directory, title=title, author=author)
    if obj.verbosity:
        for path in written:
            click.echo(f"created {path}", err=True)
        click.echo(f"Next: knowrepo build {directory}", err=True)


_AS_COMMAND = False  # set by command(): this process is the `knowrepo` command itself


def command() -> None:
    """The `knowrepo` command (console script and `python -m knowrepo`)."""
    global _AS_COMMAND
    _AS_COMMAND = True
    main()


if __name__ == "__main__":
    command()
