"""Figures and tables that can be cited, cross-references, citations, end to end: a notebook
with a matplotlib figure run by a real kernel, a jupytext percent script, a Markdown report
with a CSL-JSON bibliography; `knowrepo build`, `check` and `pdf`; the page in chromium under
the site's Content-Security-Policy."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from test_browser import serious_violations

from conftest import run_knowrepo, serving, write_notebook

BIB = """@book{hyndman2021,
  author = {Hyndman, Rob J. and Athanasopoulos, George},
  title = {Forecasting: Principles and Practice},
  edition = {3}, publisher = {OTexts}, year = {2021}
}
@article{box1976,
  author = {Box, George E. P.}, title = {Science and Statistics},
  journal = {Journal of the American Statistical Association},
  volume = {71}, number = {356}, pages = {791--799}, year = {1976}
}
"""
PLOT = """#| label: fig-forecast
#| fig-cap: "Monthly sales, **forecast** to 2027"
#| fig-alt: "A line rising from 1 to 4"
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(4, 2.5))
ax.plot([1, 3, 2, 4])
plt.show()"""
TABLE = """#| label: tbl-summary
#| tbl-cap: Sales by quarter
from IPython.display import HTML
HTML("<table><tr><th>quarter</th><th>sales</th></tr><tr><td>Q1</td><td>10</td></tr></table>")"""
SCRIPT = """# ---
# title: Script figures
# jupyter:
#   kernelspec: {name: python3, display_name: Python 3, language: python}
# ---

# %% [markdown]
# As @fig-script shows.

# %%
#| label: fig-script
#| fig-cap: A figure from a percent script
import matplotlib.pyplot as plt
plt.plot([3, 1, 2])
plt.show()
"""
MYST = """---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13, jupytext_version: 1.16.0}
kernelspec: {name: python3, display_name: Python 3, language: python}
title: MyST notebook
---
# MyST notebook

See {numref}`myst-plot`.

```{code-cell} ipython3
---
mystnb:
  figure: {caption: A MyST-NB figure, name: myst-plot}
---
import matplotlib.pyplot as plt
plt.plot([1, 2, 1]); plt.show()
```
"""
NOTES = """---
title: Notes with citations
bibliography: refs.json
---
# Notes with citations

![A static plot](plot.png){#fig-static}

As @fig-static shows, and as @doe2020 argued [see @doe2020, pp. 33-35; @roe2019], it holds.

## Method {#sec-method}

See @sec-method and {numref}`directive-fig`.

```{figure} plot.png
:name: directive-fig

A MyST figure directive.
```
"""
CSL_JSON = [
    {"id": "doe2020", "type": "book", "title": "A Book", "publisher": "Press",
     "author": [{"family": "Doe", "given": "Jane"}], "issued": {"date-parts": [[2020]]}},
    {"id": "roe2019", "type": "article-journal", "title": "A Paper", "container-title": "Journal",
     "author": [{"family": "Roe", "given": "Rick"}], "issued": {"date-parts": [[2019]]}},
]  # fmt: skip
NO_TARGET = "no figure, table or section of the report"
NO_ENTRY = "no entry of the report's bibliography"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000"
    "1ff2ddb2a0e0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One repository, built once: the notebook and the script executed by a real kernel."""
    root = tmp_path_factory.mktemp("refs")
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Refs"\nbase_url = "/kr/"\n')
    reports = root / "reports"
    reports.mkdir()
    (reports / "refs.bib").write_text(BIB)
    (reports / "refs.json").write_text(json.dumps(CSL_JSON))
    (reports / "plot.png").write_bytes(PNG)
    write_notebook(
        reports / "forecast.ipynb",
        [
            (
                "markdown",
                "# Forecast\n\nAs @fig-forecast shows (and @tbl-summary), sales rise [@hyndman2021, p. 3].",
            ),
            ("code", PLOT),
            ("code", TABLE),
            ("markdown", "## Method {#sec-method}\n\n{numref}`fig-forecast` again; @box1976 agrees."),
        ],
        front="title: Forecast\nbibliography: refs.bib",
    )
    (reports / "script.py").write_text(SCRIPT)
    (reports / "notes.md").write_text(NOTES)
    (reports / "myst.md").write_text(MYST)
    run_knowrepo("build", "-j", "2", cwd=root)
    return root


def _body(repo: Path, slug: str) -> str:
    page = (repo / "_site" / slug / "index.html").read_text()
    return page[page.index('<div class="report-body') :]


def test_a_notebook_figure_from_a_real_kernel_is_numbered_captioned_and_cited(repo: Path) -> None:
    body = _body(repo, "forecast")
    figure = re.search(
        r'<figure class="kr-float kr-fig kr-cell-float" id="fig-forecast">(.*?)</figure>', body, re.S
    )
    assert figure, body
    assert 'alt="A line rising from 1 to 4"' in figure.group(1) and ".png" in figure.group(1)
    assert (
        '<figcaption><span class="kr-float-number">Figure 1</span>: Monthly sales, <strong>forecast</strong>'
        " to 2027</figcaption>"
    ) in figure.group(1)
    table = body.index('<figure class="kr-float kr-tbl kr-cell-float" id="tbl-summary"><figcaption>')
    assert body.index("Table 1</span>: Sales by quarter", table) < body.index("<table", table)  # above
    assert "#| " not in body and "fig-cap" not in body  # Quarto hides the option lines
    assert '<a class="kr-xref" href="#fig-forecast">Figure 1</a> shows' in body
    assert '<a class="kr-xref" href="#tbl-summary">Table 1</a>' in body
    assert "(Hyndman and Athanasopoulos, 2021, p. 3)" in re.sub("<[^>]+>", "", body)
    assert "Box (1976)</a></span> agrees" in body
    assert '<a class="kr-xref" href="#fig-forecast">Figure 1</a> again' in body
    assert body.count('class="csl-entry"') == 2 and 'id="ref-hyndman2021"' in body


def test_a_percent_script_a_myst_notebook_and_a_markdown_report_get_the_same(repo: Path) -> None:
    script = _body(repo, "script")
    assert 'id="fig-script"' in script and "Figure 1</span>: A figure from a percent script" in script
    assert '<a class="kr-xref" href="#fig-script">Figure 1</a> shows' in script
    myst = _body(repo, "myst")
    assert '<a class="kr-xref" href="#myst-plot">Figure 1</a>' in myst
    assert "Figure 1</span>: A MyST-NB figure</figcaption>" in myst
    notes = _body(repo, "notes")
    static = re.search(r'<figure class="kr-float kr-fig" id="fig-static"><img [^>]*>', notes)
    assert static and 'alt="A static plot"' in static.group(0)
    assert '<a class="kr-xref" href="#sec-method">Method</a>' in notes
    assert '<a class="kr-xref" href="#directive-fig">Figure 2</a>' in notes
    assert "Figure 2</span>: A MyST figure directive.</figcaption>" in notes
    assert "Doe (2020)</a></span> argued" in notes and "(Roe, 2019; see Doe, 2020, pp. 33–35)" in re.sub(
        "<[^>]+>", "", notes
    )
    toc = (repo / "_site/notes/index.html").read_text()
    assert 'href="#references-title"' in toc  # the References heading is in the page's contents


def test_references_to_nothing_are_named_by_check_and_build_e200_e201(repo: Path, tmp_path: Path) -> None:
    """E200, E201: a reference to no label and a citation of no key: one line each from
    `check` (with the line) and a warning from `build`; the page is still published."""
    (repo / "reports/broken.md").write_text(
        "---\ntitle: Broken\nbibliography: refs.bib\n---\n# Broken\n\n"
        "See @fig-gone.\n\nAs [@nobody2020] says.\n"
    )
    options = write_notebook(repo / "reports/options.ipynb", [("code", '#| fig-cap: "unclosed\nx = 1')])
    try:
        check = run_knowrepo("check", cwd=repo, check=False)
        assert check.returncode == 1
        assert check.stdout.splitlines() == [
            "reports/broken.md:7: the reference to 'fig-gone' leads to " + NO_TARGET,
            "reports/broken.md:9: the citation of 'nobody2020' leads to " + NO_ENTRY,
            "reports/options.ipynb:cell 1: its #| options are not YAML (found unexpected end of stream);"
            " ignored",  # E205, as check finds it
        ]
        options.unlink()
        build = run_knowrepo("build", cwd=repo)
        assert "warning: reports/broken.md: the reference to 'fig-gone' leads to no figure" in build.stderr
        assert "warning: reports/broken.md: the citation of 'nobody2020' leads to no entry" in build.stderr
        assert '<strong class="kr-xref-missing">?@fig-gone</strong>' in _body(repo, "broken")
    finally:
        (repo / "reports/broken.md").unlink()
        options.unlink(missing_ok=True)


def test_a_bibliography_that_does_not_parse_fails_its_report_only_e202(repo: Path) -> None:
    """E202: the report fails in one line naming the file; the others are published."""
    (repo / "reports/badbib.md").write_text("---\ntitle: Bad\nbibliography: bad.bib\n---\n[@x]\n")
    (repo / "reports/bad.bib").write_text("@book{x, title={unclosed\n")
    try:
        build = run_knowrepo("build", cwd=repo, check=False)
        assert build.returncode == 1
        assert (
            "error: reports/bad.bib: bibliography is not valid BibTeX: End of file while parsing string value"
        ) in build.stderr
        assert (repo / "_site/notes/index.html").exists() and not (repo / "_site/badbib").exists()
        check = run_knowrepo("check", cwd=repo, check=False)
        assert "reports/bad.bib: bibliography is not valid BibTeX" in check.stdout
    finally:
        (repo / "reports/badbib.md").unlink()
        (repo / "reports/bad.bib").unlink()


def test_a_missing_bibliography_is_a_warning_until_it_comes_e202(repo: Path) -> None:
    """E202: a bibliography file that is missing is a warning where the report cites (as a
    missing image is); the file's coming renders the report again."""
    (repo / "reports/later.md").write_text(
        "---\ntitle: Later\nbibliography: later.bib\n---\nAs [@box1976].\n"
    )
    try:
        build = run_knowrepo("build", cwd=repo)
        assert (
            "warning: reports/later.md: bibliography 'reports/later.bib': No such file or directory;"
            " its citations are not formatted"
        ) in build.stderr
        assert "?[@box1976]" in _body(repo, "later")
        (repo / "reports/later.bib").write_text(BIB)
        build = run_knowrepo("build", cwd=repo)
        assert "later" not in build.stderr and "(Box, 1976)" in re.sub("<[^>]+>", "", _body(repo, "later"))
    finally:
        (repo / "reports/later.md").unlink()
        (repo / "reports/later.bib").unlink(missing_ok=True)


def test_an_edit_to_the_bibliography_renders_the_report_again(repo: Path) -> None:
    """The bib file is an input of the report: a change to it re-renders it (and only it)."""
    bib = repo / "reports/refs.bib"
    bib.write_text(BIB.replace("Science and Statistics", "Science and Statistics, Revisited"))
    try:
        build = run_knowrepo("build", "--json", cwd=repo)
        assert json.loads(build.stdout)["rendered"] == 1
        assert "Science and Statistics, Revisited" in _body(repo, "forecast")
    finally:
        bib.write_text(BIB)
        run_knowrepo("build", cwd=repo)


def test_an_image_edited_in_place_is_the_one_the_page_shows(repo: Path) -> None:
    """E206: a page's key holds the files its body read: an image edited in place (not the card's
    thumbnail) renders the body again and the page with it (it kept the old image's URL, a
    file no longer published)."""
    (repo / "reports/two.md").write_text("# Two\n\n![first](plot.png)\n\n![second](second.png)\n")
    image = repo / "reports/second.png"
    Image.new("RGB", (2, 2), "blue").save(image)
    try:
        run_knowrepo("build", cwd=repo)
        Image.new("RGB", (2, 2), "red").save(image)
        run_knowrepo("build", cwd=repo)
        src = re.search(r'<img src="\.\./([^"]+)" alt="second"', _body(repo, "two"))
        assert src and (repo / "_site" / src.group(1)).read_bytes() == image.read_bytes()
    finally:
        (repo / "reports/two.md").unlink()
        image.unlink()


def test_the_pdf_holds_the_numbered_figure_and_the_references(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "forecast.pdf"
    run_knowrepo("pdf", "forecast", "-o", str(out), cwd=repo)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Figure 1: Monthly sales, forecast to 2027" in text
    assert "As Figure 1 shows (and Table 1)" in text and "Table 1: Sales by quarter" in text
    assert "References" in text and "Hyndman, R.J. and Athanasopoulos, G. (2021)" in text


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_under_its_csp_passes_axe_and_links_work(browser, repo: Path, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security" in message.text else None,
    )
    with serving(repo / "_site") as url:
        page.goto(url + "forecast/")
        page.wait_for_load_state("load")
        assert page.locator("figure#fig-forecast img").evaluate("img => img.naturalWidth > 0")
        page.locator("a.kr-xref", has_text="Figure 1").first.click()
        page.wait_for_function("location.hash === '#fig-forecast'")
        page.locator("a.kr-cite").first.click()
        page.wait_for_function("location.hash === '#ref-hyndman2021'")
        assert serious_violations(page) == []
    context.close()
    assert refused == []
