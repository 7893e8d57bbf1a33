"""Mermaid fences, as JupyterLab 4.1+ and GitHub draw them: a diagram on the page (drawn by the
site's one mermaid.min.js, in the reader's theme, under the pages' Content-Security-Policy) and
in the PDF (the static SVG mermaidx draws at build time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from test_browser import serious_violations

from conftest import run_knowrepo, serving, write_notebook
from knowrepo.pipeline.render.mermaid import static_svg
from knowrepo.support.caches import Caches

FLOW = """---
title: Pipeline
---
How the data flows:

```mermaid
flowchart LR
    A[Raw data] --> B{Clean?}
    B -- yes --> C[Model]
    B -- no --> D[Fix & retry]
    D --> B
    C --> E((Weekly report))
```
"""
HOSTILE = """---
title: Hostile
---
Labels that try to run script, and a click callback:

```mermaid
flowchart TD
    X["<b onmouseover=alert(1)>Hostile</b><script>alert(2)</script> label"] --> Y[Safe]
    click Y call alert(3)
```

A directive that asks for Mermaid's loose mode:

```mermaid
%%{init: {"securityLevel": "loose"}}%%
flowchart TD
    P[Press] --> Q[Done]
    click P call alert(4)
```
"""
BAD = "---\ntitle: Bad\n---\nBefore.\n\n```mermaid\nflowchart LR\n  A-- ->\n```\n\nAfter.\n"
SEQUENCE = """A notebook cell:

```mermaid
sequenceDiagram
    Analyst->>Warehouse: query
    Warehouse-->>Analyst: rows
```"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mermaid") / "kb"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Diagrams"\n\n[pdf]\nenabled = true\n')
    (root / "reports/flow.md").write_text(FLOW)
    (root / "reports/bad.md").write_text(BAD)
    (root / "reports/hostile.md").write_text(HOSTILE)
    write_notebook(root / "reports/cells.ipynb", [("markdown", SEQUENCE)], front="title: Cells")
    return root


@pytest.fixture(scope="module")
def built(repo: Path) -> subprocess.CompletedProcess:
    return run_knowrepo("build", str(repo), "--execute", "never")  # (the notebook: its Markdown)


def body(repo: Path, slug: str) -> BeautifulSoup:
    page = BeautifulSoup((repo / f"_site/{slug}/index.html").read_text(), "html.parser")
    found = page.select_one(".report-body")
    assert found is not None
    return found


def test_each_fence_is_a_diagram_with_its_static_svg_and_the_site_ships_mermaid_once(repo, built):
    site = repo / "_site"
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("mermaid*.js")) == [
        "assets/mermaid.min.js"
    ]
    for slug, text in (("flow", "Weekly"), ("cells", "Warehouse")):
        static = body(repo, slug).select_one(".kr-mermaid[data-figure] img")
        assert static is not None and static["alt"].startswith("Diagram (")
        svg = (site / slug / static["src"]).resolve().read_text()
        assert svg.startswith("<?xml") and text in svg and "foreignObject" not in svg  # (WeasyPrint draws it)


def test_a_diagram_mermaid_cannot_draw_is_one_warning_and_its_source_with_a_note(repo, built):
    """E210 of docs/errors.md."""
    warnings = [line for line in built.stderr.splitlines() if "Mermaid" in line]
    assert warnings == [
        "warning: reports/bad.md: Mermaid diagram 1: Mermaid cannot draw it: Parse error on line 4:"
        " Expecting 'LINK', 'UNICODE_TEXT', 'EDGE_TEXT', got '1'"
    ]
    box = body(repo, "bad").select_one(".kr-mermaid")
    assert (
        box.select_one(".interactive-note").get_text()
        == "Mermaid could not draw this diagram: its source is shown."
    )
    assert box.select_one("pre.mermaid-source").get_text() == "flowchart LR\n  A-- ->\n"
    assert "After." in body(repo, "bad").get_text()  # (the rest of the report as usual)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_draws_diagrams_in_its_theme_under_its_csp_and_again_on_the_toggle(
    browser, repo, built, scheme, tmp_path
):
    context = browser.new_context(color_scheme=scheme)  # the pages' own Content-Security-Policy applies
    page = context.new_page()
    problems, outside = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
    page.on("request", lambda r: outside.append(r.url) if "127.0.0.1" not in r.url else None)

    def node_fill() -> str:
        return page.evaluate(
            "() => getComputedStyle(document.querySelector('.kr-mermaid.drawn svg .node rect, "
            ".kr-mermaid.drawn svg .node polygon')).fill"
        )

    with serving(repo / "_site") as base:
        page.goto(base + "flow/")
        page.wait_for_selector(".kr-mermaid.drawn svg")
        assert page.locator(".kr-mermaid > img, .kr-mermaid .interactive-note").count() == 0  # drawn over
        assert "Weekly report" in page.locator(".kr-mermaid.drawn").inner_text()
        assert serious_violations(page) == []  # (axe-core on the drawn diagram)
        first = node_fill()
        page.screenshot(path=str(tmp_path / f"mermaid-{scheme}.png"), full_page=True)
        page.click(".theme-toggle")
        for _ in range(100):  # (polled from here: wait_for_function's strings are refused by the CSP)
            if node_fill() != first:
                break
            page.wait_for_timeout(100)
        assert node_fill() != first  # drawn again in the other theme
        assert page.locator(".kr-mermaid.drawn svg").count() == 1
        page.goto(base + "cells/")  # a notebook's Markdown cell
        page.wait_for_selector(".kr-mermaid.drawn svg")
        assert "Warehouse" in page.locator(".kr-mermaid.drawn").inner_text()
    context.close()
    assert problems == [] and outside == []


def test_script_in_a_diagram_never_runs(browser, repo, built):
    """E212 of docs/errors.md: Mermaid draws with securityLevel strict (an init directive cannot
    loosen it) and its labels sanitised; site.js never binds a diagram's click callbacks; the
    static SVG is cleaned as any SVG; and the pages' CSP blocks the inline handler Mermaid's text
    measuring puts in the page for a moment (the one console error)."""
    static = body(repo, "hostile").select_one(".kr-mermaid img")
    svg = (repo / "_site/hostile" / static["src"]).resolve().read_text()
    assert "onmouseover" not in svg and "<script" not in svg and "alert(" not in svg
    context = browser.new_context()
    page = context.new_page()
    problems, dialogs = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with serving(repo / "_site") as base:
        page.goto(base + "hostile/")
        page.wait_for_selector(".kr-mermaid.drawn >> nth=1")
        assert page.locator(".kr-mermaid [onmouseover], .kr-mermaid script").count() == 0
        page.locator(".kr-mermaid b", has_text="Hostile").hover()
        page.locator(".kr-mermaid.drawn").first.locator("text=Safe").click()
        page.locator(".kr-mermaid.drawn").nth(1).locator("text=Press").click()  # (strict: Mermaid's own)
        page.wait_for_timeout(200)
    context.close()
    assert dialogs == []
    assert all("violates the following Content Security Policy" in p for p in problems), problems


def test_the_pdf_holds_each_diagram_drawn_and_the_source_of_one_mermaid_cannot_draw(repo, built, tmp_path):
    def text(pdf: Path) -> str:
        return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout

    drawn = text(repo / "_site/flow/flow.pdf")
    assert "Weekly report" in drawn and "Fix & retry" in drawn  # the SVG's own text, laid out by WeasyPrint
    assert "-->" not in drawn and "flowchart" not in drawn
    run_knowrepo("-C", str(repo), "pdf", "cells", "-o", str(tmp_path / "cells.pdf"))  # `knowrepo pdf` too
    assert "Warehouse" in text(tmp_path / "cells.pdf")
    bad = text(repo / "_site/bad/bad.pdf")
    assert "Mermaid could not draw this diagram" in bad and "A-- ->" in bad


def test_without_mermaidx_diagrams_are_their_source_with_a_note_and_one_warning(tmp_path: Path):
    """E211 of docs/errors.md."""
    root = tmp_path / "kb"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "D"\n')
    (root / "reports/flow.md").write_text(FLOW + "\n" + SEQUENCE + "\n")
    without = "import sys; sys.modules['mermaidx'] = None; from knowrepo.commands import command; command()"
    proc = subprocess.run(
        [sys.executable, "-c", without, "build", str(root)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if "Mermaid" in line] == [
        "warning: reports/flow.md: 2 Mermaid diagram(s) shown as their source: the mermaidx package,"
        " which ships Mermaid, is not installed (pip install mermaidx)"
    ]
    fallback = body(root, "flow").select(".mermaid-fallback")
    assert [box.select_one("pre").get_text().split("\n")[0] for box in fallback] == [
        "flowchart LR",
        "sequenceDiagram",
    ]
    assert not list((root / "_site").rglob("mermaid*.js"))


def test_mermaids_answer_is_cached_by_the_diagrams_text(tmp_path: Path):
    """E210: what Mermaid says of a text is asked once (its engine takes seconds a diagram)."""
    caches = Caches(tmp_path)
    svg, problem = static_svg("flowchart LR\n  A-- ->\n", caches)
    assert svg is None and problem is not None and problem.startswith("Mermaid cannot draw it: Parse error")
    assert [p.suffix for p in (tmp_path / "cache/diagrams").iterdir()] == [".error"]
    assert static_svg("flowchart LR\n  A-- ->\n", caches) == (None, problem)
    drawn, none = static_svg("graph TD\n  A --> B\n", caches)
    assert none is None and drawn is not None and static_svg("graph TD\n  A --> B\n", caches) == (drawn, None)
    assert static_svg("graph TD\n" + "  A --> B\n" * 6000, caches) == (
        None,
        "Mermaid cannot draw it: over 50,000 characters (Mermaid's limit)",
    )
