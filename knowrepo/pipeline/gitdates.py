"""What git says of report sources: the date each was last committed, and a stamp of the
repository's HEAD that changes with every commit (so that a commit, which leaves the files'
stats as they were, still brings the listings' dates up to date)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path


def git_dir(root: Path) -> Path | None:
    """The repository's git folder: `.git`, or where a `.git` file points (a worktree)."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    try:
        text = dot.read_text(errors="replace")
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    folder = Path(text.removeprefix("gitdir:").strip())
    return folder if folder.is_absolute() else root / folder


def git_stamp(root: Path) -> list[int] | None:
    """The stats of HEAD and of its log (a commit, checkout or reset changes the log): two
    stat calls, where asking git would start a process on every no-op build. None outside git."""
    folder = git_dir(root)
    if folder is None:
        return None
    stamp: list[int] = []
    for path in (folder / "HEAD", folder / "logs" / "HEAD"):
        try:
            st = os.stat(path)
        except OSError:
            stamp += [0, 0]
            continue
        stamp += [st.st_mtime_ns, st.st_size]
    return stamp


def git_last_commit_dates(root: Path, relpaths: list[str]) -> dict[str, str]:
    """The date (UTC) each path was last committed, from one `git log` call ({} outside git)."""
    if not relpaths or git_dir(root) is None:
        return {}
    try:
        out = subprocess.run(
            ["git", "-c", "core.quotePath=false", "log", "--format=%x00%ct", "--name-only", "--", "reports"],
            cwd=root,
            capture_output=True,
            encoding="utf-8",
            errors="surrogateescape",  # (a name git has that is not UTF-8: as Path gives it)
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    wanted, dates = set(relpaths), {}
    for block in out.split("\x00")[1:]:
        lines = block.strip().splitlines()
        if not lines or not lines[0].isdigit():
            continue
        day = dt.datetime.fromtimestamp(int(lines[0]), dt.UTC).date().isoformat()
        for name in lines[1:]:
            if name in wanted and name not in dates:  # (log is newest first)
                dates[name] = day
    return dates
