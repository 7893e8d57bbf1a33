"""Readers see the runs the team chose to publish (issue 27): scratch runs are kept and never
published, `knowrepo publish` pins a run, and a catch-up run for an older period never
replaces a newer one. Real kernels, real builds, a fake clock (KNOWREPO_NOW)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import KNOWREPO, write_notebook

CODE = (
    "from IPython.display import display\n"
    "if month == 'fail': raise ValueError('no data for that month')\n"
    "print('data of', month)\n"
    "display({'application/vnd.knowrepo.metric+json': {'name': 'letters', 'value': len(month)}}, raw=True)"
)
FRONT = (
    "title: Monthly\n"
    "params: {month: '{{ run_date | previous_month }}'}\n"
    "period: '{{ params.month }}'\n"
    "schedule: '0 6 2 * *'"
)


def knowrepo(root: Path, *args: str, now: str = "2026-12-01T10:00:00", check: bool = True):
    env = {**os.environ, "KNOWREPO_NOW": now}
    proc = subprocess.run([*KNOWREPO, *args], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"knowrepo {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def records(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "runs/monthly/default").glob("*/run.json"))]


def shown_month(root: Path) -> str:
    """The month the published page's run covers (its body prints it)."""
    body = BeautifulSoup((root / "_site/monthly/index.html").read_text(), "html.parser")
    found = re.search(r"data of (\d{4}-\d{2})", body.select_one(".report-body").get_text())
    assert found is not None
    return found.group(1)


def history(root: Path) -> dict[str, str]:
    """Run id -> the marks of its row on the history page."""
    page = BeautifulSoup((root / "_site/monthly/runs/index.html").read_text(), "html.parser")
    rows = {}
    for row in page.select("table.history tbody tr"):
        run_id = row.select_one("a")["href"].rstrip("/").rsplit("/", 1)[-1]
        rows[run_id] = " ".join(badge.get_text() for badge in row.select(".published-badge"))
    return rows


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A monthly report, run by hand for November on 1 Dec 2026, then `run --due` the same day
    (catching up the run due on 2 Nov, for October)."""
    root = tmp_path_factory.mktemp("pins") / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Pins"\n')
    write_notebook(
        root / "reports/monthly.ipynb",
        [("code", 'month = "2000-01"', ["parameters"]), ("code", CODE)],
        front=FRONT,
    )
    knowrepo(root, "run", "monthly", "-p", "month=2026-11")
    due = knowrepo(root, "run", "--due", now="2026-12-01T12:00:00")
    assert "due since 2026-11-02 06:00 UTC" in due.stderr
    return root


def test_a_catch_up_run_for_an_older_period_never_replaces_a_newer_one(repo: Path):
    november, october = records(repo)
    assert (november["period"], november["origin"]["by"]) == ("2026-11", "run")
    assert (october["period"], october["origin"]["by"]) == ("2026-10", "schedule")
    assert october["origin"]["run_date"] == "2026-11-02" and october["params"]["month"] == "2026-10"
    build = knowrepo(repo, "build", "--json")
    assert json.loads(build.stdout)["executed"] == 0
    assert shown_month(repo) == "2026-11"  # the newer run by hand stays published
    assert history(repo)[november["id"]] == "published"


def test_a_scratch_run_is_kept_in_history_and_never_published(repo: Path):
    before = (repo / "_site/monthly/index.html").read_bytes()
    listing = (repo / "_site/index.html").read_bytes()
    proc = knowrepo(repo, "run", "monthly", "--scratch", "-p", "month=2026-12")
    assert "Scratch runs are kept in the history, never published" in proc.stderr
    scratch = records(repo)[-1]
    assert scratch["origin"]["scratch"] is True and scratch["period"] == "2026-12"
    build = knowrepo(repo, "build", "--json")
    assert json.loads(build.stdout)["executed"] == 0  # (a scratch run is no run of the declaration)
    assert (repo / "_site/monthly/index.html").read_bytes() == before
    assert history(repo)[scratch["id"]] == "scratch"
    compare = BeautifulSoup((repo / "_site/monthly/compare/index.html").read_text(), "html.parser")
    pair = [compare.select_one(f"#run-{x} option[selected]")["value"] for x in "ab"]
    assert pair == [records(repo)[0]["id"], records(repo)[1]["id"]]  # November and October: never scratch
    assert (repo / "_site/index.html").read_bytes() == listing  # (its card too)
    listed = knowrepo(repo, "runs", "monthly").stdout.splitlines()  # the CLI marks it too
    assert any(scratch["id"] in line and "ok (scratch)" in line for line in listed)
    assert "A scratch run: never published" in knowrepo(repo, "runs", scratch["id"]).stdout


def test_E224_a_scratch_run_owes_no_email_and_no_schedule_makes_one(repo: Path):
    for option in ("--email", "--due"):
        refused = knowrepo(repo, "run", "monthly", "--scratch", option, check=False)
        assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
        assert f"--scratch with {option}: a scratch run is never published or emailed" in refused.stderr


def test_a_pin_holds_against_newer_runs_until_it_is_released(repo: Path):
    october = next(r for r in records(repo) if r["period"] == "2026-10")
    proc = knowrepo(repo, "publish", october["id"], "--build")
    assert f"monthly [default]: shows run {october['id']} from now on" in proc.stderr
    pins = (repo / "runs/pins.yaml").read_text()
    assert pins.startswith("# The run each variant shows")
    assert f"monthly:\n  default: {october['id']}\n" in pins  # (reviewable: one line per pin)
    assert shown_month(repo) == "2026-10"
    assert history(repo)[october["id"]] == "published pinned"
    knowrepo(repo, "run", "monthly", "-p", "month=2027-01", "--build", now="2027-02-03T09:00:00")
    assert shown_month(repo) == "2026-10"  # the pin holds
    listed = knowrepo(repo, "publish")
    assert listed.stdout == f"monthly\tdefault\t{october['id']}\n"
    proc = knowrepo(repo, "publish", "--unpin", "monthly", "--build")
    said = f"monthly [default]: unpinned (was run {october['id']}); it shows its newest period again"
    assert said in proc.stderr
    assert not (repo / "runs/pins.yaml").exists()
    assert shown_month(repo) == "2027-01"  # the newest period


def test_E222_a_failed_run_is_never_pinned(repo: Path):
    knowrepo(repo, "run", "monthly", "--scratch", "-p", "month=fail", check=False)
    failed = records(repo)[-1]
    assert failed["status"] == "failed"
    proc = knowrepo(repo, "publish", failed["id"], check=False)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert f"error: run {failed['id']} of monthly [default] failed (ValueError: no data for that month)" in (
        proc.stderr
    )
    assert "a failed run is never published" in proc.stderr and not (repo / "runs/pins.yaml").exists()


def test_E225_releasing_a_pin_that_is_not_there(repo: Path):
    some = records(repo)[0]["id"]
    for target in (some, "monthly"):
        proc = knowrepo(repo, "publish", "--unpin", target, check=False)
        assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
        assert "runs/pins.yaml: " in proc.stderr and "is not pinned; nothing is pinned" in proc.stderr


def test_E220_E221_a_damaged_pins_file_is_one_line_and_the_build_goes_on(repo: Path):
    pins = repo / "runs/pins.yaml"
    knowrepo(repo, "build")
    unpinned = shown_month(repo)
    october = next(r for r in records(repo) if r["period"] == "2026-10")
    knowrepo(repo, "publish", october["id"], "--build")
    assert shown_month(repo) == "2026-10"
    try:
        pins.write_text("monthly: {default: [unclosed\n")
        first = knowrepo(repo, "build", check=False)
        lines = [line for line in first.stderr.splitlines() if line.startswith("error:")]
        assert first.returncode == 1 and len(lines) == 1, first.stderr
        assert lines[0].startswith("error: ") and "runs/pins.yaml: invalid YAML at line" in lines[0]
        assert "no run is pinned until it is fixed" in lines[0]
        assert shown_month(repo) == unpinned
        again = knowrepo(repo, "build", check=False)  # said again by every build until fixed
        assert again.returncode == 1 and "runs/pins.yaml: invalid YAML" in again.stderr
        pins.write_text("monthly:\n  default: 20200101T000000.000Z-abcdef\n")
        missing = knowrepo(repo, "build", check=False)
        lines = [line for line in missing.stderr.splitlines() if line.startswith("error:")]
        assert missing.returncode == 1 and len(lines) == 1, missing.stderr
        said = "'monthly.default' names run 20200101T000000.000Z-abcdef, which is not a run of monthly"
        assert said in lines[0]
        assert "the variant shows its newest run instead" in lines[0]
        assert shown_month(repo) == unpinned
    finally:
        pins.unlink(missing_ok=True)
    assert knowrepo(repo, "build").returncode == 0


if __name__ == "__main__":  # (run alone: python tests/test_publish_pins.py)
    sys.exit(pytest.main([__file__, "-q"]))
