"""Failures say what to do next (issue 27): a failed run is one terminal line naming the cell
and the run, `knowrepo runs ID` shows its traceback, its page shows the error and the folded
traceback without a path of the machine that ran it, a failed run is never "up to date", a
build fails only for what it failed to do, and `serve` says each error once. Real kernels (the
venv's pandas, without pyarrow: a real five-line ImportError), real builds, real `serve`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import KNOWREPO, run_knowrepo, write_notebook

ERROR_LINE = re.compile(
    r"^error: reports/monthly\.ipynb \[default\]: cell 5: ImportError: Unable to find a usable engine;"
    r" tried using: 'pyarrow', 'fastparquet'\. \N{HORIZONTAL ELLIPSIS}"
    r" \(knowrepo runs (?P<id>\S+) for the traceback\)$"
)
CODE = (
    "import pathlib\n"
    "if kind == 'parquet':\n"
    "    pd.read_parquet('data.parquet')\n"
    "if pathlib.Path('source-down.txt').exists():\n"
    "    raise RuntimeError('the data source is down')\n"
    "print('rows for', month)"
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("pandas")
    if subprocess.run([*KNOWREPO[:1], "-c", "import pyarrow"], capture_output=True).returncode == 0:
        pytest.skip("pyarrow is installed: pandas reads parquet, no ImportError to see")
    root = tmp_path_factory.mktemp("failures") / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Failures"\n')
    write_notebook(
        root / "reports/monthly.ipynb",
        [
            ("markdown", "# Monthly"),
            ("code", 'month: str = "2026-11"\nkind = "ok"', ["parameters"]),
            ("code", "import pandas as pd"),
            ("code", CODE),
        ],
        front="title: Monthly",
    )
    run_knowrepo("build", str(root))
    return root


@pytest.fixture(scope="module")
def failed(repo: Path) -> dict:
    """A run that fails in pandas: its `run` command, and the builds after it."""
    proc = run_knowrepo("run", "monthly", "-p", "kind=parquet", cwd=repo, check=False)
    lines = proc.stderr.splitlines()
    found = [m for line in lines if (m := ERROR_LINE.match(line))]
    build = run_knowrepo("build", str(repo), check=False)
    noop = run_knowrepo("build", str(repo), check=False)
    return {"run": proc, "lines": lines, "id": found[0]["id"] if found else "", "build": build, "noop": noop}


def test_E240_a_failed_run_is_one_line_naming_the_cell_and_the_run(failed: dict, repo: Path):
    """E240 of docs/errors.md: the exception's five lines were printed as they were."""
    proc = failed["run"]
    assert proc.returncode == 1 and failed["id"], proc.stderr
    errors = [line for line in failed["lines"] if line.startswith("error:")]
    assert len(errors) == 1 and ERROR_LINE.match(errors[0]), proc.stderr
    assert "Trying to import the above" not in proc.stderr and "Traceback" not in proc.stderr
    shown = run_knowrepo("runs", failed["id"], cwd=repo)  # a pipe: no colour
    assert f"Run {failed['id']} of reports/monthly.ipynb [default]: failed" in shown.stdout
    assert "Traceback (most recent call last)" in shown.stdout
    assert "pd.read_parquet('data.parquet')" in shown.stdout
    assert "site-packages/pandas/io/parquet.py" in shown.stdout and "\x1b[" not in shown.stdout
    listed = run_knowrepo("runs", "--failed", cwd=repo)
    assert listed.stdout.startswith(f"{failed['id']}\treports/monthly.ipynb [default]\tcell 5: ImportError:")


def test_E241_the_page_of_a_failed_run_shows_its_error_and_no_path_of_the_machine(failed: dict, repo: Path):
    """E241 of docs/errors.md: the page showed the traceback with the server's paths."""
    page = BeautifulSoup((repo / f"_site/monthly/runs/{failed['id']}/index.html").read_text(), "html.parser")
    banner = page.select_one(".run-banner")
    assert banner.select_one(".run-error-line").get_text().startswith("cell 5: ImportError: Unable to find")
    trace = banner.select_one("details.traceback-box:not([open]) pre.traceback").get_text()
    assert "File pandas/io/parquet.py:" in trace and "Cell In[" in trace
    history = BeautifulSoup((repo / "_site/monthly/runs/index.html").read_text(), "html.parser")
    assert history.select_one(".run-error").get_text().startswith("cell 5: ImportError: Unable to find")
    machine = {
        str(repo),
        os.path.realpath(repo),
        sysconfig.get_paths()["purelib"],
        os.path.realpath(sysconfig.get_paths()["purelib"]),
        str(Path.home()) + "/",
    }
    leaks = [
        (path.relative_to(repo / "_site").as_posix(), where)
        for path in (repo / "_site").resolve().rglob("*")
        if path.is_file()
        for where in machine
        if where in path.read_text(errors="replace")
    ]
    texts = [p for p in (repo / "_site").resolve().rglob("*") if p.suffix in {".html", ".json", ".ipynb"}]
    leaks += [(p.name, "~/") for p in texts if "~/" in p.read_text()]  # (IPython's home-relative paths)
    assert leaks == []


def test_E244_a_build_fails_only_for_what_it_failed_to_do(failed: dict, repo: Path):
    """E244 of docs/errors.md: every build exited 1 (and reprinted the error) until --force."""
    line = "1 variant's latest run failed (reports/monthly.ipynb [default]): knowrepo runs --failed shows why"
    for proc in (failed["build"], failed["noop"]):
        assert proc.returncode == 0, proc.stderr
        assert line in proc.stderr.splitlines() and "ImportError" not in proc.stderr
    assert "Nothing changed" in failed["noop"].stderr
    source = repo / "reports/monthly.ipynb"
    original = source.read_text()
    nb = json.loads(original)
    nb["cells"][-1]["source"] = CODE + "\nraise ValueError(f\"no data for month '{month}'\")"
    source.write_text(json.dumps(nb))
    try:
        proc = run_knowrepo("build", str(repo), check=False)  # runs it: the run it made failed
        assert proc.returncode == 1
        assert "[default]: cell 5: ValueError: no data for month '2026-11' (knowrepo runs " in proc.stderr
    finally:
        source.write_text(original)
    assert run_knowrepo("build", str(repo), check=False).returncode == 0  # (the declared run exists)


def test_E242_run_after_a_failed_run_reruns_it(repo: Path):
    """E242 of docs/errors.md: `run` answered "is up to date" (an earlier run of the same code
    and parameters succeeded) while the variant stayed failed."""
    down = repo / "reports/source-down.txt"  # (read by the notebook, not declared: the environment)
    down.write_text("down")
    try:
        failing = run_knowrepo("run", "monthly", cwd=repo, check=False)
        assert failing.returncode == 1 and "RuntimeError: the data source is down" in failing.stderr
    finally:
        down.unlink()
    again = run_knowrepo("run", "monthly", cwd=repo)
    assert "up to date" not in again.stderr and re.search(r"^ok +monthly \[default\]", again.stderr, re.M)
    latest = sorted((repo / "runs/monthly/default").iterdir())[-1]
    assert json.loads((latest / "run.json").read_text())["status"] == "ok"
    assert "is up to date" in run_knowrepo("run", "monthly", cwd=repo).stderr  # (now it is)


def _status(base: str) -> dict:
    with urllib.request.urlopen(base + "__knowrepo/status") as response:
        return json.loads(response.read())


def _wait(base: str, proc: subprocess.Popen, check, what: str) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            state = _status(base)
            if check(state):
                return state
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"serve: no {what}:\n{proc.communicate()[0]}")


def test_E243_serve_says_each_build_error_once(tmp_path: Path):
    """E243 of docs/errors.md: each build error was printed twice (by the build, then again by
    the preview), and again by the search-index build after it."""
    from test_serve import free_port

    (tmp_path / "reports").mkdir()
    (tmp_path / "knowrepo.toml").write_text('[site]\ntitle = "Serve"\n')
    (tmp_path / "reports/a.md").write_text("---\ntitle: A\n---\n\nFirst.\n")
    (tmp_path / "reports/b.md").write_text("---\ntitle: B\n---\n\nSecond.\n")
    port = free_port()
    proc = subprocess.Popen(
        [*KNOWREPO, "serve", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        builds = _wait(base, proc, lambda s: s["builds"] >= 1, "first build")["builds"]
        (tmp_path / "reports/a.md").write_text("---\ntitle: [A\n---\n\nFirst.\n")
        _wait(base, proc, lambda s: s["builds"] > builds and s["errors"], "error")
        time.sleep(3)  # (the search-index build that follows an edit)
        builds = _status(base)["builds"]
        (tmp_path / "reports/b.md").write_text("---\ntitle: B\n---\n\nSecond, edited.\n")
        _wait(base, proc, lambda s: s["builds"] > builds, "second edit")
        time.sleep(3)
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "reports/a.md" in errors[0] and "invalid YAML" in errors[0], output
