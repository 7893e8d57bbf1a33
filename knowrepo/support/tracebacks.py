"""A failed run's error as people read it: one short line naming the cell, and a traceback with
no path of the machine that ran it (its folders, its user's name, its temp folders).

Pure text functions, used by the terminal (`run`, `build`, `runs ID`) and by every page, PDF
and download that publishes an error. Written here rather than taken from a library: what they
cut is knowrepo's own rule (IPython's and CPython's traceback text, both read as plain lines).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"
LINE_LIMIT = 160  # characters of an error message on one line (a terminal's, a history row's)
TRACEBACK_CHARS = 4000  # of a traceback, the last this many characters are kept in run.json

# An absolute POSIX path, after what may come before one in a traceback or message: the start,
# a space, a quote or bracket, `=`, `:` (a list of paths, as PATH has), or an ANSI colour
# (IPython colours each frame's path) in its raw form or as JSON writes it (\u001b[32m).
# Never inside a URL (`//host/...`, `a/b`).
# IPython writes a path under the home folder from `~` (`~/.pyenv/versions/...`).
_PATH = re.compile(
    r"(?P<lead>^|[\s'\"(\[<=,:]|\x1b\[[0-9;]*m|\\u001b\[[0-9;]*m)(?P<path>~?(?:/[\w.@+~-]+)+/?)", re.M
)
_PACKAGES = re.compile(r"/(?:site-packages|dist-packages)/")
_STDLIB = re.compile(r"/lib/python\d+(?:\.\d+)?/")


def strip_ansi(text: str) -> str:
    """`text` without terminal colours (a kernel's traceback is coloured)."""
    return ANSI.sub("", text)


def shorten_path(path: str, roots: Iterable[str]) -> str:
    """One absolute path as a reader may see it: an installed package's file from the package
    (`pandas/io/parquet.py`), the standard library's from its own folder (`json/decoder.py`),
    the repository's relative to it (`reports/helpers.py`), any other only by its name
    (`…/data.csv`): never the machine's folders, user names or temp folders."""
    if found := list(_PACKAGES.finditer(path)):
        return path[found[-1].end() :]
    if found := list(_STDLIB.finditer(path)):
        return path[found[-1].end() :]
    for root in roots:
        root = root.rstrip("/")
        if root and (path == root or path.startswith(root + "/")):
            return path[len(root) + 1 :] or "."
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return f"{ELLIPSIS}/{name}" if name else ELLIPSIS


def shorten_paths(text: str, roots: Iterable[str] = ()) -> str:
    """`text` (a traceback, an error message; coloured or not, or JSON text holding one) with
    every absolute path shortened by shorten_path. `roots`: the repository's absolute paths
    (as given and resolved), whose files are shown relative to it."""
    ordered = sorted({r for r in roots if r}, key=len, reverse=True)  # (the longest root first)
    return _PATH.sub(lambda m: m["lead"] + shorten_path(m["path"], ordered), text)


def traceback_tail(text: str, limit: int = TRACEBACK_CHARS) -> str:
    """The end of a traceback as a run records it: its last `limit` characters from the start
    of a line (a line cut in the middle may start inside a path, `lice/.venv/...`, which
    shorten_paths cannot know for one)."""
    if len(text) <= limit:
        return text
    tail = text[-limit:]
    return tail.partition("\n")[2] or tail


def published_traceback(text: str, roots: Iterable[str] = ()) -> str:
    """A recorded traceback as a page shows it: paths shortened, and a record cut in the middle
    of a line (TRACEBACK_CHARS exactly: run.json until 2026-12-07) without that line."""
    return shorten_paths(traceback_tail(text, TRACEBACK_CHARS - 1), roots)


def first_line(message: str, limit: int = LINE_LIMIT) -> str:
    """The first line of `message` that says something (a pyarrow ImportError is five lines),
    cut at a word under `limit` characters; an ellipsis says when anything was left out."""
    lines = [" ".join(line.split()) for line in strip_ansi(message).splitlines()]
    meaningful = [line for line in lines if any(ch.isalnum() for ch in line)]
    if not meaningful:
        return ""
    line, more = meaningful[0], len(meaningful) > 1
    if len(line) > limit:
        line, more = line[:limit].rsplit(" ", 1)[0].rstrip(",;:"), True
    return f"{line} {ELLIPSIS}" if more else line


def error_line(ename: str, evalue: str, cell: int | None, limit: int = LINE_LIMIT) -> str:
    """`cell 4: ValueError: no data for month '2026-12'`: what failed, where, in one line."""
    message = first_line(evalue, limit)
    text = f"{ename}: {message}" if ename and message else ename or message or "failed"
    return f"cell {cell}: {text}" if cell else text


def repository_roots(root: str | os.PathLike[str]) -> list[str]:
    """The repository's absolute path as given and as resolved (a symlinked /tmp, a mount),
    and from `~` as IPython writes a path under the home folder: any may stand in a traceback."""
    paths = [os.path.abspath(root), os.path.realpath(root)]
    home = os.path.expanduser("~").rstrip("/")
    paths += ["~" + p[len(home) :] for p in paths if home and p.startswith(home + "/")]
    return list(dict.fromkeys(paths))


def shorten_outputs(nb: dict[str, Any], roots: Iterable[str]) -> bool:
    """Shorten the paths in a notebook's error outputs and its stderr (a traceback, a library's
    warning: the machine's text, never the author's), and in papermill's record of where it
    ran, in place; whether anything changed. Code, Markdown and other outputs are the
    author's and stay as written."""
    roots, changed = list(roots), False
    papermill = nb.get("metadata", {}).get("papermill") if isinstance(nb, dict) else None
    if isinstance(papermill, dict):
        for key in ("input_path", "output_path"):
            before = papermill.get(key)
            if (after := _shortened(before, roots)) != before:
                papermill[key], changed = after, True
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        for output in cell.get("outputs", []) if isinstance(cell, dict) else []:
            if not isinstance(output, dict):
                continue
            kind = output.get("output_type")
            keys = (
                ("evalue", "traceback")
                if kind == "error"
                else ("text",)
                if output.get("name") == "stderr"
                else ()
            )
            for key in keys:
                before = output.get(key)
                after = _shortened(before, roots)
                if after != before:
                    output[key], changed = after, True
    return changed


def _shortened(value: Any, roots: list[str]) -> Any:
    if isinstance(value, str):
        return shorten_paths(value, roots)
    if isinstance(value, list):
        return [shorten_paths(v, roots) if isinstance(v, str) else v for v in value]
    return value


def run_error_line(error: Any, limit: int = LINE_LIMIT) -> str:
    """A recorded run's error (a model.RunError: its ename, evalue and cell) as one line, the
    theme's `error_line` filter; "" without one."""
    return error_line(error.ename, error.evalue, error.cell, limit) if error is not None else ""
