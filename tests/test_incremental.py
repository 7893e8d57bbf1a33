"""Incremental builds, failures that keep the last good page, and the atomic publish,
judged from outside: output files' inodes and mtimes after real `knowrepo build` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import KNOWREPO, copy_example, run_knowrepo


def snapshot(site: Path) -> dict[str, tuple[int, int]]:
    """Every file of the published site: path -> (inode, mtime_ns)."""
    site = site.resolve()
    return {
        p.relative_to(site).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in site.rglob("*")
        if p.is_file()
    }


def contents(site: Path) -> dict[str, bytes]:
    site = site.resolve()
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def version_folders(repo: Path) -> list[Path]:
    """The site's version folders, once the trash that a build hands to a detached `rm` is gone."""
    folder = repo / "._site.versions"
    deadline = time.monotonic() + 10
    while any(p.name.startswith(".trash-") for p in folder.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in folder.iterdir() if p.is_dir()]  # (not the marker file)


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


@pytest.fixture()
def repo(tmp_path: Path, example_repo: Path) -> Path:
    repo = copy_example(tmp_path / "repo", runs_from=example_repo)
    run_knowrepo("build", str(repo))
    return repo


def test_noop_rebuild_rewrites_nothing(repo: Path):
    before = snapshot(repo / "_site")
    proc = run_knowrepo("build", str(repo), "--json")
    assert json.loads(proc.stdout)["noop"] is True
    assert snapshot(repo / "_site") == before


def test_editing_one_report_rewrites_its_page_and_the_listings_only(repo: Path):
    before = snapshot(repo / "_site")
    source = repo / "reports/guides/metric-definitions.md"
    source.write_text(
        source.read_text().replace("summary: The agreed definitions", "summary: Newly revised definitions")
    )
    result = json.loads(run_knowrepo("build", str(repo), "--json").stdout)
    assert result["rendered"] == 1 and result["executed"] == 0
    after = snapshot(repo / "_site")
    # The search index is rebuilt whole when an indexed page changes (Pagefind has no
    # incremental mode); every other file must stay as it was.
    changed = {path for path in after if before.get(path) != after[path] and not path.startswith("pagefind/")}
    assert "guides/metric-definitions/index.html" in changed
    assert "guides/metric-definitions/metric-definitions.md" in changed
    allowed = {
        "guides/metric-definitions/index.html",
        "guides/metric-definitions/metric-definitions.md",
        "guides/metric-definitions/guides-metric-definitions.pdf",
        "index.html",
        "feed.xml",
        "sitemap.xml",
        "tags/finance/index.html",
        "tags/reference/index.html",
        "authors/data-platform-team/index.html",
        "tags/index.html",
        "authors/index.html",
    }
    assert changed <= allowed, changed - allowed
    for page in (
        "product/churn-analysis/index.html",
        "sales/monthly-revenue/index.html",
        "tags/churn/index.html",
        "assets/style.css",
    ):
        assert before[page] == after[page], page
    index = BeautifulSoup((repo / "_site/index.html").read_text(), "html.parser")
    assert "Newly revised definitions" in index.get_text()


def test_deleted_report_disappears_everywhere(repo: Path):
    (repo / "reports/notes/q3-planning-notes.md").unlink()
    run_knowrepo("build", str(repo))
    site = repo / "_site"
    assert not (site / "notes/q3-planning-notes").exists()
    assert "Q3 analytics planning" not in (site / "index.html").read_text()
    assert not (site / "tags/planning").exists()


def test_a_broken_report_keeps_its_page_and_the_rest_publishes(repo: Path):
    page = repo / "_site/sales/monthly-revenue/index.html"
    old_page = page.read_text()
    (repo / "reports/sales/monthly-revenue.ipynb").write_text('{"cells": [ broken')
    guide = repo / "reports/guides/metric-definitions.md"
    guide.write_text(guide.read_text().replace("# Metric definitions", "# Metric definitions\n\nFresh line."))
    proc = run_knowrepo("build", str(repo), check=False)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if "monthly-revenue.ipynb" in line]
    assert errors and "invalid notebook JSON" in errors[0]
    assert (repo / "_site/sales/monthly-revenue/index.html").read_text() == old_page
    assert "Monthly revenue by region" in (repo / "_site/index.html").read_text()
    assert "Fresh line." in (repo / "_site/guides/metric-definitions/index.html").read_text()
    # Still failing on a no-op: the error is repeated and the exit code stays non-zero.
    again = run_knowrepo("build", str(repo), check=False)
    assert again.returncode == 1 and "monthly-revenue.ipynb" in again.stderr
    # And when another report changes: a report that failed is never kept as settled.
    guide.write_text(guide.read_text().replace("Fresh line.", "Fresher line."))
    third = run_knowrepo("build", str(repo), check=False)
    assert third.returncode == 1 and "monthly-revenue.ipynb" in third.stderr
    assert (repo / "_site/sales/monthly-revenue/index.html").read_text() == old_page


def test_unknown_field_and_duplicate_slug_are_one_line_errors(repo: Path):
    bad = repo / "reports/notes/q3-planning-notes.md"
    bad.write_text(bad.read_text().replace("summary:", "sumary:"))
    (repo / "reports/Guides").mkdir()
    (repo / "reports/Guides/Metric Definitions.md").write_text("# Another\n")
    proc = run_knowrepo("build", str(repo), check=False)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert any(
        line.startswith(
            "error: reports/notes/q3-planning-notes.md: line 5: unknown front-matter field "
            "'sumary' (did you mean 'summary'?)"
        )
        for line in lines
    )
    assert any("slug 'guides/metric-definitions'" in line for line in lines)
    assert (repo / "_site/notes/q3-planning-notes/index.html").is_file()  # kept


def test_strict_stops_and_changes_nothing(repo: Path):
    before = contents(repo / "_site")
    (repo / "reports/ops/warehouse-delays.ipynb").write_text("not json")
    guide = repo / "reports/guides/metric-definitions.md"
    guide.write_text(guide.read_text() + "\nMore text.\n")
    proc = run_knowrepo("build", str(repo), "--strict", check=False)
    assert proc.returncode == 1
    assert len([line for line in proc.stderr.splitlines() if line.startswith("error:")]) == 1
    assert contents(repo / "_site") == before


def test_theme_override_falls_back_to_default(repo: Path):
    templates = repo / "themes/corporate/templates"
    templates.mkdir(parents=True)
    (templates / "report.html").write_text(
        '{% extends "base.html" %}{% block content %}<div class="corp">{{ meta.title }}</div>'
        "{{ body }}{% endblock %}"
    )
    config = repo / "knowrepo.toml"
    config.write_text(config.read_text().replace("[site]", '[site]\ntheme = "corporate"'))
    run_knowrepo("build", str(repo))
    report = BeautifulSoup((repo / "_site/product/churn-analysis/index.html").read_text(), "html.parser")
    assert report.select_one("div.corp").get_text() == "Customer churn by signup cohort"
    assert report.select_one(".topbar")  # base.html still comes from the default theme
    index = BeautifulSoup((repo / "_site/index.html").read_text(), "html.parser")
    assert len(index.select("article.card")) == 6


def test_sigkill_at_any_point_leaves_a_complete_site(tmp_path: Path, example_repo: Path):
    """E77: kill real builds at several moments: the published site is always the old one or
    the new one, complete, never a mix."""
    repo = copy_example(tmp_path / "repo", runs_from=example_repo)
    bulk = repo / "reports/bulk"
    bulk.mkdir()
    for n in range(60):  # enough work that the kills land in every phase
        (bulk / f"note-{n:02d}.md").write_text(f"# Note {n}\n\nText {n}.\n" + "Line.\n" * 200)
    run_knowrepo("build", str(repo))
    published = contents(repo / "_site")
    outcomes = set()
    for delay in (0.05, 0.3, 0.6, 0.9, 1.2, 1.6):
        for path in bulk.iterdir():
            path.write_text(path.read_text() + f"\nEdit {delay}.\n")
        proc = subprocess.Popen(
            [*KNOWREPO, "build", str(repo)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = contents(repo / "_site")
        if now == published:
            outcomes.add("old")
            continue
        outcomes.add("new")
        pages = {p for p in now if not p.startswith("pagefind/")}  # index files are named by content
        assert pages == {p for p in published if not p.startswith("pagefind/")}
        assert "pagefind/pagefind-entry.json" in now
        for n in range(60):
            assert f"Edit {delay}." in now[f"bulk/note-{n:02d}/index.html"].decode()
        published = now
    assert "old" in outcomes
    time.sleep(0.5)
    assert processes_mentioning(str(repo)) == [], "worker processes outlived their killed build"
    run_knowrepo("build", str(repo))  # the next build recovers
    assert "Edit 1.6." in (repo / "_site/bulk/note-00/index.html").read_text()
    assert len(version_folders(repo)) <= 2  # killed stagings cleaned up


def test_ctrl_c_leaves_the_previous_site(repo: Path):
    """E76: Ctrl-C during a build leaves the published site as it was."""
    before = contents(repo / "_site")
    for path in (repo / "reports").rglob("*.md"):
        path.write_text(path.read_text() + "\nInterrupted edit.\n")
    proc = subprocess.Popen(
        [*KNOWREPO, "build", str(repo), "--force"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    if proc.returncode == 130:
        assert "the published site and recorded runs are unchanged" in err
        assert contents(repo / "_site") == before
    else:  # it finished before the signal arrived: then it is the new, complete site
        assert proc.returncode == 0
        assert "Interrupted edit." in (repo / "_site/guides/metric-definitions/index.html").read_text()
    assert os.path.islink(repo / "_site")


def test_a_recycled_version_never_touches_the_published_one(repo: Path):
    """The third build stages in the folder of the first (renamed, emptied of what is gone):
    the published site it replaces keeps every byte, and it ends up exactly as a clean build."""
    guide = repo / "reports/guides/metric-definitions.md"
    guide.write_text(guide.read_text() + "\nSecond build.\n")
    run_knowrepo("build", str(repo))
    published = (repo / "_site").resolve()
    before = contents(published)
    (repo / "reports/ops/warehouse-delays.ipynb").unlink()
    guide.write_text(guide.read_text() + "\nThird build.\n")
    run_knowrepo("build", str(repo))
    assert contents(published) == before  # the previous version: not one byte written into it
    site = contents(repo / "_site")
    assert not [p for p in site if p.startswith("ops/")]
    assert "Third build." in site["guides/metric-definitions/index.html"].decode()
    # A fourth build recycles the second's folder, skipping what the manifest says is already
    # the very file of the third: the result must still be a clean build's, byte for byte.
    notes = repo / "reports/notes/q3-planning-notes.md"
    notes.write_text(notes.read_text() + "\nFourth build.\n")
    run_knowrepo("build", str(repo))
    site = contents(repo / "_site")
    clean = repo.parent / "clean"
    run_knowrepo("build", str(repo), "--output", str(clean))
    built = contents(clean)
    pages = {p for p in site if not p.startswith("pagefind/")}  # index files are named by content
    assert pages == {p for p in built if not p.startswith("pagefind/")}
    assert [p for p in pages if site[p] != built[p]] == []
    assert len([p for p in site if p.endswith(".pf_meta")]) == 1  # no stale index left behind
    assert len(version_folders(repo)) == 2
