"""Where the reports are: every report source under reports/ found by one walk of stats (a
no-op build costs one stat per file), with the entries refused (links that lead outside the
repository, unreadable folders) and those skipped that a user may take for reports."""

from __future__ import annotations

import os
from pathlib import Path

from knowrepo.support.paths import outside_reason

# What a report is written in: .ipynb notebooks; .md Markdown (a notebook when its header is
# jupytext's or MyST's); .py jupytext percent scripts (only with `# %%` cells).
SUFFIXES = {".ipynb", ".md", ".py"}


# Files that look like reports but are not (listed with -v): what they are, and what to do.
NOT_REPORTS = {
    ".rmd": "R Markdown is not a report format of knowrepo",
    ".qmd": "Quarto Markdown is not read: keep the notebook (.ipynb) or a jupytext .md",
    ".org": "Org files are not reports; convert to Markdown (.md)",
    ".rst": "reStructuredText is not a report format; convert to Markdown (.md)",
    ".markdown": "only .md files are Markdown reports; rename it",
    ".kp": "a zipped knowledge-repo post: unzip it into a .kp folder",
}


# A knowledge-repo post is a folder, post.kp/, of this file and its images/ (slug: post).
KNOWLEDGE_POST = "knowledge.md"


SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", "node_modules"}


def scan_sources(
    reports_dir: Path,
) -> tuple[dict[str, os.stat_result], dict[str, str], dict[str, str]]:
    """Every report source under reports_dir (relative POSIX path -> stat); the entries refused
    (path -> why: symlinks that lead outside the repository or into .git/.knowrepo, loops,
    broken links, unreadable folders); and those skipped that a user may take for reports
    (path -> why: names starting with '_' or '.', other document formats), listed with -v."""
    found: dict[str, os.stat_result] = {}
    refused: dict[str, str] = {}
    skipped: dict[str, str] = {}
    if not reports_dir.is_dir():
        return found, refused, skipped
    root = reports_dir.parent
    if reason := outside_reason(root, reports_dir):  # reports/ itself a symlink to elsewhere
        return found, {"reports": f"{reason}; nothing in it is published"}, skipped
    base = len(str(root)) + 1  # (paths as strings: pathlib per file was 0.02 s of a no-op build at 1,000)
    top = os.stat(reports_dir)
    seen = {(top.st_dev, top.st_ino)}
    stack = [reports_dir]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            refused[Path(folder).relative_to(root).as_posix()] = f"cannot read this folder: {exc.strerror}"
            continue
        for entry in entries:
            if entry.name in SKIP_DIRS:
                continue
            rel = entry.path[base:].replace(os.sep, "/")
            suffix = os.path.splitext(entry.name)[1]
            if entry.name.startswith((".", "_")):
                if suffix in SUFFIXES or entry.name.startswith("_"):
                    skipped[rel] = "its name starts with '_' or '.', so it is not published"
                continue
            if not _utf8(entry.name):
                shown = entry.name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                refused[Path(rel).parent.joinpath(shown).as_posix()] = "its name is not UTF-8 text; rename it"
                continue
            is_link = entry.is_symlink()
            if is_link and (reason := outside_reason(root, Path(entry.path))):
                if entry.is_dir() or suffix in SUFFIXES:
                    refused[rel] = f"{reason}; not published"
                continue
            try:
                _classify(entry, rel, suffix, seen, stack, found, refused, skipped)
            except OSError as exc:
                refused[rel] = f"cannot read: {exc.strerror}" + (" (a broken symlink)" if is_link else "")
    return found, refused, skipped


def _classify(
    entry: os.DirEntry[str],
    rel: str,
    suffix: str,
    seen: set[tuple[int, int]],
    stack: list[Path],
    found: dict[str, os.stat_result],
    refused: dict[str, str],
    skipped: dict[str, str],
) -> None:
    """One entry of scan_sources: a report, a folder to descend, or a file that is not one."""
    if entry.is_dir() and entry.name.endswith(".kp"):  # a knowledge-repo post: one report
        post = f"{rel}/{KNOWLEDGE_POST}"
        if os.path.isfile(os.path.join(entry.path, KNOWLEDGE_POST)):
            found[post] = os.stat(os.path.join(entry.path, KNOWLEDGE_POST))
        else:
            refused[rel] = f"a knowledge-repo post without {KNOWLEDGE_POST}; not published"
    elif entry.is_dir():
        st = entry.stat()
        if (
            inode := (st.st_dev, st.st_ino)
        ) not in seen:  # a folder linked twice (or into itself) is read once
            seen.add(inode)
            stack.append(Path(entry.path))
    elif suffix in SUFFIXES:
        found[rel] = entry.stat()
    elif suffix.lower() in NOT_REPORTS:
        skipped[rel] = NOT_REPORTS[suffix.lower()]


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a byte that is not UTF-8, as os.scandir hands it over
        return False
    return True
