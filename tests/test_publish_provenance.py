"""Issue 27, provenance: a run's page and the run history say where each run came from (a
schedule and its due time, by hand with the command typed, a build, a rerun of which run), its
git commit and dirty flag, its kernel and the versions of the packages its notebook imported,
asked of the kernel that ran it. Real kernels, a real git repository, a fake clock."""

from __future__ import annotations

import json
import os
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from conftest import CHROMIUM, KNOWREPO, run_knowrepo, serving, write_notebook

SECRET = "s3cr3t-token-value"
FRONT = """
title: Sales
schedule: "0 6 2 * *"
params: {month: "{{ run_date | previous_month }}"}
private_params: [token]
"""
CELLS: list = [
    ("code", 'month = "2026-10"\ntoken = ""', ["parameters"]),
    (
        "code",
        'import pandas as pd\nfrom knowrepo import record\nrecord("rows", len(pd.DataFrame({"m": [month]})))',
    ),
]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def _knowrepo_at(now: str, *args: str, cwd: Path) -> None:
    env = {**os.environ, "KNOWREPO_NOW": now}
    proc = subprocess.run([*KNOWREPO, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


def _runs(repo: Path) -> dict[str, dict]:
    """Each run's record by how it was started (the last of each)."""
    found = {}
    for path in sorted((repo / "runs" / "sales" / "default").glob("*/run.json")):
        record = json.loads(path.read_text())
        origin = record["origin"]
        kind = "rerun" if origin.get("from") else {"run": "hand"}.get(origin["by"], origin["by"])
        found[kind] = record
    return found


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository whose report ran on schedule, by hand (with a private value typed), as
    a rerun of the hand run, and in a build after an uncommitted code edit; then built."""
    repo = tmp_path_factory.mktemp("provenance") / "kb"
    write_notebook(repo / "reports" / "sales.ipynb", CELLS, front=FRONT)
    (repo / "knowrepo.toml").write_text('[site]\ntitle = "Prov"\nbase_url = "/kr/"\n')
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "first")
    _knowrepo_at("2026-12-02T07:00:00Z", "run", "--due", cwd=repo)
    run_knowrepo("run", "sales", "-p", "month=2026-09", "-p", f"token={SECRET}", cwd=repo)
    hand = _runs(repo)["hand"]["id"]
    run_knowrepo("run", "--from", hand, "--force", cwd=repo)
    nb = json.loads((repo / "reports" / "sales.ipynb").read_text())
    nb["cells"][-1]["source"] += "\nprint(month)"  # (not committed: the build's run is dirty)
    (repo / "reports" / "sales.ipynb").write_text(json.dumps(nb))
    run_knowrepo("build", cwd=repo)
    return repo


def _page(repo: Path, run_id: str) -> str:
    return (repo / "_site" / "sales" / "runs" / run_id / "index.html").read_text()


def test_the_run_page_shows_origin_command_commit_kernel_and_pandas_version(repo: Path):
    hand = _runs(repo)["hand"]
    assert hand["packages"]["pandas"] == metadata.version("pandas")  # (the kernel's: this venv's)
    assert "json" not in hand["packages"] and "os" not in hand["packages"]  # (no stdlib)
    page = _page(repo, hand["id"])
    assert "by hand" in page
    assert "knowrepo run sales -p month=2026-09 -p &#39;token=***&#39;" in page
    assert f"<code>{_git(repo, 'rev-parse', '--short=7', 'HEAD')}</code>" in page
    assert "uncommitted changes" not in page.split("run-provenance", 1)[1].split("</dl>", 1)[0]
    assert f'pandas&nbsp;<span class="package-version">{metadata.version("pandas")}</span>' in page
    assert "python3 · python 3." in page  # (the kernel, and its language as it said)
    # the stored notebook holds no trace of the question asked of the kernel
    stored = json.loads((repo / "runs/sales/default" / hand["id"] / "notebook.ipynb").read_text())
    assert "knowrepo_imported" not in stored["metadata"] and len(stored["cells"]) == 4


def test_a_private_value_typed_by_hand_is_never_recorded_or_published(repo: Path):
    assert _runs(repo)["hand"]["origin"]["command"] == "knowrepo run sales -p month=2026-09 -p 'token=***'"
    for folder in ("runs", "_site/"):
        found = subprocess.run(["grep", "-rl", SECRET, folder], cwd=repo, capture_output=True, text=True)
        assert found.stdout == "", found.stdout


def test_a_scheduled_run_shows_schedule_and_its_due_time(repo: Path):
    page = _page(repo, _runs(repo)["schedule"]["id"])
    assert '<span class="origin origin-schedule">schedule</span>' in page
    assert "due 2026-12-02 06:00 UTC" in page
    history = (repo / "_site" / "sales" / "runs" / "index.html").read_text()
    assert "due 2026-12-02 06:00 UTC" in history


def test_a_rerun_links_the_run_it_reran_and_a_build_run_is_marked_dirty(repo: Path):
    runs = _runs(repo)
    page = _page(repo, runs["rerun"]["id"])
    assert f'of <a href="../{runs["hand"]["id"]}/"><code>{runs["hand"]["id"]}</code></a>' in page
    assert "knowrepo run --from" in page  # (its command as typed)
    build = _page(repo, runs["build"]["id"])
    assert '<span class="origin origin-build">build</span>' in build
    assert "uncommitted changes" in build  # (the notebook was edited after the commit)


def test_E252_an_old_run_record_without_provenance_shows_dashes(repo: Path, tmp_path: Path):
    old = tmp_path / "kb"
    subprocess.run(["cp", "-r", str(repo), str(old)], check=True)
    folder = old / "runs/sales/default" / _runs(repo)["schedule"]["id"]
    record = json.loads((folder / "run.json").read_text())
    for key in ("origin", "git", "packages", "kernel"):
        record.pop(key)
    record["versions"] = {"python": "3.11.7"}
    (folder / "run.json").write_text(json.dumps(record))
    run_knowrepo("build", "--execute", "never", cwd=old)
    page = (old / "_site/sales/runs" / record["id"] / "index.html").read_text()
    facts = page.split('<dl class="run-provenance">', 1)[1].split("</dl>", 1)[0]
    assert facts.count('<span class="muted">—</span>') == 4  # started by, commit, kernel, packages
    history = (old / "_site/sales/runs/index.html").read_text()
    assert '<tr class="run-ok" data-origin="">' in history


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed")
def test_the_history_filters_runs_by_origin_in_a_browser_under_the_site_policy(repo: Path, browser):
    context = browser.new_context()  # (the site's own Content-Security-Policy applies)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    with serving(repo / "_site") as url:
        page.goto(url + "sales/runs/")
        rows = page.locator("#history tbody tr")
        assert rows.count() == 4
        assert page.locator("#run-origin option").all_inner_texts() == [
            "any",
            "schedule",
            "by hand",
            "build",
            "rerun",
        ]
        page.select_option("#run-origin", "schedule")
        visible = page.locator("#history tbody tr:not([hidden])")
        assert visible.count() == 1 and "due 2026-12-02" in visible.inner_text()
        assert page.locator("#run-count").inner_text() == "1 of 4 runs"
        page.select_option("#run-origin", "hand")
        assert visible.count() == 1 and "by hand" in visible.inner_text()
        page.fill("#run-filter", "2026-11")  # (the text filter and the origin filter together)
        assert visible.count() == 0
        page.goto(url + "sales/runs/?origin=rerun")  # (a link keeps the choice)
        assert page.locator("#run-origin").input_value() == "rerun"
        assert page.locator("#history tbody tr:not([hidden])").count() == 1
    context.close()
    assert errors == [], errors


def test_a_run_whose_cell_failed_still_records_what_its_notebook_imported(tmp_path: Path):
    repo = tmp_path / "kb"
    cells: list = [("code", "import pandas"), ("code", "raise ValueError('no data')")]
    write_notebook(repo / "reports" / "broken.ipynb", cells, front="title: Broken")
    (repo / "knowrepo.toml").write_text('[site]\ntitle = "Prov"\n')
    assert run_knowrepo("run", "broken", cwd=repo, check=False).returncode == 1
    (path,) = (repo / "runs" / "broken" / "default").glob("*/run.json")
    record = json.loads(path.read_text())
    assert record["status"] == "failed" and record["packages"]["pandas"] == metadata.version("pandas")
    assert record["origin"] == {"by": "run", "command": "knowrepo run broken"}
