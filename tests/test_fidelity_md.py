"""The Markdown dialect end to end: `knowrepo check` names each place of a report whose
rendering changed with the dialect (E180), as a warning; a built page shows the prose as
JupyterLab and GitHub do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import run_knowrepo, serving, write_notebook

REPORT = """---
title: Findings
tags:
- q3
- churn
---
# Findings

Churn rose:
- in the EU
- in the US

To do:

- [x] checked
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dialect")
    (root / "knowrepo.toml").write_text('[site]\ntitle = "D"\n')
    (root / "reports").mkdir()
    (root / "reports/findings.md").write_text(REPORT)
    write_notebook(
        root / "reports/nb.ipynb", [("markdown", "# NB\n\nSteps:\n1. load\n2. fit"), ("code", "1")]
    )
    (root / "reports/steps.py").write_text(
        "# %% [markdown]\n# # Steps\n#\n# Steps:\n# - load\n# - fit\n\n# %%\nx = 1\n"
    )
    return root


def test_E180_check_warns_at_each_changed_place_and_passes(repo: Path):
    proc = run_knowrepo("check", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        "reports/findings.md:10: warning: a list right after a line of text was part of that paragraph,"
        " is now a list",  # (the front matter's list is YAML: not named)
        "reports/findings.md:15: warning: a task list item (- [ ] or - [x]) was text, is now a checkbox",
        "reports/nb.ipynb:cell 1: warning: line 4: a list right after a line of text was part of that"
        " paragraph, is now a list",
        "reports/steps.py:cell 1: warning: line 4: a list right after a line of text was part of that"
        " paragraph, is now a list",  # (a jupytext script's Markdown cell, as jupytext reads it)
    ]
    data = json.loads(run_knowrepo("check", "--json", cwd=repo).stdout)
    assert data["ok"] is True and all(p["warning"] for p in data["problems"])


def test_a_list_after_a_line_of_text_is_a_list_on_the_page(repo: Path):
    run_knowrepo("build", str(repo))
    body = BeautifulSoup((repo / "_site/findings/index.html").read_text(), "html.parser").select_one(
        ".report-body"
    )
    assert [li.get_text(strip=True) for li in body.select("ul")[0].find_all("li")] == [
        "in the EU",
        "in the US",
    ]
    box = body.select_one("li input[type=checkbox]")
    assert box is not None and box.has_attr("checked") and box.has_attr("disabled")  # (kept by the sanitizer)
    for slug in ("nb", "steps"):  # a notebook's Markdown cell and a jupytext script's, alike
        page = BeautifulSoup((repo / f"_site/{slug}/index.html").read_text(), "html.parser")
        assert [li.get_text(strip=True) for li in page.select(".report-body li")] == ["load", "fit"], slug


def test_task_lists_and_footnotes_pass_axe_in_light_and_dark(repo: Path, browser):
    from test_browser import serious_violations

    (repo / "reports/extras.md").write_text(
        "# Extras\n\n- [x] done\n- [ ] open\n\nA claim[^1] and ~~struck~~ text.\n\n[^1]: Its source.\n"
    )
    run_knowrepo("build", str(repo))
    with serving(repo / "_site") as base:
        for scheme in ("light", "dark"):
            context = browser.new_context(color_scheme=scheme)
            tab = context.new_page()
            tab.goto(base + "extras/")
            assert tab.locator(".task-list-item-checkbox").count() == 2
            assert serious_violations(tab) == [], scheme
            context.close()
