"""A warm render process that outlives one build, for the analyst's edit-and-rebuild loop.

A fresh process needs about a second before its first page (importing nbconvert alone is
0.45-0.9 s here, then Pygments and the templates); a warm one renders a notebook in ~0.1 s.
So a build that renders a few notebooks hands them to this server when one is running for the
repository, and otherwise starts one for the next build (as Gradle's daemon or dmypy do).

Written by hand because no library does this small job: it listens on a Unix socket in the
state folder (mode 0600, and the peer's uid is checked), speaks JSON lines (never pickle),
renders one build's jobs at a time (another build hears at once that it is busy), and exits
after `idle` seconds without a build, when its socket file is removed or replaced, or when a
build runs different code (the fingerprint).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import knowrepo
from knowrepo.errors import KnowrepoError, WriteError
from knowrepo.model import RenderedPage
from knowrepo.pipeline.render.job import RenderJob, render_or_error, warm_renderer
from knowrepo.plugins import LoadRegistry
from knowrepo.support.distributions import installed_stamp

if TYPE_CHECKING:
    from knowrepo.pipeline.render.job import OnDone, Outcome

PACKAGE = Path(knowrepo.__file__).parent
SOCKET_NAME = "render.sock"
SERVER_COMMAND = "render-server"  # the hidden command a build starts a server with
MAX_JOBS = 16  # more than this: a pool over every core wins even after its ~1 s start
ENV_SWITCH = "KNOWREPO_RENDER_SERVER"  # "0": never start or use one (CI, tests)
_CHECK_SECONDS = 2.0  # how often an idle server looks at its socket file and the clock
_MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes


def code_fingerprint() -> str:
    """What the server's code is: this package's files and the installed packages (pip
    changes site-packages' mtime; a plugin installed elsewhere on sys.path changes the stamp),
    by stat alone. A build of other code gets no answer from it."""
    here = PACKAGE
    parts: list[Any] = [sys.executable, installed_stamp()]
    for path in sorted([*here.rglob("*.py"), *here.rglob("nbtemplate/**/*")]):
        with contextlib.suppress(OSError):
            st = path.stat()
            parts.append((path.name, st.st_mtime_ns, st.st_size))
    for key in ("purelib", "platlib"):
        with contextlib.suppress(OSError):
            parts.append(os.stat(sysconfig.get_paths()[key]).st_mtime_ns)
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def socket_path(state_dir: Path) -> str | None:
    """Where the repository's server listens (None: the path is too long for a Unix socket)."""
    path = str((state_dir / SOCKET_NAME).absolute())
    return path if len(path.encode()) <= _MAX_SOCKET_PATH else None


def enabled(idle_seconds: int) -> bool:
    return idle_seconds > 0 and os.environ.get(ENV_SWITCH, "1") != "0" and sys.platform == "linux"


# ---- the build's side -------------------------------------------------------------------


class RenderServer:
    """A connection to a running, warm server that answered this build's fingerprint (a
    renderer.Renderer)."""

    name = "server"

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._file = sock.makefile("rwb")

    @classmethod
    def connect(cls, state_dir: Path, fingerprint: str | None = None) -> RenderServer | None:
        """The server for this repository if one is running the same code, else None."""
        path = socket_path(state_dir)
        if path is None or not os.path.exists(path):
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(5)  # warming up, it answers in 1-2 s; busy with another build: go on without
            sock.connect(path)
            server = cls(sock)
            server._send({"fingerprint": fingerprint or code_fingerprint()})
            if server._receive().get("ok"):
                return server
        except (OSError, ValueError):
            pass
        sock.close()
        return None

    def _send(self, message: dict[str, Any]) -> None:
        self._file.write(json.dumps(message).encode() + b"\n")
        self._file.flush()

    def _receive(self) -> dict[str, Any]:
        line = self._file.readline()
        if not line:
            raise ValueError("the render server closed the connection")
        message: dict[str, Any] = json.loads(line)
        return message

    def render(
        self, jobs: Sequence[RenderJob], on_done: OnDone, meanwhile: Callable[[], None]
    ) -> list[RenderJob]:
        """Render `jobs` there, calling on_done(job, (page, warnings) or KnowrepoError) as each
        returns, and `meanwhile` here while it renders. Returns the jobs it could not do (the
        server died): the caller renders them itself."""
        done = 0
        try:
            self._sock.settimeout(None)  # a render takes as long as it takes, as in a pool
            for job in jobs:
                self._send({"job": {**asdict(job), "root": os.path.abspath(job.root)}})
        except OSError:
            meanwhile()
            return list(jobs)
        meanwhile()
        try:
            for job in jobs:
                answer = self._receive()
                if "error" in answer:
                    kind = WriteError if answer.get("machine") else KnowrepoError
                    outcome: Outcome = kind(*answer["error"])
                else:
                    outcome = (RenderedPage.from_json(answer["page"]), answer["warnings"])
                done += 1
                on_done(job, outcome)
        except (OSError, ValueError):
            return list(jobs[done:])
        return []

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
            self._sock.close()


def start(state_dir: Path, idle_seconds: int) -> bool:
    """Start a server for the repository in the background, detached from this build (its
    own session: a Ctrl-C of this build does not reach it). False if it cannot have one."""
    path = socket_path(state_dir)
    if path is None or _answers(path):  # none possible, or one runs (busy with another build)
        return False
    # The same knowrepo as this build's, even when it runs from a checkout (python -m knowrepo).
    paths = [str(PACKAGE.resolve().parent), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    log = open(state_dir / "render-server.log", "ab")  # noqa: SIM115 - handed to the child
    with log:
        subprocess.Popen(  # (its entry is a command, as every process's: it loads the registry)
            [sys.executable, "-m", "knowrepo", SERVER_COMMAND, path, str(idle_seconds)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd="/",
            env=env,
            start_new_session=True,
        )
    return True


# ---- the server's side ------------------------------------------------------------------


def _answers(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    uid: int = struct.unpack("3i", creds)[1]
    return uid


def _serve_one(conn: socket.socket, fingerprint: str, load_registry: LoadRegistry) -> bool:
    """One build's session: the fingerprint, then jobs as they come. False: exit."""
    if _peer_uid(conn) != os.getuid():
        return True
    stream = conn.makefile("rwb")
    line = stream.readline()
    if not line:  # a probe (another server starting) or a build that went away
        return True
    if json.loads(line).get("fingerprint") != fingerprint:
        stream.write(b'{"stale": true}\n')
        stream.flush()
        return False
    stream.write(b'{"ok": true}\n')
    stream.flush()
    for line in stream:
        outcome = render_or_error(RenderJob(**json.loads(line)["job"]), load_registry)
        if isinstance(outcome, KnowrepoError):
            answer: dict[str, Any] = {
                "error": [outcome.path, outcome.message],
                "machine": isinstance(outcome, WriteError),
            }
        else:
            answer = {"page": outcome[0].to_json(), "warnings": outcome[1]}
        stream.write(json.dumps(answer).encode() + b"\n")
        stream.flush()
    return True


def _session(
    conn: socket.socket, fingerprint: str, stop: threading.Event, load_registry: LoadRegistry
) -> None:
    with conn:
        conn.settimeout(None)
        try:
            if not _serve_one(conn, fingerprint, load_registry):
                stop.set()
        except (OSError, ValueError, TypeError):  # that build went away or spoke nonsense
            pass


def run_server(path: str, idle_seconds: float, load_registry: LoadRegistry) -> None:
    """Listen at `path` until idle for `idle_seconds` or the socket file is gone, rendering with
    the registry `load_registry` loads (at once: the server warms up before its first build)."""
    if _answers(path):  # another server already listens there
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # a dead server's socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o077)
    try:
        listener.bind(path)
    finally:
        os.umask(umask)
    listener.listen(8)
    mine = _inode(path)
    fingerprint = code_fingerprint()
    warm_renderer(str(Path(path).parent / "cache" / "jinja"), load_registry)
    listener.settimeout(_CHECK_SECONDS)
    last = time.monotonic()
    stop = threading.Event()
    session: threading.Thread | None = None
    try:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if session is not None and session.is_alive():
                    last = time.monotonic()
                elif time.monotonic() - last > idle_seconds or _inode(path) != mine:
                    return
                continue
            if session is not None:
                session.join(0.2)  # one that is ending (a probe, a build's last answer) ends first
            if stop.is_set() or (session is not None and session.is_alive()):
                # One build at a time renders here; another hears so at once and uses its own
                # workers (rather than waiting for this one to finish).
                with conn, contextlib.suppress(OSError):
                    conn.sendall(b'{"busy": true}\n')
                continue
            session = threading.Thread(
                target=_session, args=(conn, fingerprint, stop, load_registry), daemon=True
            )
            session.start()
            last = time.monotonic()
    finally:
        listener.close()
        if _inode(path) == mine:
            with contextlib.suppress(OSError):
                os.unlink(path)
