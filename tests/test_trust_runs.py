"""The run store trusted no more than any input (docs/errors.md, "Second trust pass", E140-E149).

One real run (a real kernel) is made once; each test copies that repository and its run, and
makes from the run's record the folders and records that a person, a bad merge or a full disk
could leave in runs/.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from conftest import KNOWREPO, run_knowrepo, write_notebook

CELLS = [
    ("code", 'month = "2026-10"\ncount = 1', ["parameters"]),
    ("code", "from knowrepo import record\nrecord('total', count * 2)\nprint('month', month)"),
]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def lines_naming(lines: list[str], path: str | Path) -> list[str]:
    return [line for line in lines if f"{path}:" in line]


@pytest.fixture(scope="module")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with one notebook report and one real run of it."""
    repo = tmp_path_factory.mktemp("one-run") / "repo"
    repo.mkdir()
    (repo / "knowrepo.toml").write_text("")
    write_notebook(repo / "reports/p.ipynb", CELLS, front="title: Params")
    run_knowrepo("run", "p", cwd=repo)
    return repo


def copied(one_run: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(a copy of the repository, the folder of its real run)."""
    repo = tmp_path / "repo"
    shutil.copytree(one_run, repo, symlinks=True)
    (real,) = [p for p in (repo / "runs/p/default").iterdir() if not p.name.startswith(".")]
    return repo, real


def clone_run(real: Path, folder: Path, **changes: Any) -> Path:
    """A copy of the real run in `folder`, its record's id the folder's name, with `changes`
    (a key 'origin.x' changes a field of origin)."""
    shutil.copytree(real, folder)
    record = json.loads((real / "run.json").read_text())
    record["id"] = folder.name
    for key, value in changes.items():
        if key.startswith("origin."):
            record["origin"] = {**record["origin"], key.removeprefix("origin."): value}
        else:
            record[key] = value
    (folder / "run.json").write_text(json.dumps(record))
    return folder


def site_text(repo: Path) -> str:
    site = (repo / "_site").resolve()
    return "".join(p.read_text(errors="replace") for p in site.rglob("*.html"))


def test_E140_folders_in_runs_that_knowrepo_did_not_make_are_named_and_skipped(one_run: Path, tmp_path: Path):
    repo, real = copied(one_run, tmp_path)
    variant = real.parent
    shell = clone_run(real, variant / "$(touch x)")
    stray_variant = clone_run(real, repo / "runs/p/$(touch y)" / real.name).parent
    notes = variant / "notes.txt"
    notes.write_text("kept by hand")
    proc = run_knowrepo("build", str(repo))
    warned = warning_lines(proc.stderr)
    for path in (shell, notes):
        (line,) = lines_naming(warned, path)
        assert "is not a run knowrepo made" in line
    site = (repo / "_site").resolve()
    assert (site / "p/runs" / real.name / "index.html").is_file()
    assert not (site / "p/runs" / shell.name).exists()
    assert "touch" not in site_text(repo)
    listed = run_knowrepo("runs", "--json", cwd=repo)
    assert [r["id"] for r in json.loads(listed.stdout)] == [real.name]
    listed = run_knowrepo("runs", cwd=repo)
    assert real.name in listed.stdout and "touch" not in listed.stdout
    (line,) = lines_naming(warning_lines(listed.stderr), stray_variant)
    assert "is not a variant knowrepo made" in line
    assert len(lines_naming(warning_lines(listed.stderr), shell)) == 1
    proc = run_knowrepo("run", "--from", shell.name, cwd=repo, check=False)
    assert proc.returncode == 1 and error_lines(proc.stderr) == [
        "error: '$(touch x)' is not a run id (see `knowrepo runs`)"
    ]
    assert not (repo / "x").exists() and not (repo / "y").exists()


def test_E141_every_command_shown_is_shell_quoted(one_run: Path, tmp_path: Path):
    repo, real = copied(one_run, tmp_path)
    run_knowrepo("build", str(repo))
    page = BeautifulSoup((repo / "_site/p/runs" / real.name / "index.html").read_text(), "html.parser")
    assert page.select_one(".rerun code").get_text() == shlex.join(["knowrepo", "run", "--from", real.name])
    folder = tmp_path / "my kb $(touch z)"
    proc = run_knowrepo("init", str(folder))
    assert f"Next: knowrepo build {shlex.quote(str(folder))}" in proc.stderr
    assert shlex.split(proc.stderr.splitlines()[-1].removeprefix("Next: "))[-1] == str(folder)


# Every field a Run reads, each of the wrong type or form (one damaged run per entry).
WRONG_FIELDS: list[dict[str, Any]] = [
    {"origin": "by hand"}, {"origin.overrides": 5}, {"origin.overrides": [["month"]]},
    {"origin.run_date": "soon"}, {"origin.due": 5}, {"origin.from": "../x"}, {"origin.failed_attempts": "x"},
    {"kernel": ["python3"]}, {"versions": ["3.11"]}, {"versions": {"python": 3}}, {"cells": "fast"},
    {"cells": ["a"]}, {"inputs": ["data.csv"]}, {"inputs": {"/etc/passwd": "x"}},
    {"inputs": {"../../x": "y"}},
    {"git": "abc123"}, {"git": {"dirty": "yes"}}, {"source_hash": 7}, {"cache_key": None},
    {"declared_key": {"a": 1}}, {"private_params": "token"}, {"private_params": [1]}, {"error": "boom"},
    {"error": {"cell": "two", "ename": "E"}}, {"error": {"ename": 5}}, {"started": "yesterday"},
    {"started": "2026-13-45T99:00:00Z"}, {"started": 5}, {"duration": "1s"}, {"duration": float("nan")},
    {"slug": ["p"]}, {"variant": "$(touch v)"}, {"source": 5}, {"metrics": [1, 2]}, {"params": "month=1"},
    {"slug": "q"}, {"variant": "eu"},  # a run of another report or variant, copied into p's folder
]  # fmt: skip


def test_E142_run_records_of_the_wrong_shape_are_named_and_left_out(one_run: Path, tmp_path: Path):
    repo, real = copied(one_run, tmp_path)
    damaged = [
        clone_run(real, real.parent / f"20200101T000000.{i:03d}Z-aaaaaa", **changes) / "run.json"
        for i, changes in enumerate(WRONG_FIELDS)
    ]

    def each_named_once(stderr: str, lines: list[str]) -> None:
        assert "Traceback" not in stderr and "unexpectedly" not in stderr, stderr[-2000:]
        for record in damaged:
            assert len(lines_naming(lines, record)) == 1, (record, stderr[-3000:])
            assert "invalid run record" in lines_naming(lines, record)[0]

    listed = run_knowrepo("runs", "--json", cwd=repo, check=False)
    assert listed.returncode == 1
    each_named_once(listed.stderr, error_lines(listed.stderr))
    assert [r["id"] for r in json.loads(listed.stdout)] == [real.name]
    table = run_knowrepo("runs", cwd=repo, check=False)
    assert table.returncode == 1 and real.name in table.stdout
    each_named_once(table.stderr, error_lines(table.stderr))
    for _time in (1, 2):  # (the second build too: a damaged record is named until it is fixed)
        built = run_knowrepo("build", str(repo), check=False)
        assert built.returncode == 1
        each_named_once(built.stderr, error_lines(built.stderr))
    site = (repo / "_site").resolve()
    assert (site / "p/runs" / real.name / "index.html").is_file()
    assert sorted(p.name for p in (site / "p/runs").iterdir()) == sorted([real.name, "index.html"])
    pdf = run_knowrepo("pdf", "p", "-o", str(tmp_path / "p.pdf"), cwd=repo)
    each_named_once(pdf.stderr, warning_lines(pdf.stderr))
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    mail = run_knowrepo(
        "email", "p", "--to", "a@example.com", "--dry-run", "-o", str(tmp_path / "out"), cwd=repo
    )
    each_named_once(mail.stderr, warning_lines(mail.stderr))
    assert list((tmp_path / "out").glob("*.eml"))
    checked = run_knowrepo("check", cwd=repo, check=False)
    assert checked.returncode == 1
    each_named_once(checked.stdout + checked.stderr, checked.stdout.splitlines())
    for record in damaged[:3]:
        proc = run_knowrepo("run", "--from", record.parent.name, cwd=repo, check=False)
        assert proc.returncode == 1 and len(error_lines(proc.stderr)) == 1, proc.stderr
        assert lines_naming(error_lines(proc.stderr), record)
    again = run_knowrepo("run", "--from", real.name, "-p", "count=3", cwd=repo)
    each_named_once(again.stderr, warning_lines(again.stderr))
    assert "ok     p [default]" in again.stderr


def test_E143_a_damaged_run_notebook_is_named_as_itself(one_run: Path, tmp_path: Path):
    repo, real = copied(one_run, tmp_path)
    notebook = real / "notebook.ipynb"
    notebook.write_bytes(notebook.read_bytes()[: notebook.stat().st_size // 2])
    shown = f"runs/p/default/{real.name}/notebook.ipynb"
    for proc in (
        run_knowrepo("build", str(repo), check=False),
        run_knowrepo("pdf", "p", "-o", str(tmp_path / "p.pdf"), cwd=repo, check=False),
    ):
        assert proc.returncode == 1 and "KeyError" not in proc.stderr and "Traceback" not in proc.stderr
        (line,) = error_lines(proc.stderr)
        assert line.startswith(f"error: {shown}: invalid notebook JSON"), line


def test_E144_a_full_disk_under_runs_is_said_as_such(tmp_path: Path):
    from test_trust import _tmpfs

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "knowrepo.toml").write_text("")
    write_notebook(
        repo / "reports/big.ipynb", [("code", "n = 400_000", ["parameters"]), ("code", "print('y' * n)")]
    )
    if not _tmpfs(repo / "runs", "300k"):  # the executed notebook (400 kB) cannot fit
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        for args in (["run", "big"], ["build", str(repo)]):
            proc = run_knowrepo(*args, cwd=repo, check=False)
            assert proc.returncode == 1 and "JSONDecodeError" not in proc.stderr, proc.stderr
            (line,) = error_lines(proc.stderr)
            assert f"cannot write in {repo / 'runs/big/default'}: No space left on device" in line, line
            assert line.endswith("the run is not recorded")
            assert [p for p in (repo / "runs").rglob("*") if p.is_file()] == []  # (its temp folder too)
        assert json.loads(run_knowrepo("runs", "--json", cwd=repo).stdout) == []
        proc = run_knowrepo("run", "big", "-p", "n=10", cwd=repo)  # room enough for a small one
        assert "ok     big [default]" in proc.stderr
    finally:
        subprocess.run(["umount", "-l", str(repo / "runs")], capture_output=True)


def _killed_mid_kernel(repo: Path) -> Path:
    """`knowrepo run slow`, SIGKILLed (with its workers and kernel) while its kernel runs: the
    temp folder it was writing into."""
    marker = repo / ".knowrepo/paused-run"
    marker.unlink(missing_ok=True)
    env = {**os.environ, "KNOWREPO_PAUSE_AT": "run"}
    proc = subprocess.Popen([*KNOWREPO, "run", "slow"], cwd=repo, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while not (marker.exists() and marker.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None, "the run never reached its kernel"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    (left,) = [p for p in (repo / "runs/slow/default").glob(".tmp-2*") if "-0badf00d-" not in p.name]
    return left  # (0badf00d: the machine of the test's shared-store folders)


def test_E145_a_killed_runs_temp_folder_goes_at_the_next_run_or_build_of_any_report(
    one_run: Path, tmp_path: Path
):
    repo, real = copied(one_run, tmp_path)
    write_notebook(repo / "reports/slow.ipynb", [("code", "seconds = 60", ["parameters"]), ("code", "1")])
    mine = repo / "runs/slow/default/.tmp-notes"  # a hidden folder of someone's: never touched
    mine.mkdir(parents=True)
    # runs/ shared with another machine: its run in progress (a pid this machine may not have)
    # is left alone; its temp folder of three days ago is abandoned.
    elsewhere = repo / "runs/slow/default/.tmp-20261201T000000.000Z-abcdef-0badf00d-1"
    stale = repo / "runs/slow/default/.tmp-20261101T000000.000Z-abcdef-0badf00d-1"
    for folder in (elsewhere, stale):
        folder.mkdir()
    os.utime(stale, (time.time() - 3 * 24 * 3600,) * 2)
    left = _killed_mid_kernel(repo)
    run_knowrepo("run", "p", "--force", cwd=repo)  # another report
    assert not left.exists() and mine.is_dir()
    assert elsewhere.is_dir() and not stale.exists()
    left = _killed_mid_kernel(repo)
    run_knowrepo("build", str(repo), "--execute", "never")
    assert not left.exists() and mine.is_dir()


def test_E146_a_huge_text_figure_is_cut_on_every_page_and_kept_whole_in_its_run(tmp_path: Path):
    import email
    import email.policy

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "knowrepo.toml").write_text("")
    note = "record('note', 'x' * 200_000)\nrecord('x' * 5_000, 1)\nrecord('total', 3)"
    cells = [("code", "label = 'y' * 300", ["parameters"]), ("code", f"from knowrepo import record\n{note}")]
    write_notebook(repo / "reports/big.ipynb", cells, front="title: Big")
    run_knowrepo("build", str(repo))
    (run,) = (repo / "runs/big/default").iterdir()
    record = json.loads((run / "run.json").read_text())
    assert len(record["metrics"]["note"]) == 200_000  # the record keeps it whole
    site = (repo / "_site").resolve()
    pages = {p.relative_to(site).as_posix(): p.stat().st_size for p in site.rglob("*.html")}
    assert max(pages.values()) < 40_000, pages  # (each page of the report was 400 kB)
    own = BeautifulSoup((site / "big/runs" / run.name / "index.html").read_text(), "html.parser")
    assert len(own.select_one(".metric-value").get_text()) == 2_000
    assert "cut at 2,000 of 200,000 characters" in own.select_one(".value-cut").get_text()
    for path in ("big/index.html", "index.html"):
        shown = BeautifulSoup((site / path).read_text(), "html.parser")
        texts = shown.select(".metric-value, .metric-name, .params dd code, [class^=kr-metric-]")
        assert max(len(v.get_text()) for v in texts) <= 200
    run_knowrepo("email", "big", "--to", "a@example.com", "--dry-run", "-o", str(tmp_path / "out"), cwd=repo)
    (eml,) = (tmp_path / "out").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    for part in ("plain", "html"):
        assert len(message.get_body((part,)).get_content()) < 5_000


def test_E147_a_long_history_is_paged_and_every_run_keeps_its_page(one_run: Path, tmp_path: Path, browser):
    """3,000 more runs, written as copies of the real run's record (no kernel each): no page of
    the report grows with them, and every run is still on a page of the history and has its own."""
    import datetime as dt

    from conftest import serving
    from knowrepo.pipeline.execute.runstore import RUN_ID, new_run_id

    repo, real = copied(one_run, tmp_path)
    record = json.loads((real / "run.json").read_text())
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for i in range(3000):
        moment = start + dt.timedelta(hours=i)
        folder = real.parent / new_run_id(moment)
        folder.mkdir()
        copy = {
            **record,
            "id": folder.name,
            "started": f"{moment:%Y-%m-%dT%H:%M:%SZ}",
            "metrics": {"total": i % 17},
        }
        copy["params"] = {**record["params"], "month": f"m{i % 12}"}
        (folder / "run.json").write_text(json.dumps(copy))
    oldest = new_run_id(start)[:-6]
    run_knowrepo("build", str(repo))
    site = (repo / "_site").resolve()
    pages = [site / "p/runs/index.html", *(site / f"p/runs/page/{n}/index.html" for n in range(2, 32))]
    assert not (site / "p/runs/page/32").exists()
    assert max(p.stat().st_size for p in [*pages, site / "p/compare/index.html"]) < 80_000  # (one was 1.5 MB)
    listed = []
    for page in pages:
        rows = BeautifulSoup(page.read_text(), "html.parser").select("#history tbody tr td:first-child a")
        listed += [a["href"].rstrip("/").rsplit("/", 1)[-1] for a in rows]
    published = {p.name for p in (site / "p/runs").iterdir() if RUN_ID.fullmatch(p.name)}
    assert (
        len(listed) == len(published) == 3001 and set(listed) == published and listed == sorted(listed)[::-1]
    )
    first = BeautifulSoup(pages[0].read_text(), "html.parser")
    spark = first.select_one(".sparkline")
    assert "trend of 3001 runs" in spark["aria-label"]
    assert len(spark.select_one("polyline")["points"].split()) <= 114  # one point per pixel
    with serving(repo / "_site") as base:
        context = browser.new_context()  # under the site's own Content-Security-Policy
        tab = context.new_page()
        problems: list[str] = []
        tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        tab.goto(base + "p/runs/")
        tab.fill("#run-filter", "m3")
        assert tab.locator("#run-count").inner_text() == "8 of 100 runs on this page"
        tab.locator(".pager a[rel=next]").click()
        tab.wait_for_url("**/p/runs/page/2/?q=m3")
        assert tab.locator("#run-filter").input_value() == "m3"
        assert tab.locator("#history tbody tr:not([hidden])").count() == 8
        tab.goto(base + "p/runs/page/31/")
        tab.locator("#history a", has_text="Compare").click()
        tab.locator(".compare-row").first.wait_for(timeout=15_000)
        assert tab.locator("#run-a").input_value().startswith(oldest)  # A, the older: from its own page
        assert "m0" in tab.locator("#compare-params").inner_text()
        context.close()
    assert problems == []
