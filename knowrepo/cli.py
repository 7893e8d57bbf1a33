"""The `knowrepo` command: a thin shell over the pipeline stages.

Imports stay lazy: a no-op build must not pay for nbconvert, jinja2 or papermill.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import KnowrepoError


class Context:
    def __init__(self, directory: Path | None, verbosity: int) -> None:
        self.directory = directory
        self.verbosity = verbosity

    def root(self, given: Path | None = None) -> Path:
        from .config import find_root

        return find_root(given or self.directory or Path.cwd())

    def reporter(self, as_json: bool = False):  # -> Reporter
        from .progress import make_reporter

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


def fail(error: KnowrepoError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(1)


@main.command()
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
    help="Rendering processes (default: one per core).",
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
    as_json: bool,
) -> None:
    """Build the repository at DIRECTORY (default: found from the current folder) into a site."""
    from .build import BuildOptions
    from .build import build as run_build

    reporter = obj.reporter(as_json)
    try:
        root = obj.root(directory)
        options = BuildOptions(
            output=output.absolute() if output else None,
            drafts=drafts,
            strict=strict,
            force=force,
            workers=workers or 0,
        )
        result = run_build(root, options, reporter)
    except KnowrepoError as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "error": str(exc)}))
        fail(exc)
        return
    except KeyboardInterrupt:
        click.echo("interrupted: the published site is unchanged", err=True)
        sys.exit(130)
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
                f"({result.rendered} rendered, {result.cached} cached; "
                f"{result.pages_written} files written, {result.files_linked} unchanged)",
                err=True,
            )
        click.echo(f"Site: {result.output}/index.html")
    if result.errors:
        click.echo(f"{len(result.errors)} report(s) failed; their previous pages were kept:", err=True)
        for message in result.errors:
            click.echo(f"  {message}", err=True)
        sys.exit(1)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="Knowledge Repository", help="The site's title.")
@click.option("--author", default="Your Name", help="Author named in the starter reports.")
@click.pass_obj
def init(obj: Context, directory: Path, title: str, author: str) -> None:
    """Create a new knowledge repository in DIRECTORY that `knowrepo build` builds at once."""
    from .scaffold import init_repository

    try:
        written = init_repository(directory, title=title, author=author)
    except KnowrepoError as exc:
        fail(exc)
        return
    if obj.verbosity:
        for path in written:
            click.echo(f"created {path}", err=True)
        click.echo(f"Next: knowrepo build {directory}", err=True)


if __name__ == "__main__":
    main()
