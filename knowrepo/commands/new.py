"""`knowrepo new`: a report with its front matter filled in, ready to write."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import subprocess
from pathlib import Path

import click

from knowrepo.commands.group import Context, main, user_errors, verbosity
from knowrepo.errors import KnowrepoError

SUFFIXES = {"notebook": ".ipynb", "markdown": ".md", "script": ".py"}  # script: jupytext's percent format
INTRO = "The question this report answers, and what it found."
PARAMETERS = '# Parameters: knowrepo run REPORT -p name=value sets them\nregion = "EU"'


@main.command()
@verbosity
@click.argument("title")
@click.option("--template", type=click.Choice(sorted(SUFFIXES)), default="notebook", show_default=True)
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


def author_name(root: Path) -> str:
    """`git config user.name` in the repository, else the login name."""
    try:
        name = subprocess.run(
            ["git", "config", "user.name"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if name.stdout.strip():
            return name.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return getpass.getuser()


def create_report(root: Path, title: str, template: str, tags: list[str], folder: str) -> Path:
    """The new report's file (never one that exists)."""
    from knowrepo.pipeline.slugs import unicode_slug

    if not title.strip():
        raise KnowrepoError(None, "the report needs a title")
    base = (root / "reports" / folder).resolve()
    if not base.is_relative_to((root / "reports").resolve()):
        raise KnowrepoError(folder, "--dir must be a folder under reports/")
    path = base / ((unicode_slug(title) or "report") + SUFFIXES[template])
    if path.exists():
        raise KnowrepoError(path.relative_to(root), "exists already; choose another title or --dir")
    front = {"title": title, "authors": [author_name(root)], "tags": tags, "summary": "",
             "created": dt.date.today().isoformat()}  # fmt: skip
    header = (
        "---\n" + "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in front.items()) + "---"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if template == "markdown":
        path.write_text(f"{header}\n\n# {title}\n\n{INTRO}\n")
    elif template == "script":
        path.write_text(_script(header, title))
    else:
        path.write_text(json.dumps(_notebook(header, title), indent=1, ensure_ascii=False) + "\n")
    return path.relative_to(root)


def _notebook(header: str, title: str) -> dict[str, object]:
    def cell(kind: str, source: str, tags: list[str] | None = None) -> dict[str, object]:
        made: dict[str, object] = {
            "cell_type": kind,
            "metadata": {"tags": tags} if tags else {},
            "source": source,
        }
        if kind == "code":
            made.update(execution_count=None, outputs=[])
        return made

    cells = [
        cell("raw", header),
        cell("markdown", f"# {title}\n\n{INTRO}"),
        cell("code", PARAMETERS, ["parameters"]),
        cell("code", 'print(f"Analysing {region}")'),
    ]
    for index, made in enumerate(cells):
        made["id"] = f"cell-{index}"
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    metadata = {"kernelspec": kernelspec, "language_info": {"name": "python"}}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def _script(header: str, title: str) -> str:
    """A jupytext percent script: the header commented, `# %%` cells."""
    kernel = "jupyter:\n  kernelspec:\n    display_name: Python 3\n    language: python\n    name: python3\n"
    lines = header.split("\n")
    commented = "\n".join(f"# {line}".rstrip() for line in [*lines[:-1], *kernel.splitlines(), lines[-1]])
    return (
        f"{commented}\n\n# %% [markdown]\n# # {title}\n#\n# {INTRO}\n\n"
        f'# %% tags=["parameters"]\n{PARAMETERS}\n\n# %%\nprint(f"Analysing {{region}}")\n'
    )
