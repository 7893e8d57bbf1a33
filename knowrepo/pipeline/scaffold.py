"""New files that build at once: a knowledge repository (`knowrepo init`), and a report with its
front matter filled in (`knowrepo new`)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import subprocess
from pathlib import Path

from knowrepo.config import CONFIG_NAME, option_named
from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.slugs import unicode_slug

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


# What the new file says to its author only: readers never see it. A prompt is an HTML comment
# (the page shows nothing until the author writes), and how to run it is printed by `new`, not
# written in a cell (a code cell is published as code).
INTRO = "<!-- Write here the question this report answers, and what it found. -->"


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
        _cell("markdown", f"# My first analysis\n\n{INTRO}"),
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


# `knowrepo new --template`: the new file's suffix (script: a jupytext percent script).
TEMPLATES = {"notebook": ".ipynb", "markdown": ".md", "script": ".py"}


PARAMETERS = 'region = "EU"'


def next_steps(path: Path, template: str) -> str:
    """What `knowrepo new` says of the file it made (on the terminal, never in the file)."""
    run = "" if template == "markdown" else f"; `knowrepo run {path} -p region=US` runs it with other values"
    return f"{path}: made; write it, then `knowrepo build` publishes it{run}"


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
    if not title.strip():
        raise KnowrepoError(None, "the report needs a title")
    base = (root / "reports" / folder).resolve()
    if not base.is_relative_to((root / "reports").resolve()):
        raise KnowrepoError(folder, "--dir must be a folder under reports/")
    path = base / ((unicode_slug(title) or "report") + TEMPLATES[template])
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
