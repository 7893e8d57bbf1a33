"""Claims: which one process, of all the machines that share a folder, does one job (sends one
run's email), made in that folder itself, not in a lock of one checkout.

A claim is a file `<job>.claim.<n>` made with O_CREAT|O_EXCL, which one process alone can
make (so on every local file system, and on NFS from version 3 on), naming its host and pid.
The newest claim (highest n) is the job's: while it is live, others leave the job to it. It
is live while its process is (asked on this machine), and, made on another machine whose pid
cannot be asked after from here, for CLAIM_AGE. A dead or stale claim n is taken over by
making claim n+1, again exclusively: of two processes that find it dead, one makes n+1 and
the other finds n+1 live. Nothing is ever renamed over or removed from under a live holder;
the holder removes its claim, and the stale ones before it, when it is done.

What this guarantees: never two live holders of one job, given that (a) clocks of the
machines agree within minutes (an age is a file's mtime, set by the file server, against this
machine's clock), (b) machines sharing the folder have distinct host names (a pid is asked
after only on the host that wrote it), and (c) no holder takes longer than CLAIM_AGE (then
it counts as dead, and the job may be done twice). A listing of the folder that is out of
date (NFS caches them) costs nothing but a wait: the exclusive create, done by the server,
decides. What the holder then reads (the email's record) is as fresh as NFS's close-to-open
consistency makes it, the default of every NFS client.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from knowrepo.errors import one_line

HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
# One email: a PDF rendered, then SMTP with a 30-second timeout on every step. A claim an
# hour old is a process that died on another machine (or one that hangs: then it may go twice).
CLAIM_AGE = 3600


def alive(pid: int) -> bool:
    """Whether a process of this machine with this pid runs (one of another user's does)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Holder:
    """Who holds a claim, as its file says."""

    pid: int
    name: str  # the host's name, to show
    since: str

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.name} (since {self.since})" if self.pid else "another process"


@contextlib.contextmanager
def claimed(job: Path) -> Iterator[Holder | None]:
    """Hold the claim on `job` (a path without its suffix) for the block: yields None when
    this process holds it, else the live holder (the block then leaves the job alone)."""
    mine, holder = _take(job)
    try:
        yield holder
    finally:
        if mine is not None:
            _release(job, mine)


def _claims(job: Path) -> list[tuple[int, Path]]:
    """The job's claims, oldest first."""
    found = []
    for path in job.parent.glob(glob.escape(job.name) + ".claim.*"):
        number = path.name.rsplit(".", 1)[1]
        if number.isdigit():
            found.append((int(number), path))
    return sorted(found)


def _take(job: Path) -> tuple[int | None, Holder | None]:
    """(the number of the claim made, None) or (None, the live holder)."""
    job.parent.mkdir(exist_ok=True)
    for _attempt in range(5):
        claims = _claims(job)
        newest = claims[-1][0] if claims else 0
        if claims and (holder := _live(claims[-1][1])) is not None:
            return None, holder
        path = job.parent / f"{job.name}.claim.{newest + 1}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            continue  # another process took it first: it is live (the next look says whose)
        since = time.strftime("%Y-%m-%d %H:%M:%S")
        mine = {"host": HOST, "name": socket.gethostname(), "pid": os.getpid(), "since": since}
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(mine))
        except BaseException:  # (a full disk: an empty claim would hold the job for an hour)
            path.unlink(missing_ok=True)
            raise
        return newest + 1, None
    return None, Holder(0, "", "")  # (claims made faster than looked at: others are at it)


def _live(path: Path) -> Holder | None:
    """The holder of the claim at `path`, or None when its process is gone."""
    try:
        age = time.time() - path.stat().st_mtime
        made = json.loads(path.read_text(encoding="utf-8") or "{}")
    except FileNotFoundError:
        return None  # (released meanwhile)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        made = {}
    if age > CLAIM_AGE:
        return None
    if not isinstance(made, dict) or not made:
        return Holder(0, "", "")  # being written this instant (or not ours: waits its hour)
    pid, host = made.get("pid"), made.get("host")
    if not isinstance(pid, int) or isinstance(pid, bool):
        return Holder(0, "", "")
    if host == HOST and (pid == os.getpid() or not alive(pid)):
        return None  # (its own pid: a process before this one had it, not this one's claim)
    name, since = (one_line(str(made.get(key) or "")) for key in ("name", "since"))
    return Holder(pid, (name or one_line(str(host)))[:80], since[:40])


def _release(job: Path, number: int) -> None:
    """Remove this claim, then the dead ones it took over (newest first: a claim stays the
    newest one until it is gone)."""
    for found, path in reversed(_claims(job)):
        if found <= number:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
