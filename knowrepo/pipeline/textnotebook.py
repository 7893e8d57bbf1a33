"""Notebooks kept as text: jupytext's percent scripts (`# %%` cells) and jupytext or MyST
Markdown notebooks (a `.md` whose header has `jupyter:`, or `jupytext:` and `kernelspec:`).

Discovery knows them, and reads their front matter and title, from the text alone: importing
jupytext costs 0.37 s (python -X importtime), more than a whole no-op build, and discovery runs
in the build's own process on every edit. Every stage that needs the cells (planning,
execution, rendering, check) reads the notebook jupytext makes of the file (`read_notebook`);
papermill reads the same notebook from a file kept by the source's hash (`notebook_file`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from knowrepo.pipeline.ipynb import notebook_problem
from knowrepo.pipeline.masking import mask_front_matter, mask_notebook
from knowrepo.support.atomic import write_atomic
from knowrepo.support.caches import Caches
from knowrepo.support.text import read_text

PYTHON = {"name": "python3", "display_name": "Python 3", "language": "python"}
_PERCENT_CELL = re.compile(r"^# %%", re.M)
_MARKDOWN_CELL = re.compile(r"^# %% \[(?:markdown|md)\][^\n]*\n((?:#[^\n]*\n?|\n)*)", re.M)
_SCRIPT_HEADER = re.compile(
    r"\A(?:#![^\n]*\n)?(?:# -\*-[^\n]*\n)?# ---[ \t]*\n((?:#[^\n]*\n)*?)# ---[ \t]*(?:\n|\Z)"
)
_NOTEBOOK_KEYS = re.compile(r"^(?:jupyter|jupytext|kernelspec)[ \t]*:", re.M)
_FENCED = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)


def is_percent_script(text: str) -> bool:
    """A `.py` file is a report when it has jupytext percent cells; other scripts (a helper
    module next to the notebooks) are not."""
    return _PERCENT_CELL.search(text) is not None


def is_markdown_notebook(yaml_text: str | None) -> bool:
    """A `.md` whose front matter carries jupytext's or MyST's notebook keys."""
    return yaml_text is not None and _NOTEBOOK_KEYS.search(yaml_text) is not None


def script_front_matter(text: str) -> tuple[str | None, str]:
    """(the YAML of a percent script's commented `# ---` header or None, the Markdown of its
    markdown cells), without jupytext (see the module's docstring)."""
    header = _SCRIPT_HEADER.match(text)
    yaml_text = None
    if header:
        yaml_text = "".join(_uncomment(line) for line in header.group(1).splitlines(keepends=True))
    prose = "\n\n".join(
        "".join(_uncomment(line) for line in cell.group(1).splitlines(keepends=True))
        for cell in _MARKDOWN_CELL.finditer(text)
    )
    return yaml_text, prose


def mask_script_header(text: str) -> str:
    """A percent script with the private values of its `# ---` header masked (see
    masking.mask_front_matter); the rest of it byte for byte."""

    header = _SCRIPT_HEADER.match(text)
    if not header:
        return text
    yaml_text = "".join(_uncomment(line) for line in header.group(1).splitlines(keepends=True))
    hidden = mask_front_matter(yaml_text)
    if hidden == yaml_text:
        return text
    commented = "".join(f"# {line}" if line.strip() else "#\n" for line in hidden.splitlines(keepends=True))
    start, end = header.span(1)
    return text[:start] + commented + text[end:]


def _uncomment(line: str) -> str:
    return line[2:] if line.startswith("# ") else line[1:] if line.startswith("#") else line


def markdown_notebook_prose(body: str) -> str:
    """The prose of a Markdown notebook's body: its code cells left out, so that a `# comment`
    in code is never taken for the title."""
    return _FENCED.sub("", body)


def is_text_notebook(relpath: str) -> bool:
    return not relpath.endswith(".ipynb")


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook (plain .ipynb JSON) of a percent script or a Markdown notebook."""
    import jupytext  # (jupytext: 0.37 s, only where a text notebook's cells are read)

    notebook = jupytext.reads(read_text(path), {"extension": path.suffix})  # (a byte-order mark too)
    notebook.metadata.setdefault("kernelspec", PYTHON)  # (a script without a header: Python's)
    nb: dict[str, Any] = json.loads(jupytext.writes(notebook, fmt="ipynb"))
    return nb


def load_notebook(path: Path) -> dict[str, Any]:
    """Any notebook source as .ipynb JSON: the file itself, or jupytext's conversion."""
    return json.loads(path.read_bytes()) if path.suffix == ".ipynb" else read_notebook(path)


def notebook_file(root: Path, relpath: str, source_hash: str) -> Path:
    """A path papermill can read for the notebook source `relpath`: the .ipynb itself, or the
    conversion of a text notebook kept in .knowrepo/ by the source's hash (the run itself
    works in the source's folder)."""
    path = root / relpath
    if not is_text_notebook(relpath):
        return path
    target = Caches(root / ".knowrepo").text_notebook(source_hash)
    if not _is_notebook(target):  # (.knowrepo/ holds no private value either)
        write_atomic(target, json.dumps(mask_notebook(read_notebook(path))).encode())
    return target


def _is_notebook(path: Path) -> bool:
    """Whether the kept conversion at `path` is there and is a notebook (not damaged, nor
    JSON of another shape, which papermill would fail the run on)."""
    try:
        return notebook_problem(json.loads(path.read_bytes())) is None
    except (OSError, ValueError, RecursionError):
        return False


class SourceKind(NamedTuple):
    """What a report's source is, as each place names it."""

    short: str  # `knowrepo list`'s kind column
    label: str  # the report page's "Source"
    download: str  # its download link
    card: str  # a card without a thumbnail


SOURCE_KINDS = {
    "ipynb": SourceKind("notebook", "Jupyter notebook", "Source notebook", "Notebook"),
    "percent": SourceKind("script", "Python script (jupytext percent format)", "Source script", "Script"),
    "myst": SourceKind("myst notebook", "MyST Markdown notebook", "Source MyST notebook", "MyST notebook"),
    "jupytext-md": SourceKind(
        "markdown notebook", "Markdown notebook (jupytext)", "Source Markdown notebook", "Notebook"
    ),
    "markdown": SourceKind("markdown", "Markdown", "Source Markdown", "Note"),
    "post": SourceKind("knowledge post", "Knowledge-repo post (Markdown)", "Source Markdown", "Note"),
}
_TOP_KEY = re.compile(r"^(jupyter|jupytext)[ \t]*:", re.M)


def source_kind(relpath: str, kind: str, head: str = "") -> str:
    """The key of SOURCE_KINDS for a report source: by its suffix, and for a Markdown notebook
    by its header (`head`: the file's first lines): jupytext writes `jupyter:` at the top of its
    Markdown notebooks, MyST's (jupytext's `md:myst` too) a top-level `jupytext:`."""
    if relpath.endswith(".ipynb"):
        return "ipynb"
    if relpath.endswith(".py"):
        return "percent"
    if kind != "notebook":
        return "post" if ".kp/" in relpath else "markdown"
    found = _TOP_KEY.search(head)
    return "myst" if found is None or found.group(1) == "jupytext" else "jupytext-md"


def source_kind_of(root: Path, relpath: str, kind: str) -> str:
    """source_kind() of the file at root/relpath (its first 4 kB read: the header is at the top)."""
    head = ""
    if kind == "notebook" and relpath.endswith(".md"):
        try:
            with open(root / relpath, encoding="utf-8", errors="replace") as file:
                head = file.read(4096)
        except OSError:
            pass
    return source_kind(relpath, kind, head)
