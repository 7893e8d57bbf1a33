"""pipeline/render/markdown.py (with syntax.py): Markdown and math to HTML, as Jupyter and
GitHub read them (E63, E79, E84 of docs/errors.md)."""

from __future__ import annotations

from bs4 import BeautifulSoup

from knowrepo.pipeline.render.markdown import (
    anchor_headings,
    first_paragraph,
    latex_output_to_html,
    math_to_html,
    plain_text,
    render_markdown,
)

# ---- moved from tests/test_parsing.py -------------------------------------------------------


def test_math_becomes_mathml_but_prices_and_code_stay_text():
    html = render_markdown("Cost $5 and $10. Formula $x^2$.\n\n$$\\frac{a}{b}$$\n\n`$y$`\n")
    assert "Cost $5 and $10." in html
    assert html.count("<math") == 2
    assert 'display="block"' in html
    assert "<code>$y$</code>" in html


def test_math_operators_are_operators():
    """latex2mathml writes \\pm and \\sim as identifiers (no space around them, an ASCII ~)."""
    html = render_markdown("$a \\pm b \\sim c \\setminus d$")
    assert "<mo>±</mo>" in html and "<mo>∼</mo>" in html and "<mo>∖</mo>" in html and "<mi>±" not in html


def test_headings_get_unique_anchors_and_a_toc():
    body, toc, first = anchor_headings("<h1>Title</h1><h2>Data</h2><h3>Data</h3><h2>End</h2>", "Title")
    assert "<h1" not in body  # the title block already shows it
    assert [(e.level, e.anchor) for e in toc] == [(2, "data"), (3, "data-2"), (2, "end")]
    assert first == "Title"


# ---- more of the same ---------------------------------------------------------------------------


def test_an_escaped_dollar_is_a_dollar_sign_and_display_math_has_its_own_block():
    html = render_markdown("It costs \\$5 and \\$6.\n\n\\[ a + b \\]\n")
    assert "It costs $5 and $6." in html and "<math" in html
    assert '<div class="math" tabindex="0">' in html and "<p><div" not in html


def test_math_keeps_its_tex_for_readers_and_search():
    html = math_to_html("x < y", display=False)
    assert (
        'alttext="x &lt; y"' in html
        and '<span class="visually-hidden" aria-hidden="true">x &lt; y</span>' in html
    )
    assert math_to_html("\\frac{", display=True) == '<code class="math-error">\\frac{</code>'


def test_a_latex_output_is_display_math_whatever_its_delimiters():
    for latex in ("$$x^2$$", "$x^2$", "\\[x^2\\]", "x^2"):
        assert 'display="block"' in latex_output_to_html(latex), latex


def test_E63_with_sanitize_raw_html_in_markdown_cannot_run_script():
    html = render_markdown('<script>x()</script><img src="a.png" onerror="y()">\n\n$x$\n', sanitize=True)
    assert "<script" not in html and "onerror" not in html and "<math" in html
    assert "<script>" in render_markdown("<script>x()</script>\n")  # (only sanitize removes it)


def test_E84_a_math_placeholder_written_by_an_author_is_text():
    html = render_markdown('<a title="KRMATH0KR">x</a> KRMATH7KR and $y$\n')
    assert 'title="KRMATH0KR"' in html and "KRMATH7KR" in html and html.count("<math") == 1


def test_tables_scroll_in_a_focusable_wrapper_and_code_is_highlighted():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = '$a$'\n```\n")
    assert '<div class="table-scroll" tabindex="0"><table>' in html
    assert '<div class="highlight">' in html and "<math" not in html


def test_a_fence_inside_a_list_item_is_code_and_the_list_goes_on():
    html = render_markdown("1. Install:\n   ```bash\n   pip install x\n   ```\n2. Run it\n")
    tree = BeautifulSoup(html, "html.parser")
    assert [li.get_text(" ", strip=True).split()[0] for li in tree.select("ol > li")] == ["Install:", "Run"]
    assert tree.select_one("ol li .highlight").get_text().strip() == "pip install x"


def test_two_space_nested_lists_nest_as_in_jupyter():
    tree = BeautifulSoup(render_markdown("- a\n  - b\n    - c\n- d\n\n1. x\n   1. y\n"), "html.parser")
    assert tree.select("ul > li > ul > li")[0].contents[0].strip() == "b"
    assert tree.select_one("ul > li > ul > li > ul > li").text == "c"
    assert tree.select_one("ol > li > ol > li").text == "y"


def test_a_heading_s_own_id_is_kept_and_a_repeated_one_renamed():
    body, toc, _ = anchor_headings('<h2 id="x">One</h2><h2 id="x">Two</h2><h2>¿Qué?</h2>')
    assert [e.anchor for e in toc] == ["x", "two", "qué"]
    assert body.count('id="x"') == 1


def test_the_title_heading_is_dropped_even_with_curly_quotes():
    body, _toc, first = anchor_headings("<h1>It\u2019s done \u2014 now</h1><p>x</p>", "It's done --- now")
    assert body == "<p>x</p>" and first == "It\u2019s done \u2014 now"


def test_the_first_paragraph_is_plain_text_cut_at_a_word():
    assert first_paragraph("<h2>x</h2><p>Hello <b>you</b> &amp; me</p><p>no</p>") == "Hello you & me"
    assert first_paragraph("<p>" + "word " * 100 + "</p>", limit=12) == "word word…"
    assert first_paragraph("<div>none</div>") == ""
    assert plain_text("<p>a<br>b</p>") == "a b"


# ---- GitHub's extensions -------------------------------------------------------------------------


def test_github_s_extensions_render_as_github_shows_them():
    html = render_markdown(
        "~~old~~ ~new~ www.example.com and a@b.org\n\n- [x] done\n- [ ] open\n\n"
        "A claim[^1].\n\n[^1]: The source.\n",
        sanitize=True,
    )
    tree = BeautifulSoup(html, "html.parser")
    assert [d.text for d in tree.select("del")] == ["old", "new"]
    assert [a["href"] for a in tree.select("p a")][:2] == ["http://www.example.com", "mailto:a@b.org"]
    boxes = tree.select("li input[type=checkbox][disabled]")  # (the sanitizer keeps them)
    assert [box.has_attr("checked") for box in boxes] == [True, False]
    assert tree.select_one("sup a").text == "1" and tree.select_one("section.footnotes li").text.startswith(
        "The source."
    )


def test_raw_inputs_are_inert_checkboxes_and_script_links_lead_nowhere():
    html = render_markdown('<input type="text" value="x"> [a](javascript:alert(1))\n', sanitize=True)
    assert '<input disabled="" type="checkbox">' in html and 'href=""' in html and "javascript" not in html


def test_an_input_without_a_type_is_no_text_field():
    """`<input>` (no type: a text field) passed the sanitizer as it was: a field on the page
    asking the reader for anything. Every raw input is a disabled checkbox."""
    html = render_markdown("<input>\n\nText <input placeholder=password>\n", sanitize=True)
    assert html.count('<input disabled="" type="checkbox">') == 2 and "placeholder" not in html


def test_a_formula_is_never_read_as_markdown_and_its_source_stays_where_no_math_goes():
    html = render_markdown("| a |\n|---|\n| $|x|$ |\n\n$a_1 * b_2 * c$ ![plot of $x$](p.png) [l](\\(u\\))\n")
    tree = BeautifulSoup(html, "html.parser")
    assert tree.select_one("td math")["alttext"] == "|x|" and not tree.select("em")
    assert tree.select_one("img")["alt"] == "plot of $x$" and tree.select("a")[-1]["href"] == "(u)"


def test_a_bare_environment_is_display_math_and_code_keeps_its_blank_lines():
    html = render_markdown("\\begin{aligned}\na &= b\n\\end{aligned}\n\n```\n\nx\n\n```\n")
    assert '<div class="math" tabindex="0"><math alttext="\\begin{aligned}' in html
    assert "<code>\nx\n\n</code>" in html


def test_a_formula_inside_an_environment_is_part_of_its_tex():
    html = render_markdown("\\begin{align}\nx &= \\text{share of $c_1$}\n\\end{align}\n")
    assert "KRMATH" not in html and html.count("<math") == 1 and "share of $c_1$" in html


def test_footnotes_of_two_cells_have_ids_of_their_own():
    one, two = (render_markdown(f"{word}[^1]\n\n[^1]: {word}.\n") for word in ("One", "Two"))
    ids = [BeautifulSoup(html, "html.parser").select_one("section.footnotes li")["id"] for html in (one, two)]
    assert (
        ids[0] != ids[1] and render_markdown("One[^1]\n\n[^1]: One.\n") == one
    )  # (the same text: the same ids)
    assert BeautifulSoup(one, "html.parser").select_one("sup a")["href"] == "#" + ids[0]


def test_formulas_in_a_myst_directive_body_are_math_but_code_directives_stay_code():
    from knowrepo.loader import load_registry
    from knowrepo.pipeline.render.markdown import markdown_syntax

    text = "```{note} Title\nInline $x^2$ here\n```\n\n```{code-cell}\nprint('$a$ and $b$')\n```\n"
    with markdown_syntax(load_registry()):
        html = render_markdown(text)
    assert 'alttext="x^2"' in html and "$x^2$" not in html
    assert "$a$ and $b$" in html and 'alttext="a"' not in html


def test_adversarial_markdown_renders_in_linear_time():
    """20 kB of backticks took minutes (the code-span part of syntax.MATH was cubic); unclosed
    `\\(`, `\\[`, fences, `\\begin{x}` lines and `<` in raw HTML were quadratic (each of these
    50 kB texts took from seconds to hours); now each renders in well under a second."""
    import time

    texts = ["`" * 50_000, "\\(" * 25_000, "\\[" * 25_000, "```x\n" * 10_000, "\\begin{a}\n" * 5_000]
    texts.append("<div>\n" + "<" * 50_000 + " $x$\n")  # (raw HTML around a formula: 20 kB took 20 s)
    for text in texts:
        started = time.perf_counter()
        render_markdown(text)
        assert time.perf_counter() - started < 5, text[:12]


def test_code_spans_fences_and_bracket_formulas_keep_their_meaning():
    html = render_markdown("``a`$x$`b`` and $y$\n\n\\[ a \\\\[2pt] b \\]\n")
    assert "<code>a`$x$`b</code>" in html and 'alttext="y"' in html
    assert html.count("<math") == 2 and "a \\\\[2pt] b</span>" in html
    unclosed = render_markdown("```\n$a$ is code to the end, as CommonMark reads it\n")
    assert "<math" not in unclosed and "$a$" in unclosed
