"""Math as MathJax draws it in JupyterLab, end to end: a Markdown report and a notebook built
into a site and a PDF, the page laid out by chromium (light and dark), the PDF by WeasyPrint
(E195-E197 of docs/errors.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import run_knowrepo, serving, write_notebook

REPORT = r"""---
title: Formulas
---

$\newcommand{\bx}{\mathbf{x}}$

By \eqref{eq:mass}, energy is mass; \eqref{eq:fit} fits $\operatorname{Cov}(X, Y)$ and \eqref{eq:gone}.

\begin{equation}
E = mc^2 \label{eq:mass}
\end{equation}

$$
\begin{aligned}
\hat\beta &= (X^\top X)^{-1} X^\top y \\
\operatorname{Var}(\hat\beta) &= \sigma^2 (X^\top X)^{-1}
\end{aligned}
$$

\begin{align}
f(x) &= (x + 1)^2 \label{eq:fit} \\
     &= x^2 + 2x + 1 \nonumber \\
g(x) &= \sum_{i=1}^{n} \bx_i \tag{A}
\end{align}

$$|x| = \begin{cases} x & x \ge 0 \\ -x & \text{otherwise} \end{cases} \quad
A = \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix} \quad \mathbb{R}^n \quad \bPhi$$
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    kb = tmp_path_factory.mktemp("math") / "kb"
    run_knowrepo("init", str(kb))
    for starter in (kb / "reports").iterdir():
        starter.unlink()
    (kb / "reports/formulas.md").write_text(REPORT)
    write_notebook(
        kb / "reports/cells.ipynb",
        [
            ("markdown", "$\\newcommand{\\R}{\\mathbb{R}}$ Then (\\ref{eq:one}) below."),
            ("markdown", "\\begin{equation}\\label{eq:one} x \\in \\R \\end{equation}"),
        ],
        front="title: Cells",
    )
    proc = run_knowrepo("build", str(kb), "--pdf", "--execute", "never")
    return kb, proc.stderr + proc.stdout


def test_E195_E197_the_build_names_the_report_once_per_problem(built: tuple[Path, str]):
    _kb, output = built
    lines = [line for line in output.splitlines() if "reports/formulas.md:" in line]
    assert any("\\eqref{eq:gone}: no equation is labelled 'eq:gone'" in line for line in lines), output
    assert any("\\bPhi: no such TeX command" in line for line in lines), output
    assert len(lines) == 2 and "cells.ipynb:" not in output, output


def test_the_page_numbers_equations_aligns_at_the_ampersand_and_links_references(
    built: tuple[Path, str], page, tmp_path: Path
):
    kb, _output = built
    with serving(kb / "_site") as url:
        page.set_viewport_size({"width": 1000, "height": 900})
        page.goto(url + "formulas/")
        body = page.locator(".report-body")
        assert body.locator("a.kr-eqref").all_inner_texts() == ["(1)", "(2)", "(???)"]
        assert body.locator("mtext.eqno-auto, mtext.eqno-tag").all_text_contents() == ["(1)", "(2)", "(A)"]
        width = body.bounding_box()["width"]  # type: ignore[index]
        left = body.bounding_box()["x"]  # type: ignore[index]
        for number in body.locator("mtext.eqno-auto, mtext.eqno-tag").all():
            box = number.bounding_box()
            assert box is not None and box["x"] + box["width"] > left + width - 40  # at the right margin
        # aligned: the = of both rows in one column, the rows one under the other
        equals = (
            page.locator(".report-body .math").nth(1).locator("mtd[columnalign='left'] > mo:first-of-type")
        )
        boxes = [box for box in (e.bounding_box() for e in equals.all()) if box]
        assert (
            len(boxes) == 2 and abs(boxes[0]["x"] - boxes[1]["x"]) < 1 and boxes[1]["y"] > boxes[0]["y"] + 10
        )
        # ... and the left sides set flush right against it (Chromium needs -webkit-right)
        lasts = page.locator(".report-body .math").nth(1).locator("mtd[columnalign='right'] > :last-child")
        rights = [box["x"] + box["width"] for box in (e.bounding_box() for e in lasts.all()) if box]
        assert len(rights) == 2 and abs(rights[0] - rights[1]) < 1, rights
        assert "&" not in (page.locator(".report-body .math math").nth(1).text_content() or "")
        for theme in ("light", "dark"):
            page.evaluate(f"document.documentElement.setAttribute('data-theme', '{theme}')")
            body.screenshot(path=str(tmp_path / f"math-{theme}.png"))
        page.goto(url + "cells/")
        assert page.locator(".report-body a.kr-ref").inner_text() == "1"
        assert page.locator(".report-body mtext.eqno-auto").text_content() == "(1)"


def test_the_pdf_draws_every_formula_with_its_numbers(built: tuple[Path, str]):
    kb, _output = built
    pdf = kb / "_site/formulas/formulas.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    # Every formula drawn (ziamath's glyphs are paths, not text): none left as its TeX source.
    assert "By (1), energy is mass; (2) fits" in " ".join(text.split()) and "(???)" in text
    assert "\\begin" not in text and "\\hat" not in text and "\\operatorname" not in text, text
