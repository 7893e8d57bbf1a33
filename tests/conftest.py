"""Shared fixtures: one built example site, one HTTP server, one browser for the session."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

# Builds under test start no warm render server (it would outlive them by design); the one
# test of the server switches it on for its own builds.
os.environ["KNOWREPO_RENDER_SERVER"] = "0"

PROJECT = Path(__file__).resolve().parent.parent
KNOWREPO = [sys.executable, "-m", "knowrepo"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def run_knowrepo(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real `knowrepo` command in a subprocess."""
    proc = subprocess.run([*KNOWREPO, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"knowrepo {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def copy_example(target: Path, base_url: str = "/kr/", runs_from: Path | None = None) -> Path:
    """A copy of this project's example repository (reports/ + knowrepo.toml), with the run
    store of `runs_from` so that its builds need not execute the notebooks again."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PROJECT / "reports", target / "reports")
    if runs_from is not None:
        shutil.copytree(runs_from / "runs", target / "runs")
    config = (PROJECT / "knowrepo.toml").read_text()
    config = re.sub(r'(?m)^base_url = "[^"]*"', f'base_url = "{base_url}"', config)
    (target / "knowrepo.toml").write_text(config)
    return target


def write_notebook(
    path: Path,
    cells: list[tuple[str, str] | tuple[str, str, list[str]]],
    front: str | None = None,
    outputs: dict[int, list[dict]] | None = None,
) -> Path:
    """A real .ipynb via nbformat: cells as (kind, source[, tags]); outputs by cell index."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if front is not None:
        nb.cells.append(new_raw_cell(f"---\n{front.strip()}\n---"))
    for index, spec in enumerate(cells):
        kind, source, *rest = spec
        cell = new_code_cell(source) if kind == "code" else new_markdown_cell(source)
        if rest:
            cell.metadata["tags"] = rest[0]
        if kind == "code" and outputs and index in outputs:
            cell.outputs = [nbformat.from_dict(o) for o in outputs[index]]
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="session")
def example_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example repository, built once under base_url /kr/."""
    repo = copy_example(tmp_path_factory.mktemp("example") / "repo")
    run_knowrepo("build", str(repo))
    return repo


@pytest.fixture(scope="session")
def example_site(example_repo: Path) -> Path:
    return (example_repo / "_site").resolve()


class _SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site under /kr/ only, as an intranet server mounted at a sub-path would."""

    prefix = "/kr/"

    def translate_path(self, path: str) -> str:
        if not path.startswith(self.prefix):
            return "/nonexistent"
        return super().translate_path("/" + path[len(self.prefix) :])

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(site: Path) -> Iterator[str]:
    """Serve a built site over HTTP at /kr/ on 127.0.0.1 (the output symlink is followed on
    every request, as an intranet server would); yields its base URL."""
    handler = functools.partial(_SubPathHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/kr/"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def site_server(example_repo: Path):
    """Base URL of the example site served over HTTP at /kr/ on 127.0.0.1."""
    with serving(example_repo / "_site") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """One Debian chromium, driven by Playwright, for the whole session."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: run `make test`, which installs it with apt")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    # bypass_csp: Playwright's wait_for_function evaluates strings, which the site's strict
    # Content-Security-Policy forbids; test_trust checks the real pages under their policy.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()
