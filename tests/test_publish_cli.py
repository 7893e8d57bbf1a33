"""What a new user meets on the command line and in listings (issue 27's last bullet): `list`
and `runs` under a header, the kind of each source, names that name nothing answered with what
was meant, a Markdown report that has nothing to run, every fault of knowrepo.toml, one author
per person, and nothing of the `new` template's meant for its author on a page (E270-E277 of
docs/errors.md). Real `python -m knowrepo` processes, one small repository for the module, one
kernel run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import run_knowrepo

SCRIPT = """\
# ---
# title: Regional sales
# authors: [sarah.chen]
# variants: {eu: {region: EU}, us: {region: US}}
# ---

# %% [markdown]
# # Regional sales

# %% tags=["parameters"]
region = "EU"
month = "2026-11"

# %%
print(region, month)
"""

MYST = """\
---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
title: Cohorts
authors: ken_okafor
---
# Cohorts

Prose only: a MyST notebook with no code cell.
"""

NOTE = """\
---
title: A note
authors: [ken.okafor]
---
# A note

Some text.
"""

FULL = """\
---
title: Both spellings
authors: [Ken Okafor, sarah.chen]
---
# Both spellings

More text.
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository of a percent script (two variants), a MyST notebook and two Markdown
    reports; the script's eu variant run once, then built."""
    root = tmp_path_factory.mktemp("cli") / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "CLI"\nbase_url = "/kr/"\n')
    (root / "reports/sales.py").write_text(SCRIPT)
    (root / "reports/cohorts.md").write_text(MYST)
    (root / "reports/note.md").write_text(NOTE)
    (root / "reports/both.md").write_text(FULL)
    run_knowrepo("run", "sales", "--variant", "eu", cwd=root)
    run_knowrepo("build", "--execute", "never", "--allow-failed-runs", cwd=root)
    return root


def page(repo: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((repo / "_site" / path).read_text(), "html.parser")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def run_ids(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo / "runs").glob("*/*/2*"))


def test_list_and_runs_print_a_header_over_aligned_columns_and_list_names_each_kind(repo: Path):
    header, *rows = run_knowrepo("list", cwd=repo).stdout.splitlines()  # (a pipe)
    assert header.split() == ["REPORT", "KIND", "TITLE", "VARIANTS", "LAST", "RUN", "WHEN"]
    start = header.index("KIND")
    kinds = {row.split()[0]: row[start:].split("  ")[0] for row in rows}
    assert kinds == {"both": "markdown", "cohorts": "myst notebook", "note": "markdown", "sales": "script"}
    title = header.index("TITLE")
    assert {row[title:].split("  ")[0] for row in rows} == {
        "Both spellings",
        "Cohorts",
        "A note",
        "Regional sales",
    }
    header, *rows = run_knowrepo("runs", "sales", cwd=repo).stdout.splitlines()
    assert header.split()[:4] == ["RUN", "ID", "REPORT", "VARIANT"]
    assert [row.split()[:3] for row in rows] == [[run_ids(repo)[0], "sales", "eu"]]
    assert rows[0][header.index("STATUS") :].startswith("ok ")


def test_E270_E271_E272_a_name_that_names_nothing_says_what_was_meant(repo: Path):
    before = run_ids(repo)
    proc = run_knowrepo("run", "sales", "-p", "mnth=2026-10", cwd=repo, check=False)
    assert proc.returncode == 1 and error_lines(proc.stderr) == [
        "error: reports/sales.py: unknown parameter 'mnth' (did you mean 'month'?); valid parameters:"
        ' region: str = "EU"; month: str = "2026-11"'
    ]
    proc = run_knowrepo("run", "sales", "--variant", "ue", cwd=repo, check=False)
    assert error_lines(proc.stderr) == [
        "error: reports/sales.py: no variant 'ue' (did you mean 'eu'?); variants: eu, us"
    ]
    proc = run_knowrepo("runs", "sales", "--variant", "ue", cwd=repo, check=False)
    assert error_lines(proc.stderr) == [
        "error: reports/sales.py: no runs of variant 'ue' (did you mean 'eu'?); variants with runs: eu"
    ]
    (run_id,) = before
    proc = run_knowrepo("run", "--from", run_id[:15], cwd=repo, check=False)  # its start, as git takes
    assert error_lines(proc.stderr) == [
        f"error: '{run_id[:15]}' is not a run id (did you mean '{run_id}'?) (see `knowrepo runs`)"
    ]
    typo = run_id[:-2] + run_id[-1] + run_id[-2]
    proc = run_knowrepo("run", "--from", typo, cwd=repo, check=False)
    assert error_lines(proc.stderr) == [
        f"error: {repo / 'runs'}: no run with id {typo} (did you mean '{run_id}'?)"
    ]
    proc = run_knowrepo("pdf", "sales", "--run", run_id[:15], "-o", str(repo / "pdf"), cwd=repo, check=False)
    assert error_lines(proc.stderr) == [
        f"error: reports/sales.py: no run {run_id[:15]} of this report (did you mean '{run_id}'?)"
    ]
    assert run_ids(repo) == before  # no kernel started


def test_E273_run_on_a_markdown_report_says_it_has_nothing_to_run(repo: Path):
    for name in ("note", "reports/note.md"):
        proc = run_knowrepo("run", name, cwd=repo, check=False)
        assert proc.returncode == 1 and error_lines(proc.stderr) == [
            "error: reports/note.md: is a Markdown report: it has no code, so nothing to run"
            " (`knowrepo build` publishes it)"
        ]
    proc = run_knowrepo("run", "nope", cwd=repo, check=False)
    assert error_lines(proc.stderr) == ["error: no report 'nope'"]


def test_E274_every_fault_of_knowrepo_toml_is_a_line_naming_the_file_and_the_key(tmp_path: Path):
    root = tmp_path / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "reports/a.md").write_text("# A\n")
    (root / "knowrepo.toml").write_text('[site]\ntitle = "T"\ncode = "folded"\n[execute]\ntimout = 5\n')
    config = (root / "knowrepo.toml").resolve()
    code = "[site] code must be one of show, fold, hide, not 'folded'"
    key = "unknown key in [execute] 'timout' (did you mean 'timeout'?); valid: "
    built = run_knowrepo("build", cwd=root, check=False)
    lines = error_lines(built.stderr)
    assert built.returncode == 1 and len(lines) == 2, built.stderr
    assert lines[0] == f"error: {config}: {code}" and lines[1].startswith(f"error: {config}: {key}")
    assert not (root / "_site").exists() and "Traceback" not in built.stderr
    checked = run_knowrepo("check", cwd=root, check=False)  # (as it lists a front matter's faults)
    lines = checked.stdout.splitlines()
    assert checked.returncode == 1 and len(lines) == 2, checked.stdout + checked.stderr
    assert lines[0] == f"knowrepo.toml: {code}" and lines[1].startswith(f"knowrepo.toml: {key}")
    problems = json.loads(run_knowrepo("check", "--json", cwd=root, check=False).stdout)["problems"]
    assert [(p["path"], p["message"][:20]) for p in problems] == [
        ("knowrepo.toml", code[:20]),
        ("knowrepo.toml", key[:20]),
    ]


def test_E275_one_author_per_person_on_cards_pages_author_pages_and_the_search_filter(repo: Path):
    authors = page(repo, "authors/index.html")
    listed = {
        a.get_text(): a.find_next("span", class_="count").get_text() for a in authors.select("main li a")
    }
    assert listed == {"Ken Okafor": "3", "Sarah Chen": "2"}  # (was: ken.okafor, Ken Okafor, ken_okafor...)
    assert sorted(p.name for p in (repo / "_site/authors").iterdir() if p.is_dir()) == [
        "ken-okafor",
        "sarah-chen",
    ]
    ken = page(repo, "authors/ken-okafor/index.html")
    assert ken.select_one("h1").get_text(strip=True) == "Ken Okafor" and len(ken.select(".card")) == 3
    index = page(repo, "index.html")
    names = {a.get_text() for a in index.select(".card .author")}
    assert names == {"Ken Okafor", "Sarah Chen"}
    both = page(repo, "both/index.html")
    assert [m["content"] for m in both.select('meta[data-pagefind-filter="author[content]"]')] == [
        "Ken Okafor",
        "Sarah Chen",
    ]
    assert [a.get_text() for a in both.select(".byline .author")] == ["Ken Okafor", "Sarah Chen"]
    search = page(repo, "search/index.html")
    options = [o.get_text() for o in search.select('select[name="author"] option')]
    assert options == ["Anyone", "Ken Okafor (3)", "Sarah Chen (2)"]
    assert "ken.okafor" not in (repo / "_site/feed.xml").read_text()


def test_E276_each_source_kind_is_named_on_its_page_download_and_card(repo: Path):
    expected = {
        "sales": ("Python script (jupytext percent format)", "Source script", "Script"),
        "cohorts": ("MyST Markdown notebook", "Source MyST notebook", "MyST notebook"),
        "note": ("Markdown", "Source Markdown", "Note"),
    }
    index = page(repo, "index.html")
    for slug, (label, download, card) in expected.items():
        shown = page(repo, f"{slug}/index.html")
        source = next(dt for dt in shown.select(".byline dt") if dt.get_text() == "Source")
        assert source.find_next("dd").get_text() == label, slug
        assert download in [a.get_text() for a in shown.select(".downloads a")], slug
        link = index.select_one(f'.card a[href="{slug}/"]')
        assert link is not None, slug
        kind = link.find_parent(class_="card").select_one(".card-kind")
        assert kind is not None and kind.get_text() == card, slug
    assert "Jupyter notebook" not in (repo / "_site/sales/index.html").read_text()


def test_E277_the_new_template_publishes_nothing_meant_for_its_author(tmp_path: Path):
    run_knowrepo("init", str(tmp_path / "kb"))
    repo = tmp_path / "kb"
    said = {}
    for template in ("notebook", "script", "markdown"):
        proc = run_knowrepo("new", f"A {template}", "--template", template, cwd=repo)
        said[proc.stdout.strip()] = proc.stderr  # (the path alone on stdout)
    run_knowrepo("build", "--execute", "never", cwd=repo)
    site = (repo / "_site").resolve()
    for slug in ("a-notebook", "a-script", "a-markdown", "first-analysis"):
        text = BeautifulSoup((site / slug / "index.html").read_text(), "html.parser").get_text(" ")
        text = re.sub(r"\s+", " ", text)
        for boilerplate in (
            "knowrepo run REPORT",
            "Parameters:",
            "The question this",
            "Write here",
            "Write the",
        ):
            assert boilerplate not in text, (slug, boilerplate)
        assert "region" in text or slug == "a-markdown"  # (the parameters cell's code is shown)
    cards = (site / "index.html").read_text()
    assert "question this" not in cards and "Write" not in cards
    # What the author needs is said to the author, on the terminal:
    assert said["reports/a-notebook.ipynb"] == (
        "reports/a-notebook.ipynb: made; write it, then `knowrepo build` publishes it;"
        " `knowrepo run reports/a-notebook.ipynb -p region=US` runs it with other values\n"
    )
    assert (
        said["reports/a-markdown.md"]
        == "reports/a-markdown.md: made; write it, then `knowrepo build` publishes it\n"
    )
