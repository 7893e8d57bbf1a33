"""The warm render server: an edit-and-rebuild loop renders in it, with the very same pages,
and it never outstays its welcome (idle time, its socket gone, other code, killed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from test_incremental import processes_mentioning

from conftest import KNOWREPO, copy_example, run_knowrepo
from knowrepo.pipeline.render import server as renderserver

NOTEBOOK = "reports/ops/warehouse-delays.ipynb"
PAGE = "_site/ops/warehouse-delays/index.html"


def build(repo: Path) -> dict:
    """`knowrepo build --json` with the render server allowed, as a user runs it."""
    env = {**os.environ, renderserver.ENV_SWITCH: "1"}
    proc = subprocess.run(
        [*KNOWREPO, "build", str(repo), "--json"], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def add_sentence(repo: Path, sentence: str) -> None:
    nb = nbformat.read(repo / NOTEBOOK, as_version=4)
    nb.cells[1].source += f"\n\n{sentence}"
    nbformat.write(nb, repo / NOTEBOOK)


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def server_up(repo: Path) -> bool:
    server = renderserver.RenderServer.connect(repo / ".knowrepo")
    if server is None:
        return False
    server.close()
    return True


@pytest.fixture()
def repo(tmp_path: Path, example_repo: Path) -> Iterator[Path]:
    repo = copy_example(tmp_path / "repo", runs_from=example_repo)
    assert build(repo)["render_server"] == ""  # a first build leaves nothing behind
    yield repo
    for pid in processes_mentioning(str(repo / ".knowrepo")):
        os.kill(pid, signal.SIGKILL)


def test_an_edit_loop_renders_in_the_warm_server_with_the_same_pages(repo: Path):
    add_sentence(repo, "First edit of the day.")
    first = build(repo)
    assert first["rendered"] == 1 and first["render_server"] == "started"
    assert wait_for(lambda: server_up(repo)), (repo / ".knowrepo/render-server.log").read_text()

    add_sentence(repo, "Second edit, rendered warm.")
    second = build(repo)
    assert second["rendered"] == 1 and second["render_server"] == "used"
    served = (repo / PAGE).read_bytes()
    assert b"Second edit, rendered warm." in served and b"First edit of the day." in served

    # The same page from worker processes, without the server: byte for byte.
    forced = run_knowrepo("build", str(repo), "--force", "--json")
    assert json.loads(forced.stdout)["render_server"] == ""
    assert (repo / PAGE).read_bytes() == served


def test_a_killed_server_is_replaced_and_the_build_goes_on(repo: Path):
    add_sentence(repo, "Start one.")
    assert build(repo)["render_server"] == "started"
    assert wait_for(lambda: server_up(repo))
    socket_file = repo / ".knowrepo" / renderserver.SOCKET_NAME
    for pid in processes_mentioning(str(socket_file)):
        os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not processes_mentioning(str(socket_file)), 10)
    assert socket_file.exists()  # what a killed server leaves behind

    add_sentence(repo, "Built without it.")
    result = build(repo)
    assert result["rendered"] == 1 and result["render_server"] == "started"
    assert b"Built without it." in (repo / PAGE).read_bytes()
    assert wait_for(lambda: server_up(repo))


def test_the_server_leaves_for_other_code_a_removed_socket_or_idleness(repo: Path):
    state = repo / ".knowrepo"
    socket_file = state / renderserver.SOCKET_NAME

    def running() -> list[int]:
        return processes_mentioning(str(socket_file))

    assert renderserver.start(state, 600)
    assert wait_for(lambda: server_up(repo))
    assert not renderserver.start(state, 600)  # one per repository
    # While one build holds it, another hears at once that it is busy (and renders itself).
    holder = renderserver.RenderServer.connect(state)
    assert holder is not None
    started = time.monotonic()
    assert renderserver.RenderServer.connect(state) is None
    assert time.monotonic() - started < 1
    holder.close()
    assert wait_for(lambda: server_up(repo), 10) and len(running()) == 1
    # A build of other code (an upgrade, an edit to knowrepo) gets no answer and ends it.
    assert renderserver.RenderServer.connect(state, fingerprint="other code") is None
    assert wait_for(lambda: not running(), 10) and not socket_file.exists()

    assert renderserver.start(state, 600)
    assert wait_for(lambda: server_up(repo))
    socket_file.unlink()  # the state folder cleaned away
    assert wait_for(lambda: not running(), 10)

    assert renderserver.start(state, 1)
    assert wait_for(lambda: server_up(repo))
    assert wait_for(lambda: not running(), 10)  # idle for a second: gone
    assert not socket_file.exists()
