"""One writer at a time per repository: builds and runs take an exclusive lock on
.knowrepo/lock, so two of them never interleave (a build pruning the version another just
published, or two processes executing the same notebooks).

flock, not a pid file: the kernel releases it when the process ends, however it ends, so a
killed build never leaves the repository locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = "lock"
_HELD: set[int] = set()  # the descriptors of the locks this process holds


def _forget_in_child() -> None:
    """A forked worker (a render pool's, which may outlive the build by seconds while it
    shuts down) must not hold the lock: flock belongs to the open file, which fork shares, so
    the parent's next lock (the emails after `run --build`) would wait for it."""
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it: 'knowrepo build (pid 123, since 10:02:03)'."""
    with contextlib.suppress(OSError):
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
        if text:
            return text
    return "another knowrepo process"


@contextlib.contextmanager
def repository_lock(state_dir: Path, what: str, notice: Callable[[str], None]) -> Iterator[None]:
    """Hold the repository's lock for the block; `notice` hears once if it must wait."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            notice(f"waiting for {_holder(fd)} to finish ({path})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what} (pid {os.getpid()}, since {time.strftime('%H:%M:%S')})\n".encode(), 0)
        _HELD.add(fd)
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)  # releases the lock
