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


KNOWLEDGE_REPO_MARKDOWN = """---
title: An unlisted note
authors: [Maria Lopez]
tags: [pricing]
created_at: 2016-05-01 08:00:00
tldr: Kept off the listing.
private: true
---
A note.
"""

PERCENT_SCRIPT = """# ---
# title: Regional sales script
# tags: [sales]
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Regional sales script
#
# Revenue for one region; see [the overview](../myst/overview.md).

# %% tags=["parameters"]
region = "EU"

# %%
#| echo: false
print("SALES-" + region)

# %%
from helpers import total
print("TOTAL-", total([1, 2, 3]))
"""

MYST_NOTEBOOK = """---
title: MyST overview
tags: [overview]
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# MyST overview

```{code-cell} ipython3
# A comment that is not a heading
print("MYST-" + "RAN")
```
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
    post = repo / "reports/kr/pricing.kp/knowledge.md"
    (post.parent / "images").mkdir(parents=True)
    post.write_text(KNOWLEDGE_REPO_HEADER)
    (post.parent / "images/first.png").write_bytes(png("red"))
    (post.parent / "images/second.png").write_bytes(png("green"))
    (post.parent / "orig_src").mkdir()
    (post.parent / "orig_src/pricing.ipynb").write_text("{}")  # knowledge-repo keeps the original
    (repo / "reports/kr/hidden.md").write_text(KNOWLEDGE_REPO_MARKDOWN)
    (repo / "reports/scripts").mkdir()
    (repo / "reports/scripts/regional.py").write_text(PERCENT_SCRIPT)
    (repo / "reports/scripts/helpers.py").write_text("def total(xs):\n    return sum(xs)\n")
    (repo / "reports/myst").mkdir()
    (repo / "reports/myst/overview.md").write_text(MYST_NOTEBOOK)
    (repo / "reports/myst/analysis.Rmd").write_text("---\ntitle: R\n---\n")
    (repo / "reports/_scratch.md").write_text("# Not published\n")
    build = run_knowrepo("build", "-v", str(repo))
    (repo / "build.log").write_text(build.stderr)
    return repo


def test_quarto_notebook_builds_with_its_header(migrated: Path):
    index = soup(migrated / "_site/index.html")
    card = next(c for c in index.select("article.card") if "Cohort retention" in c.get_text())
    assert [a.get_text() for a in card.select(".card-meta a")] == ["Ana Ruiz", "Ken Okafor"]
    assert card.select_one(".card-summary").get_text().strip() == "Retention by signup month."
    assert card.select_one(".card-meta").get_text().split(" · ")[-1].startswith("Run ")  # (dated by its run)
    thumb = card.select_one(".card-thumb img")["src"]
    assert colour_of(migrated / "_site" / thumb) == "blue"  # image: cover.png, not the red figure
    page = soup(migrated / "_site/quarto/cohorts/index.html")
    assert "The Q3 view" in page.get_text()
    assert "2026-09-15" in [t["datetime"] for t in page.select(".byline time")]  # its header's date
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
    page = soup(migrated / "_site/kr/pricing/index.html")  # pricing.kp/ is one report: kr/pricing
    images = page.select(".report-body img")
    assert len(images) == 2
    assert all((migrated / "_site/kr/pricing" / img["src"]).resolve().is_file() for img in images)
    assert (migrated / "_site/tags/pricing/index.html").is_file()
    assert not list((migrated / "_site").rglob("orig_src*"))
    hidden = soup(migrated / "_site/kr/hidden/index.html")  # private: true -> unlisted
    assert "Kept off the listing." in hidden.get_text()
    assert "An unlisted note" not in index.get_text()


def test_percent_script_and_myst_notebook_run_and_render(migrated: Path):
    script = soup(migrated / "_site/scripts/regional/index.html")
    assert script.title.get_text().startswith("Regional sales script")
    body = script.select_one(".report-body").get_text()
    assert "SALES-EU" in body and 'print("SALES-"' not in body  # ran; #| echo: false in a script
    assert "TOTAL- 6" in body  # it ran in its own folder: helpers.py imports
    assert "../../myst/overview/" in [a["href"] for a in script.select(".report-body a")]
    assert [a.get_text() for a in script.select("a") if a.get_text().startswith("Source")] == [
        "Source script"
    ]
    myst = soup(migrated / "_site/myst/overview/index.html")
    assert myst.title.get_text().startswith("MyST overview")
    assert "MYST-RAN" in myst.select_one(".report-body").get_text()
    run_knowrepo("run", "scripts/regional", "-p", "region=US", cwd=migrated)
    runs = json.loads(run_knowrepo("runs", "scripts/regional", "--json", cwd=migrated).stdout)
    assert {"region": "US"} in [r["params"] for r in runs if r["status"] == "ok"]
    listed = {r["slug"]: r for r in json.loads(run_knowrepo("list", "--json", cwd=migrated).stdout)}
    assert listed["scripts/regional"]["kind"] == "notebook" and listed["scripts/regional"]["last_run"] == "ok"


def test_files_that_are_not_reports_are_said_with_v(migrated: Path):
    log = (migrated / "build.log").read_text()
    assert "skipped reports/scripts/helpers.py: a Python file without '# %%' cells" in log
    assert "skipped reports/myst/analysis.Rmd: R Markdown" in log
    assert "skipped reports/_scratch.md: its name starts with '_'" in log
    assert "reports/quarto/cohorts.ipynb: fields for other tools, ignored: execute, format" in log
    assert not (migrated / "_site/scripts/helpers").exists() and not (migrated / "_site/scratch").exists()


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
        "warning": False,
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
