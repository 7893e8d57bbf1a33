"""Execution speed: 16 variants of a small pandas notebook, `knowrepo run` against a serial
loop of the `papermill` CLI over the same variants (both execute every variant for real, with
a fresh kernel per run). Also checks that knowrepo's executed outputs equal the baseline's.

The Dask column (when `distributed` is installed): the same variants on a 2-worker cluster
(`dask scheduler` and two `dask worker --nthreads 1` processes on 127.0.0.1, started before the
clock starts, as a team's cluster is) against local processes with `-j 2`, in the same run.

Usage: python benchmarks/execute.py [--variants 16] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell
from run import emit

REGIONS = ["EU", "US", "APAC", "LATAM"]
SEGMENTS = ["smb", "mid", "enterprise", "public"]


def make_repo(repo: Path, n: int) -> list[dict]:
    variants = [{"region": r, "segment": s} for r in REGIONS for s in SEGMENTS][:n]
    (repo / "reports").mkdir(parents=True)
    (repo / "knowrepo.toml").write_text('[site]\ntitle = "Bench"\n')
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    names = ", ".join(
        f"{v['region'].lower()}-{v['segment']}: {{region: {v['region']}, segment: {v['segment']}}}"
        for v in variants
    )
    nb.cells = [
        new_raw_cell(f"---\ntitle: Sales by segment\nvariants: {{{names}}}\n---"),
        new_markdown_cell("# Sales by segment"),
        new_code_cell('region = "EU"\nsegment = "smb"\nseed = 1', metadata={"tags": ["parameters"]}),
        new_code_cell("import numpy as np\nimport pandas as pd"),
        new_code_cell(
            "rng = np.random.default_rng([seed, sum(map(ord, region + segment))])\n"
            "df = pd.DataFrame({'day': range(90), 'orders': rng.poisson(40, 90),\n"
            "                   'value': rng.gamma(3, 30, 90)})\n"
            "df['revenue'] = df.orders * df.value"
        ),
        new_code_cell("summary = df.describe().round(2)\nprint(summary.to_string())"),
        new_code_cell("weekly = df.groupby(df.day // 7).revenue.sum().round(0)\nprint(weekly.to_string())"),
    ]
    nbformat.write(nb, repo / "reports" / "sales.ipynb")
    return variants


def stream_text(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            out.append("".join(text) if isinstance(text, list) else text)
    return out


def baseline(repo: Path, variants: list[dict], out: Path) -> float:
    out.mkdir()
    papermill = Path(sys.executable).parent / "papermill"
    start = time.perf_counter()
    for v in variants:
        name = f"{v['region'].lower()}-{v['segment']}"
        subprocess.run(
            [
                str(papermill),
                "--log-level",
                "ERROR",
                "--cwd",
                str(repo / "reports"),
                "-p",
                "region",
                v["region"],
                "-p",
                "segment",
                v["segment"],
                str(repo / "reports/sales.ipynb"),
                str(out / f"{name}.ipynb"),
            ],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - start


def knowrepo_run(repo: Path, *options: str) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "knowrepo", "-C", str(repo), "run", "sales", "--force", "--json", *options],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"knowrepo run failed:\n{proc.stderr}")
    return seconds, json.loads(proc.stdout)


@contextlib.contextmanager
def dask_cluster(workers: int = 2) -> Iterator[str]:
    """A scheduler and `workers` one-thread worker processes on 127.0.0.1; their address."""
    from distributed import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    cli = [sys.executable, "-m"]
    procs = [subprocess.Popen([*cli, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                               str(port), "--no-dashboard"], **quiet)]  # fmt: skip
    procs += [
        subprocess.Popen(
            [*cli, "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard"], **quiet
        )
        for _ in range(workers)
    ]
    try:
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def dask_rows(repo: Path, variants: int, outputs: Callable[[list[dict]], int]) -> list[dict]:
    """Dask (2 workers) against local processes (-j 2), same variants, same run."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return []
    local, _ = knowrepo_run(repo, "-j", "2")
    with dask_cluster(2) as address:
        on_dask, records = knowrepo_run(repo, "-j", "2", "--executor", "dask", "--scheduler", address)
    assert len(records) == variants and all(r["status"] == "ok" for r in records), records
    row = {"benchmark": "execute", "baseline": None, "ratio": None, "target": ""}
    return [
        {**row, "metric": f"{variants} variants on Dask, 2 workers (s)", "value": on_dask, "baseline": local,
         "ratio": local / on_dask, "target": "baseline: local processes, -j 2"},
        {**row, "metric": "per task: overhead Dask adds (s)", "value": (on_dask - local) * 2 / variants},
        {**row, "metric": "Dask runs whose outputs differ from papermill CLI", "value": outputs(records),
         "target": "0"},
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    args, _ = parser.parse_known_args()
    work = Path(tempfile.mkdtemp(prefix="kr-bench-exec-"))
    try:
        repo = work / "repo"
        variants = make_repo(repo, args.variants)
        base = baseline(repo, variants, work / "baseline")
        ours, records = knowrepo_run(repo)
        assert len(records) == len(variants) and all(r["status"] == "ok" for r in records), records

        def differing(records: list[dict]) -> int:
            mismatches = 0
            for record in records:
                run_nb = repo / "runs/sales" / record["variant"] / record["id"] / "notebook.ipynb"
                if stream_text(run_nb) != stream_text(work / "baseline" / f"{record['variant']}.ipynb"):
                    mismatches += 1
            return mismatches

        mismatches = differing(records)
        cell_time = [sum(r["cells"]) for r in records]
        overhead = [r["duration"] - c for r, c in zip(records, cell_time, strict=True)]
        rows = [
            {
                "benchmark": "execute",
                "metric": f"{len(variants)} variants, knowrepo run (s)",
                "value": ours,
                "baseline": base,
                "ratio": base / ours,
                "target": ">= 2.5x faster (ratio = baseline/knowrepo)",
            },
            {
                "benchmark": "execute",
                "metric": "per run: kernel start + shutdown, above cell time (s)",
                "value": sum(overhead) / len(overhead),
                "baseline": None,
                "ratio": None,
                "target": "",
            },
            {
                "benchmark": "execute",
                "metric": "per run: cell time (s)",
                "value": sum(cell_time) / len(cell_time),
                "baseline": None,
                "ratio": None,
                "target": "",
            },
            {
                "benchmark": "execute",
                "metric": "runs whose outputs differ from papermill CLI",
                "value": mismatches,
                "baseline": None,
                "ratio": None,
                "target": "0",
            },
        ]
        emit(rows + dask_rows(repo, len(variants), differing), args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
