"""`knowrepo serve`: preview the site, rebuilding what an edit changes and reloading the page."""

from __future__ import annotations

from pathlib import Path

import click

from knowrepo.commands.group import Context, fail, main, verbosity
from knowrepo.errors import KnowrepoError
from knowrepo.loader import load_registry


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
    # (imported when the command runs: the commands are all defined at each start)
    from knowrepo.preview.server import run_preview

    try:
        run_preview(
            obj.root(directory), host, port, execute, lambda line: click.echo(line, err=True), load_registry
        )
    except KnowrepoError as exc:
        fail(exc)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
