"""`knowrepo init`: a new knowledge repository that builds at once."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from knowrepo.commands.group import Context, main, user_errors, verbosity
from knowrepo.pipeline.scaffold import init_repository


@main.command()
@verbosity
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="Knowledge Repository", help="The site's title.")
@click.option("--author", default="Your Name", help="Author named in the starter reports.")
@click.pass_obj
def init(obj: Context, directory: Path, title: str, author: str) -> None:
    """Create a new knowledge repository in DIRECTORY that `knowrepo build` builds at once."""
    with user_errors():
        written = init_repository(directory, title=title, author=author)
    if obj.verbosity:
        for path in written:
            click.echo(f"created {path}", err=True)
        click.echo(f"Next: {shlex.join(['knowrepo', 'build', str(directory)])}", err=True)
