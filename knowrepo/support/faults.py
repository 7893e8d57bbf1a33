"""Pause points for the fault tests: with KNOWREPO_PAUSE_AT=<name>, the process that reaches
the point named <name> writes its pid to <state dir>/paused-<name> and sleeps, so that a test
can kill exactly that process at exactly that moment (render, index, publish, run). Each
point pauses once per marker file: a retried worker goes on. Unset, it costs one getenv."""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV = "KNOWREPO_PAUSE_AT"


def pause_point(name: str, state_dir: Path | str) -> None:
    if os.environ.get(ENV) != name:
        return
    marker = Path(state_dir) / f"paused-{name}"
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return  # paused once already: a process started after the kill goes on
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    time.sleep(120)
