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


# A hostile worker: a `--preload` module that patches the task function every task runs with. It
# runs the real thing for `good`, `secret` and the first task, and tampers with what it returns,
# as the variant's name (its mode) says.
HOSTILE = '''
import dataclasses
import os

import knowrepo.pipeline.execute.remote as remote
from knowrepo.pipeline.execute.runstore import new_run_id

OUT = os.environ["HOSTILE_OUT"]  # an absolute folder outside the repository
TOKEN = b"open-sesame-1234"
_last = []


class OnlyHere(Exception):
    """Defined only on this worker: the client cannot unpickle it."""


class NotAnException(Exception):
    """Loads on the worker, but as something that is not an exception."""

    def __reduce__(self):
        import types

        return (types.SimpleNamespace, ())


def honest(task, original):
    """A real result for this task (the last real one, relabelled, for the tampering modes)."""
    if task.request.variant in ("good", "secret") or not _last:
        _last[:] = [original(task)]
        return _last[0]
    request, record = task.request, dict(_last[0].record)
    run_id = getattr(request, "run_id", "") or new_run_id()
    record.update(id=run_id, slug=request.slug, variant=request.variant)
    return dataclasses.replace(_last[0], record=record)


def tamper(mode, result):
    record, files = dict(result.record), dict(result.files)
    if mode == "absolute":
        files[os.path.join(OUT, "absolute.txt")] = b"x"
    elif mode == "dotdot":
        files["../../../../dotdot.txt"] = b"x"
    elif mode == "nested":
        files["notebook.ipynb/../../../../../nested.txt"] = b"x"
    elif mode == "runjson":
        files["run.json"] = b"{}"
    elif mode == "notjson":
        files["notebook.ipynb"] = b'{"cells": ['
    elif mode == "notnotebook":
        files["notebook.ipynb"] = b'[{"cells": 1}]'
    elif mode == "slug":
        record["slug"] = "../../.."
    elif mode == "runid":
        record["id"] = "../../runid"
    elif mode == "nonotebook":
        del files["notebook.ipynb"]
    elif mode == "lines":
        record["status"] = "failed"
        record["error"] = {"ename": "X", "evalue": "one\\nok     h [good]\\x1b[32m", "cell": 1}
    elif mode == "types":
        record["metrics"] = "lots"
    elif mode == "started":
        record["started"] = "<b>yesterday</b>"
    elif mode == "cells":
        record["cells"] = "fast"
    elif mode == "keys":
        record.update(params={"mode": "pwned"}, cache_key="0" * 20, origin={"by": "worker"}, kernel="evil")
    elif mode == "secret":
        record["metrics"] = {"leak": TOKEN.decode()}
        record["error"] = {"ename": "X", "evalue": TOKEN.decode(), "traceback": "", "cell": None}
        files = {name: data.replace(b"***", TOKEN) for name, data in files.items()}
        files["kernel.log"] += TOKEN
    elif mode == "notresult":
        return "nothing"
    elif mode == "badresult":
        return dataclasses.replace(result, worker=OnlyHere("x"))
    elif mode == "unpicklable":
        raise OnlyHere("only this worker knows this class")
    elif mode == "notexc":
        raise NotAnException("x")
    return dataclasses.replace(result, record=record, files=files)


def dask_setup(worker):
    original = remote.execute_remote
    remote.execute_remote = lambda task: tamper(task.request.variant, honest(task, original))
'''
BAD_NAMES = ("absolute", "dotdot", "nested", "runjson")  # E101
BAD_IDENTITY = ("slug", "runid")  # E102
BAD_FIELDS = ("types", "started", "cells", "notresult", "nonotebook")  # E103
UNREADABLE = ("unpicklable", "notexc", "badresult")  # E105
UNKEEPABLE = ("notjson", "notnotebook")  # E109
OK_RUNS = ("good", "keys", "secret")
MODES = (*OK_RUNS, "lines", *BAD_NAMES, *BAD_IDENTITY, *BAD_FIELDS, *UNREADABLE, *UNKEEPABLE)


def start_scheduler(port: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*DASK, "--host", "127.0.0.1", "--port", port, "--no-dashboard", *extra],
        env=CLUSTER_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One `knowrepo run` of a variant per mode on a cluster whose only worker is hostile."""
    from distributed import Client

    base = tmp_path_factory.mktemp("hostile")
    (base / "hostile.py").write_text(HOSTILE)
    (base / "out").mkdir()
    repo = base / "kb"
    (repo / "reports").mkdir(parents=True)
    (repo / "knowrepo.toml").write_text('[site]\ntitle = "Hostile"\n[execute]\ntimeout = 120\n')
    variants = ", ".join(f"{mode}: {{mode: {mode}}}" for mode in MODES)
    front = (
        f"title: Hostile\nparams: {{mode: good, token: open-sesame-1234}}\nprivate_params: [token]\n"
        f"variants: {{{variants}}}"
    )
    write_notebook(repo / "reports/h.ipynb", [("code", 'mode = ""\ntoken = ""', ["parameters"]),
                                               ("code", "print(mode, len(token))")], front=front)  # fmt: skip
    address = f"tcp://127.0.0.1:{free_port()}"
    scheduler = start_scheduler(address.rsplit(":", 1)[1])
    env = {**CLUSTER_ENV, "HOSTILE_OUT": str(base / "out")}
    worker = subprocess.Popen(
        [*WORKER, address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
         "--preload", str(base / "hostile.py")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        before = files_under(base.parent)  # (a slug '../../..' would reach up to there)
        proc = subprocess.run(
            [*KNOWREPO, "-C", str(repo), "run", "h", "--executor", "dask", "--scheduler", address, "--json"],
            capture_output=True, text=True, timeout=150, env=CLUSTER_ENV,
        )  # fmt: skip
        yield {"proc": proc, "repo": repo, "base": base, "new": files_under(base.parent) - before}
    finally:
        for proc in (worker, scheduler):
            proc.kill()
            proc.wait()


def failure_lines(proc: subprocess.CompletedProcess, mode: str) -> list[str]:
    return [line for line in proc.stderr.splitlines() if f" [{mode}]: " in line]


def test_hostile_worker_ends_in_one_line_per_run_and_the_good_runs_are_kept(hostile_run: dict):
    proc = hostile_run["proc"]
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "unexpectedly" not in proc.stderr, proc.stderr
    runs = {r["variant"]: r for r in json.loads(proc.stdout)}
    assert set(runs) == set(MODES)
    assert tuple(m for m in MODES if runs[m]["status"] == "ok") == OK_RUNS, proc.stderr
    for mode in MODES[len(OK_RUNS) :]:
        assert len(failure_lines(proc, mode)) == 1, (mode, proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == len(MODES) - len(OK_RUNS)


def test_E101_file_names_a_worker_returns_never_leave_the_run_folder(hostile_run: dict):
    """E101 of docs/errors.md."""
    repo, proc = hostile_run["repo"], hostile_run["proc"]
    runs = repo / "runs/h"
    kept = {
        p.relative_to(runs).parts[0] for p in hostile_run["new"] if p.is_relative_to(runs) and p.is_file()
    }
    assert kept == {*OK_RUNS, "lines"}  # (a failed run is kept as any is)
    outside = {
        p
        for p in hostile_run["new"]
        if not p.is_relative_to(runs) and not p.is_relative_to(repo / ".knowrepo")
    }
    assert outside <= {repo / "runs"}, outside
    assert not list((hostile_run["base"] / "out").iterdir())
    for mode in BAD_NAMES:
        assert "returned a file named" in failure_lines(proc, mode)[0], proc.stderr
    for mode in (*OK_RUNS, "lines"):
        (run,) = (runs / mode).iterdir()
        assert sorted(p.name for p in run.iterdir()) == ["kernel.log", "notebook.ipynb", "run.json"]


def test_E102_a_run_is_who_the_request_says_never_who_the_worker_says(hostile_run: dict):
    """E102 of docs/errors.md."""
    repo, proc = hostile_run["repo"], hostile_run["proc"]
    for mode in BAD_IDENTITY:
        assert "returned a run of" in failure_lines(proc, mode)[0], proc.stderr
    (run,) = (repo / "runs/h/keys").iterdir()
    record = json.loads((run / "run.json").read_text())
    assert record["params"] == {"mode": "keys", "token": "***"}
    assert (
        record["cache_key"] != "0" * 20
        and record["origin"] == {"by": "run", "command": record["origin"]["command"]}
        and record["origin"]["command"].startswith("knowrepo -C . run h --executor dask")  # (E280)
        and record["kernel"] == "python3"
    )


def test_E103_a_record_whose_shown_fields_have_the_wrong_type_is_a_failed_run(hostile_run: dict):
    """E103 of docs/errors.md."""
    proc = hostile_run["proc"]
    assert "'metrics' must be an object" in failure_lines(proc, "types")[0]
    assert "'started'" in failure_lines(proc, "started")[0]
    assert "'cells'" in failure_lines(proc, "cells")[0]
    assert "not a knowrepo run result" in failure_lines(proc, "notresult")[0]
    assert "a successful run without its notebook.ipynb" in failure_lines(proc, "nonotebook")[0]
    (line,) = failure_lines(proc, "lines")  # a worker's error text draws no line, nor colour, of its own
    assert ": cell 1: X: one \N{HORIZONTAL ELLIPSIS} (knowrepo runs " in line and "x1b" not in line, line


def test_E104_private_values_a_worker_leaves_unmasked_are_masked_here(hostile_run: dict):
    """E104 of docs/errors.md."""
    repo = hostile_run["repo"]
    (run,) = (repo / "runs/h/secret").iterdir()
    for path in (repo / "runs").rglob("*"):
        assert not path.is_file() or b"open-sesame-1234" not in path.read_bytes(), path
    record = json.loads((run / "run.json").read_text())
    assert record["metrics"] == {"leak": "***"} and record["error"]["evalue"] == "***"
    cells = json.loads((run / "notebook.ipynb").read_text())["cells"]
    (injected,) = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
    assert 'token = "***"' in "".join(injected["source"])


def test_E105_an_error_or_result_the_client_cannot_read_is_one_line_not_a_hang(hostile_run: dict):
    """E105 of docs/errors.md."""
    proc = hostile_run["proc"]
    for mode in UNREADABLE:
        (line,) = failure_lines(proc, mode)
        assert "cannot be read here" in line and len(line) < 400 and "\\x" not in line, line


def test_E109_a_returned_notebook_that_cannot_be_kept_is_a_failed_run_and_leaves_nothing(hostile_run: dict):
    """E109 of docs/errors.md."""
    proc, repo = hostile_run["proc"], hostile_run["repo"]
    for mode in UNKEEPABLE:
        (line,) = failure_lines(proc, mode)
        assert "returned a run that could not be kept" in line, line
        assert not (repo / "runs/h" / mode).exists() or not list((repo / "runs/h" / mode).iterdir())


def test_E106_a_malformed_scheduler_address_is_one_line_before_anything_runs(tmp_path: Path):
    """E106 of docs/errors.md."""
    repo = make_repo(tmp_path / "kb", "{eu: {region: EU}}")
    for address in ("nonsense", "tcp://:x", "foo://bar"):
        proc = run_knowrepo(
            "-C", str(repo), "run", "sales", "--executor", "dask", "--scheduler", address, check=False
        )
        assert proc.returncode == 1
        (line,) = proc.stderr.strip().splitlines()
        assert line.startswith(f"error: --scheduler '{address}': "), line
    proc = subprocess.run(
        [*KNOWREPO, "-C", str(repo), "run", "sales", "--executor", "dask"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "DASK_SCHEDULER_ADDRESS": "tcp://host"},
    )  # fmt: skip
    assert proc.stderr.strip().splitlines() == [
        "error: Dask's config scheduler-address 'tcp://host': missing port number in address 'host'"
    ]
    config = repo / "knowrepo.toml"
    config.write_text(config.read_text() + 'executor = "dask"\nscheduler = "foo://bar"\n')
    built = run_knowrepo("build", str(repo), check=False)
    assert built.returncode == 1
    assert (
        "error: knowrepo.toml: [execute] scheduler 'foo://bar': unknown address scheme 'foo'" in built.stderr
    )
    assert "Traceback" not in built.stderr and len(built.stderr.strip().splitlines()) == 1, built.stderr
    assert not (repo / "runs").exists()


def test_E108_a_returned_file_over_the_size_cap_is_refused():
    """E108 of docs/errors.md (the cap is 512 MB: checked here with a smaller one)."""
    from knowrepo.pipeline.execute.remote import RemoteResult, result_problem
    from knowrepo.pipeline.execute.run import RunRequest

    request = RunRequest(
        root="/nowhere", slug="h", variant="v", source="reports/h.ipynb", params={}, private=(),
        kernel="python3", timeout=10, allow_errors=False, cache_key="k", source_hash="s",
        run_id="20260101T000000.000Z-abcdef",
    )  # fmt: skip
    record = {"id": request.run_id, "slug": "h", "variant": "v", "source": "reports/h.ipynb", "status": "ok"}
    fits = RemoteResult(record, {"notebook.ipynb": b"{}" * 5}, "w:1")
    assert result_problem(request, fits, max_bytes=10) is None
    over = RemoteResult(record, {"notebook.ipynb": b"{}" * 6}, "w:1")
    assert result_problem(request, over, max_bytes=10) == "a notebook.ipynb of 0 MB (at most 0 MB)"


def make_certificates(folder: Path) -> None:
    """A cluster's CA and the certificate its scheduler, worker and client share; and a rogue
    CA's certificate, which the cluster must refuse (openssl, as an operator would)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    for ca, node in (("ca", "node"), ("rogue-ca", "rogue")):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                "-days", "2", "-subj", f"/CN={ca}")  # fmt: skip
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{node}.key", "-out", f"{node}.csr",
                "-subj", f"/CN={node}")  # fmt: skip
        (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", f"{node}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-out", f"{node}.pem", "-days", "2", "-extfile", "san.ext")  # fmt: skip


def tls_env(folder: Path, node: str = "node") -> dict[str, str]:
    """Dask's own TLS settings, as environment variables."""
    return {
        **os.environ,
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(folder / "ca.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(folder / f"{node}.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(folder / f"{node}.key"),
    }


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A `dask scheduler` and a `dask worker` that speak TLS only, and ask for a certificate of
    their CA from whoever connects (Dask's mutual TLS)."""
    from distributed import Client
    from distributed.security import Security

    certs = tmp_path_factory.mktemp("certs")
    make_certificates(certs)
    tls = ["--tls-ca-file", str(certs / "ca.pem"), "--tls-cert", str(certs / "node.pem"),
           "--tls-key", str(certs / "node.key")]  # fmt: skip
    port = str(free_port())
    address = f"tls://127.0.0.1:{port}"
    scheduler = start_scheduler(port, "--protocol", "tls", *tls)
    worker = subprocess.Popen(
        [*WORKER, address, "--nthreads", "1", "--no-nanny", "--no-dashboard", *tls],
        env=CLUSTER_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    security = Security(
        tls_ca_file=str(certs / "ca.pem"), tls_client_cert=str(certs / "node.pem"),
        tls_client_key=str(certs / "node.key"), require_encryption=True,
    )  # fmt: skip
    try:
        with Client(address, security=security, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield {"address": address, "certs": certs}
    finally:
        for proc in (worker, scheduler):
            proc.kill()
            proc.wait()


def test_E107_runs_go_over_tls_with_dasks_own_settings_and_a_wrong_one_is_one_line(
    tmp_path: Path, tls_cluster: dict
):
    """E107 of docs/errors.md."""
    repo = make_repo(tmp_path / "kb", "{eu: {region: EU}}")
    address, certs = tls_cluster["address"], tls_cluster["certs"]
    on_dask = [
        *KNOWREPO,
        "-C",
        str(repo),
        "run",
        "sales",
        "--executor",
        "dask",
        "--scheduler",
        address,
        "--json",
    ]

    def run(env: dict[str, str], command: list[str] = on_dask) -> subprocess.CompletedProcess:
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)

    ran = run(tls_env(certs))
    assert ran.returncode == 0, ran.stderr
    (record,) = json.loads(ran.stdout)
    assert record["status"] == "ok"
    (folder,) = (repo / "runs/sales/eu").iterdir()
    assert printed(folder)[-1] == "SALES EU 10\n"
    gone = {**tls_env(certs), "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(certs / "gone.pem")}
    required = {**os.environ, "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True"}
    refused = [  # (environment, address, what the one line says)
        (os.environ, address, f"--scheduler '{address}': a tls:// scheduler needs Dask's TLS settings"),
        (tls_env(certs, "rogue"), address, f"cannot reach the Dask scheduler at {address}: "),
        (gone, address, "gone.pem: Dask's TLS setting distributed.comm.tls.ca-file names no readable file"),
        (required, address.replace("tls", "tcp"), "Dask's config requires encryption"),
    ]
    for env, to, message in refused:
        proc = run(env, [*on_dask[:-2], to, "--json", "--force"])
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1 and message in lines[0], (message, proc.stderr)
    assert len(list((repo / "runs/sales/eu").iterdir())) == 1  # nothing else ran
