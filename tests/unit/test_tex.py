"""pipeline/render/tex.py and equations.py: math as MathJax draws it in JupyterLab, measured on
tests/corpus/formulas.json (E195-E197 of docs/errors.md)."""

from __future__ import annotations

import functools
import html
import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from knowrepo.pipeline.render.equations import drawable_mathml, drawable_parts, formula_html, number_equations
from knowrepo.pipeline.render.markdown import math_to_html, render_markdown
from knowrepo.pipeline.render.tex import math_page, tex_to_mathml

CORPUS = json.loads((Path(__file__).parents[1] / "corpus" / "formulas.json").read_text())
_HIDDEN = re.compile(r'<span class="visually-hidden"[^>]*>.*?</span>', re.S)


def shown_text(fragment: str) -> str:
    """The text a reader sees in a rendered formula (not its TeX kept for screen readers)."""
    return html.unescape(re.sub(r"<[^>]+>", "", _HIDDEN.sub("", fragment)))


def defects(fragment: str, tex: str) -> set[str]:
    """'error' (no MathML: the source as code, or <merror>), 'raw' (a \\command shown as text),
    'amp' (a literal & that the TeX did not escape as \\&)."""
    found = set()
    if "math-error" in fragment or "<merror" in fragment or "<math" not in fragment:
        found.add("error")
    text = shown_text(fragment)
    if re.search(r"\\[A-Za-z]", text):
        found.add("raw")
    if text.count("&") > tex.count("\\&"):
        found.add("amp")
    return found


@functools.cache
def rendered_corpus() -> list[tuple[dict[str, str], str]]:
    """Each formula of the corpus as the page shows it, a notebook a page (MathJax keeps a
    notebook's macros for its later cells), after its repository's preamble of macros."""
    out = []
    for (repo, _path), group in itertools.groupby(CORPUS["formulas"], key=lambda f: (f["repo"], f["path"])):
        with math_page():
            if repo in CORPUS["preambles"]:
                math_to_html(CORPUS["preambles"][repo], display=False)
            out += [(f, math_to_html(f["tex"], f["kind"] != "inline")) for f in group]
    return out


def test_the_corpus_renders_with_no_error_no_raw_tex_and_no_literal_ampersand():
    """1029 formulas from 5 public notebook repositories. Before tex.py: 123 raw TeX (104 of
    them without the preamble's macros); after: one, a macro its author never defined
    (\\bPhi: MathJax shows it in red too)."""
    results = rendered_corpus()
    assert len(results) >= 300
    found = Counter(kind for f, out in results for kind in defects(out, f["tex"]))
    left = [f["tex"] for f, out in results if defects(out, f["tex"])]
    assert found == Counter({"raw": 1}), left
    assert "\\bPhi" in left[0] and "\\bPhi" in shown_text(dict((f["tex"], o) for f, o in results)[left[0]])


def test_the_pdf_draws_a_sample_of_the_corpus_from_the_pages_mathml():
    """ziamath draws the page's own MathML (0.1 s a formula: a sample: environments, quotes in
    \\text, which ziamath once choked on in the TeX kept in alttext, and every 150th)."""
    import ziamath

    results = rendered_corpus()
    sample = [out for f, out in results if "\\begin" in f["tex"]][:5]
    sample += [out for f, out in results if '\\text{"' in f["tex"]][:1] + [out for _f, out in results[::150]]
    for out in sample:
        math = re.search(r"<math\b.*?</math>", out, re.S)
        assert math is not None
        for drawing in drawable_parts(math.group(0)):
            assert drawing is None or ziamath.Math(drawing).svg().startswith("<svg")


def test_aligned_is_a_table_aligned_at_the_ampersand_with_a_row_per_line():
    mathml = tex_to_mathml(r"\begin{aligned} a &= b + c \\ \operatorname{Var}(x) &= d \end{aligned}", True)
    assert "&amp;" not in mathml and "&" not in shown_text(mathml)
    assert mathml.count("<mtr>") == 2
    assert mathml.count('columnalign="right"') == 2 and mathml.count('columnalign="left"') == 2


def test_operatorname_is_an_upright_identifier_with_no_operator_space():
    """latex2mathml made <mo>Cov</mo> (spaced as a binary operator); MathJax makes <mi>Cov</mi>
    and an invisible function application."""
    mathml = tex_to_mathml(r"\operatorname{Cov}(X, Y) + \operatorname*{arg\,max}_\theta L", True)
    assert '<mi mathvariant="normal">Cov</mi><mo>\u2061</mo>' in mathml
    assert "<mo>Cov</mo>" not in mathml
    assert '<munder><mo movablelimits="true" form="prefix">arg\u2009max</mo>' in mathml


@pytest.mark.parametrize(
    "tex",
    [
        r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
        r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix} \begin{bmatrix} a \\ b \end{bmatrix}^\top",
        r"\begin{matrix} 1 & 0 \end{matrix} \begin{array}{lcr} a & b & c \end{array}",
        r"\begin{gather*} a \\ b \end{gather*} \mathbb{R}^n \text{ for } x \in \mathbb{E}",
        r"\left. \big\vert x \big\vert \right|_0 \arg\min_x f \textbackslash",
        r"f'(x) = \dfrac{1}{\cos^2(x)} + \log_2 n",
    ],
)
def test_each_construct_renders_with_no_defect_on_the_page_and_in_the_pdf(tex: str):
    import ziamath

    out = formula_html(tex, display=True)
    assert not defects(out, tex), shown_text(out)
    math = re.search(r"<math\b.*?</math>", out, re.S)
    assert math is not None and ziamath.Math(drawable_mathml(math.group(0))).svg().startswith("<svg")


def test_an_arrays_rules_are_cell_borders():
    """Chromium draws no columnlines or rowlines: the cells they border get classes the theme's
    CSS draws (the PDF, drawn by ziamath, shows no rules: left undone)."""
    mathml = tex_to_mathml(r"\begin{array}{cc|c} 1 & 2 & 3 \\ \hline 4 & 5 & 6 \end{array}", True)
    assert re.findall(r'<mtd columnalign="center"(?: class="([^"]*)")?>', mathml) == [
        "", "rule-right", "", "rule-top", "rule-right rule-top", "rule-top",
    ]  # fmt: skip


def test_a_matrix_with_a_script_is_one_base():
    """latex2mathml wrote an <msup> of four children, which neither Chromium nor ziamath draws."""
    mathml = tex_to_mathml(r"\begin{bmatrix} a & b \end{bmatrix}^\top", True)
    assert re.search(r"<msup><mrow><mo>\[</mo><mtable>.*</mtable><mo>\]</mo></mrow><mi>⊤</mi></msup>", mathml)


def page(markdown: str) -> tuple[str, list[str]]:
    with math_page():
        return number_equations(render_markdown(markdown))


def test_numbered_environments_are_numbered_in_order_and_references_link_to_them():
    body, problems = page(
        "By \\eqref{eq:sum} and $\\ref{eq:mass}$.\n\n"
        "\\begin{equation} E = mc^2 \\label{eq:mass} \\end{equation}\n\n"
        "$$\\begin{align*} x &= 1 \\end{align*}$$\n\n"  # starred: no number
        "\\begin{align}\na &= b \\label{eq:sum} \\\\\n  &= c \\notag \\\\\nd &= e \\tag{T}\n\\end{align}\n\n"
        "\\begin{gather} f \\\\ g \\end{gather}\n"
    )
    assert problems == []
    numbers = re.findall(r'<mtext class="eqno-\w+[^"]*"[^>]*>([^<]*)</mtext>', body)
    assert numbers == ["(1)", "(2)", "(T)", "(3)", "(4)"]
    assert '<a class="kr-eqref kr-ref-65713a73756d" href="#eq-eq-sum">(2)</a>' in body
    assert '<a class="kr-ref kr-ref-65713a6d617373" href="#eq-eq-mass">1</a>' in body
    assert 'id="eq-eq-mass">(1)</mtext>' in body and 'id="eq-eq-sum">(2)</mtext>' in body


def test_E195_a_reference_to_no_label_shows_question_marks_and_is_one_line():
    body, problems = page("See \\eqref{eq:nowhere} and $x = \\eqref{eq:nowhere}$.\n")
    assert body.count("(???)") == 2
    assert problems == [
        "\\eqref{eq:nowhere}: no equation is labelled 'eq:nowhere' (shown as (???), as MathJax does)"
    ]


def test_E196_a_formula_that_cannot_be_converted_is_its_tex_and_is_named():
    body, problems = page("$$\\frac{$$\n")
    assert '<code class="math-error">\\frac{</code>' in body
    assert problems == ["formula could not be drawn (shown as its TeX): \\frac{"]


def test_E197_an_undefined_command_is_red_and_named_once():
    body, problems = page("$\\foo + \\foo$ and $\\bar{x}$\n")
    assert body.count('<mtext class="tex-undefined">\\foo</mtext>') == 2
    assert problems == [
        "\\foo: no such TeX command, nor a \\newcommand before it on the page (shown in red, as MathJax does)"
    ]


def test_a_macro_defined_in_one_formula_serves_the_later_ones_of_the_page():
    body, problems = page(
        "$\\newcommand{\\bx}{\\mathbf{x}}$\n\nThen $\\bx$ and\n\n\\begin{align} \\bx &= 1 \\end{align}\n"
    )
    assert problems == [] and body.count("𝐱") == 2 and "(1)" in body
    with math_page():
        assert "tex-undefined" in tex_to_mathml("\\bx", False)  # (a new page: not defined there)


def test_a_bare_equation_environment_in_markdown_is_display_math():
    body, _problems = page(
        "Text\n\n\\begin{equation}\nx = 1\n\\end{equation}\n\nand `\\begin{equation}` as code.\n"
    )
    assert body.count("<math") == 1 and "(1)" in body and "<code>\\begin{equation}</code>" in body


def test_the_pdf_draws_numbers_and_text_safely():
    """The MathML the PDF draws is the page's: numbers filled, no HTML entities, no column of
    the page's centring; \\text{<script>} stays text."""
    import ziamath

    body, _ = page("\\begin{align} a &= b \\label{x} \\\\ \\text{<b>bold</b>} &= c \\end{align}\n")
    math = drawable_mathml(re.search(r"<math\b.*?</math>", body, re.S).group(0))  # type: ignore[union-attr]
    assert "eqpad" not in math and "(1)" in math and "(2)" in math and "<b>" not in math
    assert ziamath.Math(math).svg().startswith("<svg")


def test_symbols_primes_and_function_names_are_spaced_as_tex_spaces_them():
    """latex2mathml spaced \\infty and \\partial as operators, raised a prime twice, and put
    nothing between \\cos and its operand ("cosX")."""
    mathml = tex_to_mathml(r"f'(x) + \cos x + \sin(x) + \partial_t u \to \infty", False)
    assert "<mrow><mi>f</mi><mi>&#x02032;</mi></mrow>" in mathml
    assert '<mi>cos</mi><mo rspace="0.1667em">&#x2061;</mo><mi>x</mi>' in mathml
    assert "<mi>sin</mi><mo stretchy" in mathml  # (no space before a parenthesis)
    spaced = tex_to_mathml(r"\log_2 n", False)
    assert '<msub><mi>log</mi><mn>2</mn></msub><mo rspace="0.1667em">&#x2061;</mo><mi>n</mi>' in spaced
    assert "<mi>&#x0221E;</mi>" in mathml and '<mi mathvariant="normal">&#x02202;</mi>' in mathml


def test_E198_a_label_used_twice_keeps_one_id_and_is_named():
    body, problems = page(
        "\\begin{equation} a \\label{x} \\end{equation}\n\n\\begin{equation} b \\label{x} \\end{equation}\n\n"
        "See \\eqref{x}.\n"
    )
    assert body.count('id="eq-x"') == 1 and "(1)" in body and "(2)" in body
    assert '<a class="kr-eqref kr-ref-78" href="#eq-x">(1)</a>' in body
    assert problems == ["\\label{x} is used twice on the page (references go to the first)"]


def test_colours_stay_and_nothing_else_gets_through():
    """\\color and \\colorbox as MathJax draws them; the sanitizer keeps MathML colours only."""
    out = formula_html(r"\color{red}{x} + \colorbox{yellow}{y} + \text{<img src=x onerror=alert(1)>}", False)
    assert 'mathcolor="red"' in out and 'mathbackground="yellow"' in out
    assert "<img" not in out and "&lt;img" in out  # (the text, escaped)


def test_an_authors_own_operators_and_macros_win_over_knowrepos_mending():
    """\\argmax and \\P are MathJax's own only when the page does not define them."""
    with math_page():
        assert tex_to_mathml(
            r"\DeclareMathOperator*{\argmax}{arg\,max} \newcommand{\P}{\mathbb{P}}", False
        ).endswith("<mrow /></math>")  # (a definition draws nothing)
        mathml = html.unescape(
            tex_to_mathml(r"\DeclareMathOperator{\Tr}{Tr} \argmax_x f + \P(A) + \Tr A", True)
        )
    assert '<munder><mo movablelimits="true" form="prefix">arg\u2009max</mo><mi>x</mi></munder>' in mathml
    assert "<mi>ℙ</mi>" in mathml and "¶" not in mathml and '<mi mathvariant="normal">Tr</mi>' in mathml


def test_operators_in_scripts_take_no_space_as_in_tex_script_style():
    """Chromium spaced "n → ∞" under a lim as wide as on the line."""
    mathml = tex_to_mathml(r"\lim_{n \to \infty} a_n = \sum_{i=1}^{n} x_i", True)
    assert mathml.count('lspace="0em" rspace="0em"') == 2
    assert "<mo>&#x0003D;</mo>" in mathml or "<mo>=</mo>" in mathml  # (the = on the line keeps its space)
