"""`knowrepo init`: a new knowledge repository that builds at once."""

from __future__ import annotations

import datetime as dt
import json
import shlex
from pathlib import Path

import click

from knowrepo.commands.group import Context, main, user_errors, verbosity
from knowrepo.config import CONFIG_NAME, option_named
from knowrepo.errors import KnowrepoError

CONFIG = """\
# knowrepo settings. Every key is optional; see README.md for all of them.
[site]
title = "{title}"
description = "Analyses and notes from the data team."
base_url = "/"        # a path (/kr/) or an absolute URL (https://intranet.example.com/kr/)
code = "show"         # {code}: how code cells appear to readers

[execute]
mode = "auto"         # {mode}
timeout = 600
"""

WELCOME = """\
---
title: Welcome to your knowledge repository
authors: [{author}]
tags: [meta]
summary: How to add a report, what front matter does, and how to publish.
created: {today}
---

# Welcome

Every `.ipynb` and `.md` file under `reports/` becomes a page. Give it front matter (a YAML
block at the top of a Markdown file, or in the first *raw* cell of a notebook) with a title,
authors, tags and a summary, then run `knowrepo build`.

See [the starter notebook](first-analysis.ipynb) for a notebook report.
"""


def _choices(section: str, name: str) -> str:
    """The values knowrepo.toml takes for [section] name, as the starter file's comments list them."""
    return " | ".join(option_named(section, name).allowed())


def _cell(kind: str, source: str, **extra: object) -> dict[str, object]:
    cell: dict[str, object] = {"cell_type": kind, "metadata": {}, "source": source, **extra}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def starter_notebook(author: str, today: str) -> dict[str, object]:
    cells = [
        _cell(
            "raw",
            f"---\ntitle: My first analysis\nauthors: [{author}]\ntags: [example]\n"
            f"summary: A starter notebook to copy.\ncreated: {today}\n---",
        ),
        _cell("markdown", "# My first analysis\n\nWrite the question this notebook answers here."),
        _cell("code", 'region = "EU"\nmonths = 6', metadata={"tags": ["parameters"]}),
        _cell("code", 'print(f"Analysing {months} months of {region}")'),
    ]
    for index, cell in enumerate(cells):
        cell["id"] = f"starter-{index}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def init_repository(
    target: Path, title: str = "Knowledge Repository", author: str = "Your Name"
) -> list[Path]:
    """Create knowrepo.toml and reports/ with one notebook and one Markdown report."""
    if (target / CONFIG_NAME).exists():
        raise KnowrepoError(target / CONFIG_NAME, "already exists: this folder is a knowledge repository")
    today = dt.date.today().isoformat()
    reports = target / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    files = {
        target / CONFIG_NAME: CONFIG.format(
            title=title, code=_choices("site", "code"), mode=_choices("execute", "mode")
        ),
        reports / "welcome.md": WELCOME.format(author=author, today=today),
        reports / "first-analysis.ipynb": json.dumps(starter_notebook(author, today), indent=1) + "\n",
        target / ".gitignore": "_site\n._site.versions/\n.knowrepo/\n",
    }
    written = []
    for path, text in files.items():
        if path.exists():
            continue
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


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
