"""`knowrepo serve` in a subprocess, watched through Debian's chromium: edits appear without the
test reloading, a broken file shows an overlay over the last good page, bursts are debounced."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import KNOWREPO, copy_example


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(base: str) -> dict:
    with urllib.request.urlopen(base + "__knowrepo/status") as response:
        return json.loads(response.read())


@pytest.fixture()
def server(tmp_path: Path, example_repo: Path):
    repo = copy_example(tmp_path / "repo", base_url="/", runs_from=example_repo)
    subprocess.run(["cp", "-r", str(example_repo / ".knowrepo"), str(repo)], check=True)  # warm caches
    port = free_port()
    proc = subprocess.Popen(
        [*KNOWREPO, "serve", str(repo), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if status(base)["builds"] >= 1:
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("knowrepo serve did not come up:\n" + proc.stdout.read())
    yield repo, base, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def wait_builds(base: str, count: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = status(base)
        if state["builds"] >= count:
            return state
        time.sleep(0.1)
    raise AssertionError(f"no build {count}: {status(base)}")


def test_edit_shows_without_reload_and_errors_overlay(server, page):
    repo, base, _proc = server
    page.goto(base + "guides/metric-definitions/")
    assert "before" not in page.evaluate("window.name")
    page.evaluate("window.name = 'before'")  # survives only if the page is not reloaded by us
    source = repo / "reports/guides/metric-definitions.md"
    source.write_text(
        source.read_text().replace("When a number in two reports disagrees", "When two dashboards disagree")
    )
    changed = "document.body?.innerText.includes('When two dashboards disagree')"  # (body: none mid-reload)
    page.wait_for_function(changed, timeout=30_000)
    assert page.evaluate("window.name") == "before"  # reloaded by the live-reload script, not the test
    good = source.read_text()
    source.write_text(good.replace("title: Metric definitions", "title: [Metric definitions"))
    overlay = page.locator("#knowrepo-error-overlay")
    overlay.wait_for(timeout=30_000)
    assert "reports/guides/metric-definitions.md" in overlay.inner_text()
    assert "invalid YAML" in overlay.inner_text()
    assert "When two dashboards disagree" in page.inner_text("body")  # the last good page stays
    source.write_text(good.replace("Every report in this repository", "Every single report"))
    page.wait_for_function("document.body?.innerText.includes('Every single report')", timeout=30_000)
    assert page.locator("#knowrepo-error-overlay").count() == 0


def test_editor_rename_saves_and_bursts_are_debounced(server, page):
    repo, base, _proc = server
    before = status(base)["builds"]
    source = repo / "reports/notes/q3-planning-notes.md"
    text = source.read_text()
    for n in range(20):  # an editor saving 20 times in a burst, each by write-then-rename
        temp = source.with_name(".q3-planning-notes.md.tmp")
        temp.write_text(text.replace("Notes from the planning session", f"Notes, save {n},"))
        temp.rename(source)
        time.sleep(0.01)
    state = wait_builds(base, before + 1)
    time.sleep(1.5)  # let any further build finish
    state = status(base)
    assert 1 <= state["builds"] - before <= 2
    page.goto(base + "notes/q3-planning-notes/")
    assert "Notes, save 19," in page.inner_text("body")


def test_broken_config_keeps_serving_the_last_good_site(server, page):
    repo, base, _proc = server
    page.goto(base)
    config = repo / "knowrepo.toml"
    good = config.read_text()
    config.write_text(good.replace("[site]", "[site]\ntitel = 'typo'"))
    page.locator("#knowrepo-error-overlay").wait_for(timeout=30_000)
    assert "did you mean 'title'" in page.locator("#knowrepo-error-overlay").inner_text()
    with urllib.request.urlopen(base + "product/churn-analysis/") as response:
        assert response.status == 200
    config.write_text(good)
    page.wait_for_function("!document.getElementById('knowrepo-error-overlay')", timeout=30_000)


def test_live_reload_is_never_written_to_disk(server):
    repo, base, _proc = server
    with urllib.request.urlopen(base) as response:
        assert b"/__knowrepo/live.js" in response.read()
    site = (repo / ".knowrepo/preview/site").resolve()
    assert not [p for p in site.rglob("*.html") if b"__knowrepo" in p.read_bytes()]


def test_ctrl_c_stops_cleanly_and_a_busy_port_is_a_clear_error(server):
    repo, base, proc = server
    port = base.rsplit(":", 1)[1].strip("/")
    busy = subprocess.run(
        [*KNOWREPO, "serve", str(repo), "--port", port], capture_output=True, text=True, timeout=60
    )
    assert busy.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use; choose another with --port" in busy.stderr
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "Traceback" not in out
