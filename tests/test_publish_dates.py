"""Listings date reports by what they show (issue 27): a notebook by the run its page shows
(and the period that run covers), a Markdown report by `updated`, else its last commit, else
`created`; and a page whose code changed since its run says so. Real kernels, real git."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import write_notebook

CELLS = [("markdown", "# Monthly\n\nThe month's figures."), ("code", "x = 41\nprint(x + 1)")]
NOW = {**os.environ, "KNOWREPO_NOW": "2026-12-07T00:42:00"}


def git(root: Path, *args: str, date: str = "2026-10-01T12:00:00+00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def build(root: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "knowrepo", "build", str(root), *args]
    proc = subprocess.run(command, env=NOW, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc


def page(root: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((root / "_site" / path).read_text(), "html.parser")


def card(root: Path, slug: str) -> BeautifulSoup:
    found = page(root, "index.html").select_one(f'article.card:has(a[href$="{slug}/"])')
    assert found is not None, slug
    return found


def nice(iso: str) -> str:
    from knowrepo.pipeline.assemble.pages import format_date

    return format_date(iso)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository: a monthly notebook created in June and run today, a note created in
    September (never committed), a guide created in January and last committed on 3 Dec."""
    root = tmp_path_factory.mktemp("dates") / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Dates"\nbase_url = "https://kb.example/"\n')
    write_notebook(root / "reports/monthly.ipynb", CELLS, front="title: Monthly\ncreated: 2026-06-02")
    (root / "reports/guide.md").write_text("---\ntitle: Guide\ncreated: 2026-01-05\n---\n# Guide\n\nHow.\n")
    git(root, "init", "-q")
    git(root, "-c", "user.name=T", "-c", "user.email=t@x", "add", "reports/guide.md", "knowrepo.toml")
    git(root, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qm", "guide")
    (root / "reports/guide.md").write_text(
        "---\ntitle: Guide\ncreated: 2026-01-05\n---\n# Guide\n\nHow, now.\n"
    )
    git(root, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qam", "guide again",
        date="2026-12-03T09:00:00+00:00")  # fmt: skip
    (root / "reports/autumn.md").write_text(
        "---\ntitle: Autumn\ncreated: 2026-09-01\n---\n# Autumn\n\nNotes.\n"
    )
    build(root)
    return root


def later_run(root: Path, period: str, suffix: str) -> Path:
    """A copy of the recorded run under a later id, saying the period its data covers (as a
    run of a newer knowrepo records it): the run the page then shows. The recorded run is said
    to cover the same period (a run that says none covers the day it ran, which is later)."""
    folder = sorted((root / "runs/monthly/default").glob("*/run.json"))[0]  # (the one the build made)
    record = json.loads(folder.read_text())
    folder.write_text(json.dumps({**record, "period": period}))
    new = folder.parent.parent / (record["id"][:-6] + suffix)
    shutil.copytree(folder.parent, new)
    (new / "run.json").write_text(json.dumps({**record, "id": new.name, "period": period}))
    return new


def shown_run(root: Path) -> dict:
    (record,) = [json.loads(p.read_text()) for p in (root / "runs/monthly/default").glob("*/run.json")]
    return record


def test_a_notebook_run_today_lists_above_markdown_created_later_than_it(repo: Path):
    ran = shown_run(repo)["started"][:10]
    titles = [a.get_text() for a in page(repo, "index.html").select("article.card .card-title a")]
    assert titles[0] == "Monthly" and titles.index("Monthly") < titles.index("Autumn")
    assert card(repo, "monthly").select_one(".card-meta").get_text().strip() == f"Run {nice(ran)}"
    assert card(repo, "autumn").select_one(".card-meta").get_text().strip() == "Created 1 Sep 2026"
    report = page(repo, "monthly/index.html")
    byline = report.select_one(".byline").get_text(" ", strip=True)
    assert f"Run {nice(ran)}" in byline and "Created 2 Jun 2026" in byline
    assert report.select_one('meta[data-pagefind-meta="date[content]"]')["content"] == ran
    assert report.select_one('meta[data-pagefind-sort="date[content]"]')["content"] == ran
    assert report.select_one('meta[data-pagefind-meta="dated[content]"]')["content"] == f"Run {nice(ran)}"
    feed = (repo / "_site/feed.xml").read_text()
    assert (
        f"<updated>{ran}T00:00:00Z</updated>" in feed.split("<title>Monthly</title>")[1].split("</entry>")[0]
    )
    listed = subprocess.run(
        [sys.executable, "-m", "knowrepo", "list", "--json"], cwd=repo, capture_output=True
    )
    dates = {row["slug"]: row["date"] for row in json.loads(listed.stdout)}
    assert dates == {"monthly": ran, "guide": "2026-12-03", "autumn": "2026-09-01"}
    sitemap = (repo / "_site/sitemap.xml").read_text()
    assert f"<loc>https://kb.example/monthly/</loc><lastmod>{ran}</lastmod>" in sitemap


def test_a_markdown_report_without_updated_is_dated_by_its_last_commit(repo: Path):
    assert card(repo, "guide").select_one(".card-meta").get_text().strip() == "Updated 3 Dec 2026"
    guide = page(repo, "guide/index.html")
    assert "Updated 3 Dec 2026" in guide.select_one(".byline").get_text(" ", strip=True)
    assert guide.select_one('meta[data-pagefind-meta="dated[content]"]')["content"] == "Updated 3 Dec 2026"
    # A commit of other files leaves its date as it was.
    git(repo, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "x",
        date="2026-12-05T09:00:00+00:00")  # fmt: skip
    build(repo)
    assert card(repo, "guide").select_one(".card-meta").get_text().strip() == "Updated 3 Dec 2026"
    (repo / "reports/guide.md").write_text(
        "---\ntitle: Guide\ncreated: 2026-01-05\n---\n# Guide\n\nHow, later.\n"
    )
    build(repo)  # edited, not committed: still its last commit's date
    assert card(repo, "guide").select_one(".card-meta").get_text().strip() == "Updated 3 Dec 2026"
    git(repo, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qam", "later",
        date="2026-12-06T09:00:00+00:00")  # fmt: skip
    build(repo)  # committed: the file's stat is as the last build saw it, its date is new
    assert card(repo, "guide").select_one(".card-meta").get_text().strip() == "Updated 6 Dec 2026"


def test_E230_the_period_of_a_run_is_said_and_escaped(repo: Path, tmp_path: Path):
    """E230 of docs/errors.md: a run's period is shown as it reads (2026-11: November 2026);
    one that is no date is shown as written, escaped."""
    ran = shown_run(repo)["started"][:10]
    (recorded,) = (repo / "runs/monthly/default").glob("*/run.json")
    as_recorded = recorded.read_text()
    added = []
    try:
        for period, shown, suffix in (
            ("2026-11", "November 2026", "fffffe"),
            ("<b>Q5</b>", "<b>Q5</b>", "ffffff"),
        ):
            added.append(later_run(repo, period, suffix))
            build(repo, "--execute", "never")
            meta = card(repo, "monthly").select_one(".card-meta")
            assert meta.get_text().strip() == f"Run {nice(ran)} · {shown}"
            assert not meta.select("b")  # (text, not markup)
            report = page(repo, "monthly/index.html")
            assert f"Period {shown}" in report.select_one(".byline").get_text(" ", strip=True)
            dated = report.select_one('meta[data-pagefind-meta="dated[content]"]')["content"]
            assert dated == f"Run {nice(ran)} · {shown}"
    finally:
        for folder in added:
            shutil.rmtree(folder)
        recorded.write_text(as_recorded)
        build(repo, "--execute", "never")


def test_E231_a_code_edit_without_a_rerun_is_said_on_the_page_and_card(repo: Path):
    """E231 of docs/errors.md: code cells edited since the run a page shows, built with
    `--execute never` (as `serve` builds): the page and card say "Code changed since this run";
    an edit of Markdown cells or outputs alone says nothing."""
    source = repo / "reports/monthly.ipynb"
    before = source.read_text()
    try:
        write_notebook(
            source, [CELLS[0], ("code", "x = 1\nprint(x + 1)")], front="title: Monthly\ncreated: 2026-06-02"
        )
        build(repo, "--execute", "never")
        notice = page(repo, "monthly/index.html").select_one(".run-code-changed")
        assert notice is not None and "Code changed since this run" in notice.get_text()
        assert "Code changed since this run" in card(repo, "monthly").get_text()
        # Only prose and outputs edited: the code is the run's.
        output = {"output_type": "stream", "name": "stdout", "text": "stale output\n"}
        write_notebook(
            source,
            [("markdown", "# Monthly\n\nNew prose."), CELLS[1]],
            front="title: Monthly\ncreated: 2026-06-02",
            outputs={1: [output]},
        )
        build(repo, "--execute", "never")
        assert "New prose." in page(repo, "monthly/index.html").get_text()
        assert not page(repo, "monthly/index.html").select(".run-code-changed")
        assert "Code changed" not in card(repo, "monthly").get_text()
        # The kernel the notebook names, changed: said too.
        nb = json.loads(source.read_text())
        nb["metadata"]["kernelspec"]["name"] = "python-other"
        source.write_text(json.dumps(nb))
        build(repo, "--execute", "never")
        notice = page(repo, "monthly/index.html").select_one(".run-code-changed").get_text(" ", strip=True)
        assert "Kernel changed since this run (was python3, now python-other)" in notice
    finally:
        source.write_text(before)
        build(repo, "--execute", "never")
    assert not page(repo, "monthly/index.html").select(".run-code-changed")


def test_serve_says_a_code_edit_changed_the_code_of_the_page_it_previews(repo: Path):
    """`serve` rebuilds an edited notebook without running it: its preview says so."""
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}/"

    def get(path: str) -> str:
        with urllib.request.urlopen(base + path) as response:
            return response.read().decode()

    def builds() -> int:
        try:
            return json.loads(get("__knowrepo/status"))["builds"]
        except OSError:
            return 0

    def wait(count: int) -> None:
        deadline = time.monotonic() + 120
        while builds() < count:
            assert time.monotonic() < deadline and proc.poll() is None, f"no build {count}"
            time.sleep(0.2)

    source = repo / "reports/monthly.ipynb"
    before = source.read_text()
    command = [sys.executable, "-m", "knowrepo", "serve", str(repo), "--port", str(port)]
    proc = subprocess.Popen(command, env=NOW, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(1)
        assert "Code changed since this run" not in get("monthly/")
        write_notebook(
            source, [CELLS[0], ("code", "x = 2\nprint(x)")], front="title: Monthly\ncreated: 2026-06-02"
        )
        wait(2)
        assert "Code changed since this run" in get("monthly/")
        assert "Code changed since this run" in get("")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        source.write_text(before)
