"""Runs on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on 127.0.0.1
started here (and a LocalCluster for the build), with real kernels on the workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import KNOWREPO, run_knowrepo, write_notebook

DASK = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
WORKER = [sys.executable, "-m", "distributed.cli.dask_worker"]
# A worker's death reaches knowrepo at once (the default, 3, lets the scheduler resubmit the
# task itself three times first): so the tests see knowrepo's own retry.
CLUSTER_ENV = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
CELLS = [
    ("markdown", "# Regional sales"),
    ("code", 'region = "EU"\npause = 0.0', ["parameters"]),
    ("code", "import os, time\ntime.sleep(pause)\nprint('cwd', os.getcwd())"),
    ("code", "rows = open('sales.csv').read().split()\nprint('SALES', region, rows[rows.index(region) + 1])"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_worker(address: str, name: str, tmp: Path) -> subprocess.Popen:
    """A worker whose tasks run in `tmp` (knowrepo-task-* folders: a test sees when they start)."""
    return subprocess.Popen(
        [*WORKER, address, "--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
        env={**CLUSTER_ENV, "TMPDIR": str(tmp)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from distributed import Client

    tmp = tmp_path_factory.mktemp("workers")
    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    scheduler = subprocess.Popen(
        [*DASK, "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
        env=CLUSTER_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers = {name: start_worker(address, name, tmp) for name in ("w1", "w2")}
    try:
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield {"address": address, "workers": workers, "tmp": tmp}
    finally:
        for proc in [*workers.values(), scheduler]:
            proc.kill()
            proc.wait()


def make_repo(root: Path, variants: str, pause: float = 0.0) -> Path:
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Dask"\n[execute]\ntimeout = 120\n')
    (root / "reports/sales.csv").write_text("EU 10\nUS 20\nAPAC 30\nLATAM 40\n")
    front = f"title: Regional sales\ninputs: [sales.csv]\nparams: {{pause: {pause}}}\nvariants: {variants}"
    write_notebook(root / "reports/sales.ipynb", CELLS, front=front)
    return root


def printed(run_dir: Path) -> list[str]:
    nb = json.loads((run_dir / "notebook.ipynb").read_text())
    return [
        "".join(o.get("text", ""))
        for c in nb["cells"]
        if "injected-parameters" not in c["metadata"].get("tags", [])
        for o in c.get("outputs", [])
    ]


def run_folders(repo: Path) -> dict[str, list[Path]]:
    return {v.name: [r for r in v.iterdir()] for v in sorted((repo / "runs/sales").iterdir())}


MATRIX = "{matrix: {region: [EU, US, APAC, LATAM]}}"


def test_variant_matrix_runs_on_the_cluster_as_it_runs_here(tmp_path: Path, cluster: dict):
    repo = make_repo(tmp_path / "kb", MATRIX)
    on_dask = ["run", "sales", "--executor", "dask", "--scheduler", cluster["address"], "--json"]
    runs = json.loads(run_knowrepo("-C", str(repo), *on_dask).stdout)
    assert sorted(r["variant"] for r in runs) == ["apac", "eu", "latam", "us"]
    assert all(r["status"] == "ok" for r in runs)
    folders = run_folders(repo)
    assert all(len(found) == 1 for found in folders.values())
    dask_outputs = {v: printed(found[0]) for v, found in folders.items()}
    assert dask_outputs["us"][-1] == "SALES US 20\n"  # its declared input went with the task
    cwd = dask_outputs["eu"][0].split()[1]
    assert not cwd.startswith(str(repo))  # ran in the worker's own folder: nothing shared
    again = json.loads(run_knowrepo("-C", str(repo), *on_dask).stdout)
    assert again == []  # unchanged keys: nothing is submitted
    local = json.loads(run_knowrepo("-C", str(repo), "run", "sales", "--force", "--json").stdout)
    assert len(local) == 4
    for variant, found in run_folders(repo).items():
        newest = max(found, key=lambda p: p.name)
        assert printed(newest)[1:] == dask_outputs[variant][1:]  # same outputs (the cwd aside)
    site = run_knowrepo("build", str(repo), "--execute", "never")
    assert site.returncode == 0
    assert "SALES LATAM 40" in (repo / "_site/sales/v/latam/index.html").read_text()


def test_a_worker_killed_mid_run_costs_one_retry_and_no_run_twice(tmp_path: Path, cluster: dict):
    """E97 of docs/errors.md."""
    repo = make_repo(tmp_path / "kb", MATRIX, pause=4.0)
    proc = subprocess.Popen(
        [*KNOWREPO, "-C", str(repo), "run", "sales", "--executor", "dask", "--scheduler",
         cluster["address"], "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CLUSTER_ENV,
    )  # fmt: skip
    deadline = time.monotonic() + 120  # (a fixed sleep was too short on a loaded machine)
    while len(list(cluster["tmp"].glob("knowrepo-task-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # both workers are inside a run now (its kernel starting, or its 4 s sleep)
    victim = cluster["workers"].pop("w1")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    out, err = proc.communicate(timeout=180)
    cluster["workers"]["w1"] = start_worker(cluster["address"], "w1", cluster["tmp"])  # for the tests after
    assert proc.returncode == 0, err
    runs = json.loads(out)
    assert sorted(r["variant"] for r in runs) == ["apac", "eu", "latam", "us"]
    assert all(r["status"] == "ok" for r in runs)
    assert all(len(found) == 1 for found in run_folders(repo).values())  # each exactly once
    retried = [r for r in runs if r["origin"].get("failed_attempts")]
    assert retried and all("KilledWorker" in r["origin"]["failed_attempts"][0] for r in retried)
    assert not list((repo / "runs").rglob(".tmp-*"))


def test_build_runs_on_a_local_cluster_from_the_config(tmp_path: Path):
    repo = make_repo(tmp_path / "kb", "{eu: {region: EU}, us: {region: US}}")
    config = repo / "knowrepo.toml"
    config.write_text(config.read_text() + 'executor = "dask"\n')
    built = run_knowrepo("build", str(repo), "-j", "2", "--json")
    assert json.loads(built.stdout)["executed"] == 2
    assert "SALES US 20" in (repo / "_site/sales/v/us/index.html").read_text()


def test_the_dask_executor_without_dask_is_a_one_line_error(tmp_path: Path):
    """E96 of docs/errors.md."""
    repo = make_repo(tmp_path / "kb", "{eu: {region: EU}}")
    no_dask = (
        "import sys; sys.modules['distributed'] = None; from knowrepo.commands import command; command()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", no_dask, "-C", str(repo), "run", "sales", "--executor", "dask"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: the dask executor needs Dask: pip install 'knowrepo[dask]'"
    ]
    assert not (repo / "runs").exists()


def test_ctrl_c_cancels_the_queue_and_keeps_finished_runs(tmp_path: Path, cluster: dict):
    """E98 of docs/errors.md."""
    repo = make_repo(tmp_path / "kb", "{matrix: {region: [EU, US, APAC, LATAM, EU2, US2]}}", pause=3.0)
    (repo / "reports/sales.csv").write_text("EU 1\nUS 2\nAPAC 3\nLATAM 4\nEU2 5\nUS2 6\n")
    proc = subprocess.Popen(
        [*KNOWREPO, "-C", str(repo), "run", "sales", "--executor", "dask", "--scheduler", cluster["address"]],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((repo / "runs").glob("sales/*/2*")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Traceback" not in err
    kept = [run for runs in run_folders(repo).values() for run in runs]
    assert 1 <= len(kept) < 6  # what finished stays; the queue never ran
    assert all((run / "run.json").is_file() and (run / "notebook.ipynb").is_file() for run in kept)
    time.sleep(4)  # the tasks that were running when it stopped: their results are never committed
    assert sorted(p.name for runs in run_folders(repo).values() for p in runs) == sorted(p.name for p in kept)
