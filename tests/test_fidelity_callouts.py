"""Callouts through real builds: a Markdown report and a notebook's Markdown cells, each syntax on
the built page (through the sanitizer), in chromium (light and dark, axe-core, folding) and in
the PDF (E190, E191, E192 of docs/errors.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from PIL import Image
from test_browser import serious_violations

from conftest import run_knowrepo, serving, write_notebook

REPORT = """---
title: Callouts
---
Findings:

> [!NOTE]
> Useful information, with a [link](https://example.org) and `code`.

> [!WARNING]
> A second quote: a second callout.

!!! tip "A *MkDocs* title"
    Indented body:

    - one
    - two

!!! important ""
    No title.

??? caution "Folded"
    Hidden until opened.

???+ danger
    Open, and a caution.

:::{note} MyST colon fence
:class: dropdown
Folded by its class.
:::

```{warning}
MyST backtick fence.
```

::: {.callout-important}
## Quarto title
Quarto body.
:::

!!! foo
    Unknown type.

> [!DANGER]
> Not a GitHub alert.

::: {.callout-tip}
Never closed.
"""

CELL = "## In a notebook\n\n> [!TIP]\n> From a cell.\n\n::: {.callout-caution}\nQuarto in a cell.\n:::\n"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One repository with both kinds of report, built once: (repo, the build's stderr)."""
    repo = tmp_path_factory.mktemp("callouts") / "kb"
    run_knowrepo("init", str(repo))
    for sample in (repo / "reports").iterdir():
        sample.unlink()  # (init's examples: this build needs no kernel)
    (repo / "reports/callouts.md").write_text(REPORT)
    cells = [("markdown", CELL), ("markdown", "Text.\n\n!!! bogus\n    Unknown.\n")]
    write_notebook(repo / "reports/cells.ipynb", cells, front="title: Cells")
    build = run_knowrepo("build", str(repo))
    return repo, build.stderr


def page(repo: Path, slug: str) -> BeautifulSoup:
    return BeautifulSoup((repo / "_site" / slug / "index.html").read_text(), "html.parser")


def shape(callout) -> tuple[str, str, str | None, str, bool]:
    """(tag, classes, role, title, open) of a callout as built."""
    title = callout.find(class_="callout-title", recursive=False)
    return (
        callout.name,
        " ".join(callout["class"]),
        callout.get("role"),
        title.get_text(" ", strip=True) if title else "",
        callout.has_attr("open"),
    )


def test_every_syntax_keeps_its_shape_through_the_sanitizer(repo):
    body = page(repo[0], "callouts").find(class_="report-body")
    assert [shape(c) for c in body.select(".callout")] == [
        ("div", "callout callout-note", "note", "Note", False),
        ("div", "callout callout-warning", "note", "Warning", False),
        ("div", "callout callout-tip", "note", "A MkDocs title", False),
        ("div", "callout callout-important", "note", "", False),
        ("details", "callout callout-caution", None, "Folded", False),
        ("details", "callout callout-caution", None, "Danger", True),
        ("details", "callout callout-note", None, "MyST colon fence", False),
        ("div", "callout callout-warning", "note", "Warning", False),
        ("div", "callout callout-important", "note", "Quarto title", False),
        ("div", "callout callout-note", "note", "Foo", False),
    ]
    assert body.select_one("details.callout > summary.callout-title").get_text() == "Folded"
    assert [li.get_text() for li in body.select(".callout-tip li")] == ["one", "two"]
    assert body.select_one(".callout-tip .callout-title em").get_text() == "MkDocs"
    assert "Findings:" in body.p.get_text()
    assert "[!DANGER]" in body.blockquote.get_text()  # (a quote, as GitHub shows it)
    assert "::: {.callout-tip}" in body.get_text()  # (an unclosed div: text, as Pandoc shows it)


def test_notebook_cells_draw_callouts_too(repo):
    body = page(repo[0], "cells").find(class_="report-body")
    assert [shape(c) for c in body.select(".callout")] == [
        ("div", "callout callout-tip", "note", "Tip", False),
        ("div", "callout callout-caution", "note", "Caution", False),
        ("div", "callout callout-note", "note", "Bogus", False),
    ]
    assert "warning: reports/cells.ipynb: cell 3, line 3: callout type 'bogus' is not one" in repo[1]


def test_unknown_types_unclosed_fences_and_unknown_alerts_are_one_line_each_E190_E191_E192(repo):
    warnings = [line for line in repo[1].splitlines() if "reports/callouts.md" in line]
    assert any("line 41: callout type 'foo' is not one knowrepo knows" in line for line in warnings), warnings
    assert any("line 44: '[!DANGER]' is not a GitHub alert type" in line for line in warnings), warnings
    assert any("line 47: Quarto callout '::: {.callout-tip}' is never closed" in line for line in warnings), (
        warnings
    )
    assert all(line.startswith("warning: reports/callouts.md: ") for line in warnings), warnings
    check = run_knowrepo("-C", str(repo[0]), "check").stdout.splitlines()  # (warnings only: exit 0)
    assert "reports/callouts.md:41: warning: callout type 'foo' is not one knowrepo knows" in "\n".join(check)
    assert "reports/callouts.md:6: warning: '> [!NOTE]' was text, is now a callout (note)" in check
    assert (
        "reports/cells.ipynb:cell 3: warning: line 3: '!!! bogus' was text, is now a callout (note)" in check
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_callouts_pass_axe_and_fold_in_the_browser(repo, browser, scheme, tmp_path):
    """The theme the reader picked with the toggle (data-theme), over the system's opposite."""
    other = {"light": "dark", "dark": "light"}[scheme]
    context = browser.new_context(
        viewport={"width": 1100, "height": 900}, color_scheme=other, bypass_csp=True
    )
    context.add_init_script(f"localStorage.setItem('knowrepo-theme', '{scheme}')")
    page = context.new_page()
    with serving(repo[0] / "_site") as url:
        page.goto(url + "callouts/")
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        assert serious_violations(page) == []
        folded = page.locator("details.callout").first
        assert not folded.evaluate("d => d.open")
        folded.locator("summary").click()
        assert folded.evaluate("d => d.open")
        note = page.locator(".callout-note").first
        tint = note.evaluate("e => getComputedStyle(e).backgroundColor")
        assert tint == {"light": "rgb(238, 246, 255)", "dark": "rgb(18, 29, 47)"}[scheme]
        icon = "e => getComputedStyle(e.querySelector('.callout-title'), '::before').maskImage"
        assert note.evaluate(icon).startswith('url("data:image/svg+xml')
        page.screenshot(path=str(tmp_path / f"callouts-{scheme}.png"), full_page=True)
    context.close()


def test_the_pdf_draws_callouts_in_their_colours(repo, tmp_path):
    target = tmp_path / "callouts.pdf"
    run_knowrepo("-C", str(repo[0]), "pdf", "callouts", "-o", str(target))
    text = subprocess.run(["pdftotext", "-layout", str(target), "-"], capture_output=True, text=True).stdout
    assert "Hidden until opened." in text  # (a folded callout is printed open)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(target), str(tmp_path / "p")], check=True
    )
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    colours = {colour for _count, colour in image.getcolors(maxcolors=1 << 24) or []}
    for tint in [(0xEE, 0xF6, 0xFF), (0xFF, 0xF8, 0xD9), (0xED, 0xFB, 0xF0)]:  # note, warning, tip
        assert tint in colours
