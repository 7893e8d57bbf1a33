"""Runs on real kernels: parameters, variants, the cache, failures, timeouts, kills, history."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from bs4 import BeautifulSoup

from conftest import KNOWREPO, run_knowrepo, write_notebook
from knowrepo.pipeline.execute.runstore import new_run_id

PARAMS = 'count = 1\nlabel = "x"\nratio = 2.5\ntoken = "secret-default"'
SHOW = 'print(f"count={count} label={label} ratio={ratio}")'


def make_repo(root: Path, front: str, cells: list | None = None, name: str = "calc") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Runs"\n[execute]\ntimeout = 60\n')
    cells = cells or [
        ("markdown", "# Calc\n\nFirst version of the prose."),
        ("code", PARAMS, ["parameters"]),
        ("code", SHOW),
    ]
    write_notebook(root / "reports" / f"{name}.ipynb", cells, front=front)
    return root


def records(proc: subprocess.CompletedProcess) -> list[dict]:
    return json.loads(proc.stdout)


def stdout_of(run_dir: Path) -> str:
    nb = json.loads((run_dir / "notebook.ipynb").read_text())
    texts = [o.get("text", "") for c in nb["cells"] for o in c.get("outputs", [])]
    return "".join("".join(t) if isinstance(t, list) else t for t in texts)


def test_parameter_precedence_and_variant_matrix(tmp_path: Path):
    repo = make_repo(
        tmp_path / "kb",
        "title: Calc\nparams: {label: front}\nprivate_params: [token]\n"
        "variants: {matrix: {count: [2, 3], ratio: [0.5, 1.5]}}",
    )
    proc = run_knowrepo("-C", str(repo), "run", "calc", "-p", "label=cli", "-p", "token=s3cret", "--json")
    runs = {r["variant"]: r for r in records(proc)}
    assert sorted(runs) == ["2-0-5", "2-1-5", "3-0-5", "3-1-5"]
    eu = runs["3-1-5"]
    assert eu["params"] == {"count": 3, "label": "cli", "ratio": 1.5, "token": "***"}
    run_dir = repo / "runs/calc/3-1-5" / eu["id"]
    assert "count=3 label=cli ratio=1.5" in stdout_of(run_dir)
    stored = (run_dir / "notebook.ipynb").read_text() + (run_dir / "run.json").read_text()
    assert "s3cret" not in stored  # private values never reach the run store
    same = ["-p", "label=cli", "-p", "token=s3cret", "--json"]
    one = records(run_knowrepo("-C", str(repo), "run", "reports/calc.ipynb", "--variant", "2-0-5", *same))
    assert one == []  # an identical successful run exists: nothing to do
    forced = records(run_knowrepo("-C", str(repo), "run", "calc", "--variant", "2-0-5", "--force", "--json"))
    assert [r["variant"] for r in forced] == ["2-0-5"]
    assert forced[0]["params"]["label"] == "front"


def test_bad_parameters_fail_before_any_kernel_starts(tmp_path: Path):
    repo = make_repo(tmp_path / "kb", "title: Calc")
    proc = run_knowrepo("-C", str(repo), "run", "calc", "-p", "count=many", check=False)
    assert proc.returncode == 1
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("error: reports/calc.ipynb: parameter 'count' must be int, not 'many'")
    assert 'valid parameters: count: int = 1; label: str = "x"; ratio: float = 2.5' in line
    unknown = run_knowrepo("-C", str(repo), "run", "calc", "-p", "cuont=2", check=False)
    assert "unknown parameter 'cuont'" in unknown.stderr
    assert not (repo / "runs").exists()


def test_a_broken_file_never_stops_the_other_reports_running(tmp_path: Path):
    """E95 of docs/errors.md."""
    repo = make_repo(tmp_path / "kb", "title: Calc")
    (repo / "reports/broken.ipynb").write_text("{not json")
    (repo / "reports/empty.kp").mkdir()
    alone = run_knowrepo("-C", str(repo), "run", "calc", "--json")
    assert [r["status"] for r in records(alone)] == ["ok"]
    everything = run_knowrepo("-C", str(repo), "run", "--all", "--force", "--json", check=False)
    assert everything.returncode == 1  # the broken files are said, and the rest ran
    assert [r["slug"] for r in records(everything)] == ["calc"]
    assert "reports/broken.ipynb: " in everything.stderr and "(not run)" in everything.stderr
    assert "reports/empty.kp: " in everything.stderr
    addressed = run_knowrepo("-C", str(repo), "run", "broken", check=False)
    assert addressed.returncode == 1
    assert addressed.stderr.strip().splitlines()[-1].startswith("error: reports/broken.ipynb: ")
    assert len(records(run_knowrepo("-C", str(repo), "runs", "--json"))) == 2


def test_cache_markdown_code_and_input_edits(tmp_path: Path):
    repo = make_repo(
        tmp_path / "kb",
        "title: Calc\ninputs: [data/*.csv]",
        cells=[
            ("markdown", "# Calc\n\nFirst version of the prose."),
            ("code", PARAMS, ["parameters"]),
            ("code", 'print("rows:", len(open("data/values.csv").read().split()))'),
        ],
    )
    (repo / "reports/data").mkdir()
    (repo / "reports/data/values.csv").write_text("1\n2\n")

    def build() -> dict:
        return json.loads(run_knowrepo("build", str(repo), "--json").stdout)

    assert build()["executed"] == 1
    page = repo / "_site/calc/index.html"
    assert "rows: 2" in page.read_text()
    source = repo / "reports/calc.ipynb"
    source.write_text(source.read_text().replace("First version", "Second version"))
    result = build()
    assert result["executed"] == 0  # Markdown-only edit: same outputs, new prose
    assert "Second version of the prose" in page.read_text() and "rows: 2" in page.read_text()
    (repo / "reports/data/values.csv").write_text("1\n2\n3\n")
    assert build()["executed"] == 1
    assert "rows: 3" in page.read_text()
    source.write_text(source.read_text().replace('print(\\"rows:\\"', 'print(\\"lines:\\"'))
    assert build()["executed"] == 1
    assert "lines: 3" in page.read_text()
    assert build()["noop"] is True


def test_failing_cell_keeps_last_good_run_published(tmp_path: Path):
    repo = make_repo(tmp_path / "kb", "title: Calc")
    run_knowrepo("build", str(repo))
    source = repo / "reports/calc.ipynb"
    source.write_text(source.read_text().replace("print(f", "raise ValueError(f"))
    proc = run_knowrepo("build", str(repo), check=False)
    assert proc.returncode == 1
    line = "reports/calc.ipynb [default]: cell 4: ValueError: count=1 label=x ratio=2.5 (knowrepo runs "
    assert line in proc.stderr
    page = BeautifulSoup((repo / "_site/calc/index.html").read_text(), "html.parser")
    assert "count=1 label=x ratio=2.5" in page.select_one(".report-body").get_text()  # last good run
    banner = page.select_one(".run-banner")
    assert "latest run failed" in banner.get_text() and "ValueError" in banner.get_text()
    failed_href = banner.select_one("a")["href"]
    failed = BeautifulSoup((repo / "_site/calc" / failed_href / "index.html").read_text(), "html.parser")
    assert "Traceback" in failed.get_text() or "ValueError" in failed.select_one(".traceback").get_text()
    again = run_knowrepo("build", str(repo), "--execute", "auto", "--json", check=False)
    assert json.loads(again.stdout)["executed"] == 0  # an unchanged failure is not retried
    history = BeautifulSoup((repo / "_site/calc/runs/index.html").read_text(), "html.parser")
    statuses = [row.select_one(".status").get_text() for row in history.select("#history tbody tr")]
    assert statuses == ["failed", "ok"]


def test_timeout_gives_a_failed_run(tmp_path: Path):
    repo = make_repo(
        tmp_path / "kb",
        "title: Slow",
        cells=[("code", "seconds = 30", ["parameters"]), ("code", "import time\ntime.sleep(seconds)")],
    )
    started = time.monotonic()
    proc = run_knowrepo("-C", str(repo), "run", "calc", "--timeout", "2", "--json", check=False)
    assert proc.returncode == 1
    assert time.monotonic() - started < 25
    (record,) = records(proc)
    assert record["status"] == "failed"
    assert "timeout" in record["error"]["evalue"]


def test_kill_9_leaves_no_partial_run(tmp_path: Path):
    """E21 of docs/errors.md: a run killed mid-kernel leaves no run behind."""
    repo = make_repo(
        tmp_path / "kb",
        "title: Slow",
        cells=[("code", "seconds = 60", ["parameters"]), ("code", "import time\ntime.sleep(seconds)")],
    )
    proc = subprocess.Popen(
        [*KNOWREPO, "-C", str(repo), "run", "calc"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    variant = repo / "runs/calc/default"
    deadline = time.monotonic() + 30
    while not (variant.is_dir() and any(variant.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # the kernel is now inside the sleeping cell
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    listed = run_knowrepo("-C", str(repo), "runs", "calc", "--json")
    assert json.loads(listed.stdout) == []
    assert [p.name for p in variant.iterdir() if not p.name.startswith(".")] == []
    site = run_knowrepo("build", str(repo), "--execute", "never")
    assert site.returncode == 0


def test_run_ids_sort_by_time_and_never_collide():
    base = dt.datetime(2026, 11, 26, 8, 0, 0, tzinfo=dt.UTC)
    ids = [new_run_id(base + dt.timedelta(milliseconds=ms)) for ms in (0, 1, 999, 1000, 61_000)]
    assert ids == sorted(ids)
    same = {new_run_id(base) for _ in range(200)}
    assert len(same) == 200


def test_rerun_from_history_page_and_metrics(tmp_path: Path):
    repo = make_repo(
        tmp_path / "kb",
        "title: Calc\nprivate_params: [token]",
        cells=[
            ("markdown", "# Calc"),
            ("code", PARAMS, ["parameters"]),
            ("code", "from knowrepo import record\nrecord('total', count * ratio)\n" + SHOW),
        ],
    )
    first = records(run_knowrepo("-C", str(repo), "run", "calc", "-p", "count=4", "--json"))[0]
    assert first["metrics"] == {"total": 10.0}
    again = records(run_knowrepo("-C", str(repo), "run", "--from", first["id"], "-p", "ratio=0.5", "--json"))[
        0
    ]
    assert again["params"] == {"count": 4, "label": "x", "ratio": 0.5, "token": "***"}
    typed = f"knowrepo -C . run --from {first['id']} -p ratio=0.5 --json"  # (E280: no server path)
    assert again["origin"] == {"by": "run", "from": first["id"], "overrides": ["ratio"], "command": typed}
    assert again["metrics"] == {"total": 2.0}
    run_knowrepo("build", str(repo), "--execute", "never")
    site = repo / "_site"
    history = BeautifulSoup((site / "calc/runs/index.html").read_text(), "html.parser")
    rows = history.select("#history tbody tr")
    assert len(rows) == 2
    for row in rows:
        link = row.select_one("a")["href"]
        run_page = BeautifulSoup((site / "calc/runs" / link / "index.html").read_text(), "html.parser")
        assert run_page.select_one(".rerun code").get_text().startswith("knowrepo run --from ")
        notebook = row.select_one("a[download]")["href"]
        assert (site / "calc/runs" / notebook).is_file()
    assert history.select_one(".sparkline") is not None
    latest = BeautifulSoup((site / "calc/index.html").read_text(), "html.parser")
    assert [li.get_text(" ", strip=True) for li in latest.select(".run-info .metrics li")] == ["total 2"]
    params = {
        d.select_one("dt").get_text(): d.select_one("dd").get_text() for d in latest.select(".params div")
    }
    assert params == {"count": "4", "label": "x", "ratio": "0.5", "token": "***"}
    assert "secret-default" not in (site / "calc/index.html").read_text().split("report-body")[0]


def test_execute_never_publishes_committed_outputs(tmp_path: Path):
    repo = make_repo(tmp_path / "kb", "title: Static", cells=[("code", "print('hi')")])
    nb_path = repo / "reports/calc.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "committed output\n"}]
    nb_path.write_text(json.dumps(nb))
    result = json.loads(run_knowrepo("build", str(repo), "--execute", "never", "--json").stdout)
    assert result["executed"] == 0
    assert "committed output" in (repo / "_site/calc/index.html").read_text()
    auto = json.loads(run_knowrepo("build", str(repo), "--json").stdout)
    assert auto["executed"] == 0  # outputs and no parameters: published as it is


def test_allow_errors_publishes_and_prune_keeps_the_latest_success(tmp_path: Path):
    repo = make_repo(
        tmp_path / "kb",
        "title: Demo\nallow_errors: true",
        cells=[("code", PARAMS, ["parameters"]), ("code", "1 / 0"), ("code", 'print("after the error")')],
    )
    first = records(run_knowrepo("-C", str(repo), "run", "calc", "--json"))[0]
    assert first["status"] == "ok"  # the error is part of the report, on purpose
    assert "after the error" in stdout_of(repo / "runs/calc/default" / first["id"])
    for count in (2, 3):
        run_knowrepo("-C", str(repo), "run", "calc", "-p", f"count={count}")
    assert len(json.loads(run_knowrepo("-C", str(repo), "runs", "calc", "--json").stdout)) == 3
    run_knowrepo("-C", str(repo), "runs", "calc", "--prune", "--keep", "1")
    left = json.loads(run_knowrepo("-C", str(repo), "runs", "calc", "--json").stdout)
    assert [r["params"]["count"] for r in left] == [3]
    run_knowrepo("build", str(repo), "--execute", "never")
    assert "ZeroDivisionError" in (repo / "_site/calc/index.html").read_text()
