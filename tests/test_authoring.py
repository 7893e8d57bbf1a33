"""Authoring and migrating: `knowrepo new`, `check` and `list`, and reports written for Quarto
and knowledge-repo that build unchanged, judged on the real built site."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from conftest import run_knowrepo, write_notebook

COLOURS = {"red": (220, 30, 30), "green": (20, 170, 40), "blue": (30, 60, 220)}


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (240, 160), COLOURS[colour]).save(out, "PNG")
    return out.getvalue()


def colour_of(path: Path) -> str:
    """Which of COLOURS an image (a card's thumbnail) mostly is."""
    pixel = Image.open(path).convert("RGB").resize((1, 1)).getpixel((0, 0))
    return min(COLOURS, key=lambda c: sum((a - b) ** 2 for a, b in zip(COLOURS[c], pixel, strict=True)))


FIGURE = (
    "from IPython.display import Image, display\nimport io\nfrom PIL import Image as P\n"
    "b = io.BytesIO(); P.new('RGB', (240, 160), {rgb}).save(b, 'PNG'); display(Image(b.getvalue()))"
)

QUARTO_HEADER = """
title: Cohort retention
subtitle: The Q3 view
author:
  - name: Ana Ruiz
    affiliation: Acme
  - Ken Okafor
categories: [churn, retention]
description: Retention by signup month.
date: 2026-09-01
date-modified: 2026-09-15
image: cover.png
format:
  html:
    code-fold: true
execute:
  warning: false
jupyter: python3
toc: true
bibliography: refs.bib
"""

KNOWLEDGE_REPO_HEADER = """---
title: Pricing experiment readout
authors:
  - ken_okafor
tags: [pricing, experiments]
created_at: 2016-06-29 10:00:00
updated_at: 2016-07-02 09:30:00
tldr: Price B won by 4 %.
thumbnail: 1
private: false
path: projects/pricing
allowed_groups: [analytics]
---
# Pricing experiment readout

![First](images/first.png)

![Second](images/second.png)
"""


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository of files written for other tools, built once."""
    repo = tmp_path_factory.mktemp("migrated")
    (repo / "knowrepo.toml").write_text("")
    quarto = repo / "reports/quarto"
    write_notebook(
        quarto / "cohorts.ipynb",
        [
            ("markdown", "Retention by month."),
            ("code", "#| include: false\nprint('INCLUDE-FALSE-' 'OUTPUT')  # INCLUDE-FALSE-CODE"),
            ("code", "#| echo: false\nprint('ECHO-FALSE-' 'OUTPUT')  # ECHO-FALSE-CODE"),
            ("code", "#| output: false\nprint('OUTPUT-FALSE-' 'OUTPUT')  # OUTPUT-FALSE-CODE"),
            ("code", "#| code-fold: true\n#| label: folded\nprint('FOLDED-' 'OUTPUT')  # FOLDED-CODE"),
            ("code", "#| tags: [remove-input]\nprint('TAGGED-' 'OUTPUT')  # TAGGED-CODE"),
            ("code", FIGURE.format(rgb=COLOURS["red"])),
        ],
        front=QUARTO_HEADER,
    )
    (quarto / "cover.png").write_bytes(png("blue"))
    post = repo / "reports/kr/pricing.md"
    (post.parent / "images").mkdir(parents=True)
    post.write_text(KNOWLEDGE_REPO_HEADER)
    (post.parent / "images/first.png").write_bytes(png("red"))
    (post.parent / "images/second.png").write_bytes(png("green"))
    run_knowrepo("build", str(repo))
    return repo


def test_quarto_notebook_builds_with_its_header(migrated: Path):
    index = soup(migrated / "_site/index.html")
    card = next(c for c in index.select("article.card") if "Cohort retention" in c.get_text())
    assert [a.get_text() for a in card.select(".card-meta a")] == ["Ana Ruiz", "Ken Okafor"]
    assert card.select_one(".card-summary").get_text().strip() == "Retention by signup month."
    assert card.select_one("time")["datetime"] == "2026-09-15"
    thumb = card.select_one(".card-thumb img")["src"]
    assert colour_of(migrated / "_site" / thumb) == "blue"  # image: cover.png, not the red figure
    page = soup(migrated / "_site/quarto/cohorts/index.html")
    assert "The Q3 view" in page.get_text()
    assert {a.get_text() for a in page.select("a[href*='tags/']")} >= {"churn", "retention"}


def test_quarto_cell_options_hide_what_they_say(migrated: Path):
    body = soup(migrated / "_site/quarto/cohorts/index.html").select_one(".report-body")
    text = body.get_text()
    assert "INCLUDE-FALSE" not in text  # (the printed marks are split in the code: 'A-' 'B')
    assert "ECHO-FALSE-OUTPUT" in text and "ECHO-FALSE-CODE" not in text
    assert "OUTPUT-FALSE-CODE" in text and "OUTPUT-FALSE-OUTPUT" not in text
    assert "TAGGED-OUTPUT" in text and "TAGGED-CODE" not in text
    folded = [d for d in body.select("details.code-fold") if "FOLDED-CODE" in d.get_text()]
    assert folded and "FOLDED-OUTPUT" in text
    assert "#|" not in text  # the option lines are not shown as code


def test_knowledge_repo_post_builds_with_its_header(migrated: Path):
    index = soup(migrated / "_site/index.html")
    card = next(c for c in index.select("article.card") if "Pricing experiment" in c.get_text())
    assert card.select_one(".card-summary").get_text().strip() == "Price B won by 4 %."
    assert card.select_one("time")["datetime"] == "2016-07-02"
    thumb = card.select_one(".card-thumb img")["src"]
    assert colour_of(migrated / "_site" / thumb) == "green"  # thumbnail: 1, the second figure
    page = soup(migrated / "_site/kr/pricing/index.html")
    images = page.select(".report-body img")
    assert len(images) == 2
    assert all((migrated / "_site/kr/pricing" / img["src"]).resolve().is_file() for img in images)
    assert (migrated / "_site/tags/pricing/index.html").is_file()


def test_check_lists_every_fault_in_one_pass(tmp_path: Path):
    (tmp_path / "knowrepo.toml").write_text("")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/a.md").write_text(
        "---\ntitle: A\ncreated: not a date\ntagz: [x]\nschedule: every blue moon\n---\n"
        "# A\n\nSee [b](b.md) and ![fig](img/missing.png).\n"
    )
    write_notebook(
        tmp_path / "reports/n.ipynb",
        [
            ("code", "region = 'EU'", ["parameters"]),
            ("markdown", "Look at [a](a.md) and [zz](zz.ipynb)."),
            ("code", "print(region)"),
        ],
        front="title: N\nparams:\n  regoin: US\ninputs: [data/*.csv]",
    )
    proc = run_knowrepo("check", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    expected = [
        ("reports/a.md:3: ", "'created' must be a date"),
        ("reports/a.md:4: ", "did you mean 'tags'"),
        ("reports/a.md:5: ", "not a cron line"),
        ("reports/a.md:9: ", "link to 'b.md' leads to no report"),
        ("reports/a.md:9: ", "image 'img/missing.png' is missing"),
        ("reports/n.ipynb: ", "inputs glob 'data/*.csv' matches no file"),
        ("reports/n.ipynb: ", "unknown parameter 'regoin'"),
        ("reports/n.ipynb:cell 3: ", "link to 'zz.ipynb' leads to no report"),
    ]
    for start, fault in expected:
        assert any(line.startswith(start) and fault in line for line in lines), (start, fault, lines)
    assert len(lines) == len(expected)
    report = json.loads(run_knowrepo("check", "--json", cwd=tmp_path, check=False).stdout)
    assert report["ok"] is False and len(report["problems"]) == len(expected)
    assert {k: v for k, v in report["problems"][-1].items() if k != "message"} == {
        "path": "reports/n.ipynb",
        "line": None,
        "cell": 3,
    }


def test_new_reports_pass_check_list_and_build(tmp_path: Path):
    run_knowrepo("init", str(tmp_path / "kb"))
    repo = tmp_path / "kb"
    made = run_knowrepo("new", "Churn by cohort", "--tags", "churn,q3", "--dir", "product", cwd=repo)
    path = repo / made.stdout.strip()
    assert path == repo / "reports/product/churn-by-cohort.ipynb"
    nb = json.loads(path.read_text())
    assert any("parameters" in c["metadata"].get("tags", []) for c in nb["cells"])
    note = run_knowrepo("new", "Notes: Q3 plan", "--template", "markdown", cwd=repo).stdout.strip()
    assert note == "reports/notes-q3-plan.md"
    assert 'tags: ["churn", "q3"]' in nb["cells"][0]["source"]
    assert run_knowrepo("new", "Churn by cohort", "--dir", "product", cwd=repo, check=False).returncode == 1
    assert run_knowrepo("check", cwd=repo).stdout == ""
    run_knowrepo("build", cwd=repo)
    listed = json.loads(run_knowrepo("list", "--json", cwd=repo).stdout)
    by_slug = {r["slug"]: r for r in listed}
    assert {"product/churn-by-cohort", "notes-q3-plan"} <= set(by_slug)
    assert by_slug["product/churn-by-cohort"]["title"] == "Churn by cohort"
    assert by_slug["product/churn-by-cohort"]["last_run"] == "ok"
    assert by_slug["notes-q3-plan"]["kind"] == "markdown"
    assert (repo / "_site/product/churn-by-cohort/index.html").is_file()
