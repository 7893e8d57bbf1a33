"""`knowrepo new`: a report with its front matter filled in, ready to write."""

from __future__ import annotations

import click

from knowrepo.commands.group import Context, main, user_errors, verbosity
from knowrepo.pipeline.scaffold import TEMPLATES, create_report, next_steps


@main.command()
@verbosity
@click.argument("title")
@click.option("--template", type=click.Choice(sorted(TEMPLATES)), default="notebook", show_default=True)
@click.option("--tags", default="", help="Comma-separated tags.")
@click.option("--dir", "folder", default="", help="A folder under reports/ (made if needed).")
@click.pass_obj
def new(obj: Context, title: str, template: str, tags: str, folder: str) -> None:
    """Create a report titled TITLE under reports/ and print its path."""
    with user_errors():
        path = create_report(
            obj.root(), title, template, [t.strip() for t in tags.split(",") if t.strip()], folder
        )
    click.echo(str(path))
    if obj.verbosity:
        click.echo(next_steps(path, template), err=True)
