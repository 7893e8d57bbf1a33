"""Figures and tables that can be cited, cross-references and citations: the pure parts (cell
options, numbering, citation syntax and formatting, what `check` reads in sources)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from knowrepo.loader import load_registry
from knowrepo.pipeline.render.assets import AssetStore
from knowrepo.pipeline.render.citations import (
    Cite,
    cite_references,
    load_references,
    parse_bracketed,
    source_citations,
)
from knowrepo.pipeline.render.crossref import (
    notebook_labels,
    resolve_references,
    source_labels,
    source_references,
)
from knowrepo.pipeline.render.dialect import dialect_changes
from knowrepo.pipeline.render.floats import CellFloat, cell_float, cell_options, figure, make_floats
from knowrepo.pipeline.render.htmltext import map_prose
from knowrepo.pipeline.render.markdown import markdown_syntax, render_markdown
from knowrepo.pipeline.render.prepare import NotebookPreparer
from knowrepo.plugins import BodyContext

from .helpers import error_line

BIB = """@book{hyndman2021,
  author = {Hyndman, Rob J. and Athanasopoulos, George},
  title = {Forecasting: Principles and Practice},
  publisher = {OTexts}, year = {2021}, edition = {3}
}
@article{Box1976,
  author = {Box, George E. P.}, title = {Science and Statistics},
  journal = {JASA}, volume = {71}, pages = {791--799}, year = {1976}
}
"""


def _ctx(tmp_path: Path, source: str = "r.md", warnings: list[str] | None = None) -> BodyContext:
    def read(rel: str) -> bytes:
        return (tmp_path / rel).read_bytes()

    return BodyContext(
        source=source, root=str(tmp_path), title="T", sanitize=True, asset_prefix="", asset=lambda d, s: "",
        read=read, warn=(warnings if warnings is not None else []).append,
    )  # fmt: skip


# ---- cell options ---------------------------------------------------------------------------


def test_quarto_options_are_read_as_quarto_reads_them_and_leave_the_code() -> None:
    cell = {
        "source": '#| label: fig-forecast\n#| fig-cap: "Sales: forecast"\n#| fig-alt: A rising line\nplot()'
    }
    options, problem = cell_options(cell)
    assert problem == "" and cell["source"] == "plot()"
    spec = cell_float(options, {})
    assert spec == CellFloat("fig", "fig-forecast", "Sales: forecast", (), ("A rising line",))


def test_a_label_alone_is_no_float_unless_it_names_a_figure_or_table() -> None:
    assert cell_float({"label": "load-data"}, {}) is None
    assert cell_float({"label": "fig-x"}, {}) == CellFloat("fig", "fig-x", "")
    assert cell_float({"tbl-cap": "Totals"}, {}) == CellFloat("tbl", "", "Totals")


def test_subcaptions_give_each_figure_a_label_and_a_letter() -> None:
    spec = cell_float({"label": "fig-pair", "fig-cap": "Two", "fig-subcap": ["Left", "Right"]}, {})
    assert spec is not None and spec.subcaptions == ("Left", "Right")
    assert spec.labels == ["fig-pair", "fig-pair-1", "fig-pair-2"]


def test_mystnb_figure_metadata_is_read_as_myst_nb_users_write_it() -> None:
    meta = {"mystnb": {"figure": {"caption": "Fish", "name": "fun-fish"}, "image": {"alt": "A fish"}}}
    assert cell_float({}, meta) == CellFloat("fig", "fun-fish", "Fish", (), ("A fish",))


def test_options_that_are_not_yaml_are_named_e205() -> None:
    """E205: `#| fig-cap: "unclosed` is reported, not silently dropped."""
    cell = {"source": '#| fig-cap: "unclosed\nplot()'}
    options, problem = cell_options(cell)
    assert options == {} and problem.startswith("its #| options are not YAML")
    assert cell["source"] == "plot()"


# ---- numbering and references ---------------------------------------------------------------


def test_floats_are_numbered_by_kind_in_document_order_and_references_link(tmp_path: Path) -> None:
    body = (
        "<p>See @fig-b, @tbl-t, [-@fig-a], @sec-m and {numref}<code>Fig. %s &lt;fig-a&gt;</code>.</p>"
        + figure("fig", "fig-a", "First", "<img alt='' src='a.png'>")
        + figure("tbl", "tbl-t", "Totals", "<table></table>")
        + figure("fig", "", "Unnumbered", "<img alt='' src='u.png'>")
        + figure("fig", "fig-b", "Second", "<img alt='' src='b.png'>")
        + '<h2 id="sec-m">Method &amp; data</h2>'
    )
    warnings: list[str] = []
    out = resolve_references(body, _ctx(tmp_path, warnings=warnings))
    assert warnings == []
    assert '<a class="kr-xref" href="#fig-b">Figure 2</a>' in out
    assert '<a class="kr-xref" href="#tbl-t">Table 1</a>' in out
    assert '<a class="kr-xref" href="#fig-a">1</a>' in out  # [-@fig-a]: the number alone
    assert '<a class="kr-xref" href="#sec-m">Method &amp; data</a>' in out
    assert '<a class="kr-xref" href="#fig-a">Fig. 1</a>' in out
    assert '<figcaption><span class="kr-float-number">Figure 2</span>: Second' in out
    assert "<figcaption>Unnumbered</figcaption>" in out and "data-kr-" not in out.replace("data-kr-for", "")


def test_a_reference_to_nothing_is_one_warning_e200(tmp_path: Path) -> None:
    """E200: the reference shows as Quarto shows it, and the warning names the label."""
    warnings: list[str] = []
    out = resolve_references("<p>@fig-gone and @fig-gone.</p>", _ctx(tmp_path, "reports/a.md", warnings))
    assert out.count('<strong class="kr-xref-missing">?@fig-gone</strong>') == 2
    assert warnings == [
        "reports/a.md: the reference to 'fig-gone' leads to no figure, table or section of the report"
    ]


def test_references_in_code_links_and_addresses_are_left_alone(tmp_path: Path) -> None:
    body = '<p><code>@fig-x</code> <a href="#">@fig-x</a> ana@fig-x.com</p><pre>@fig-x</pre>'
    assert resolve_references(body, _ctx(tmp_path)) == body


def test_a_label_given_twice_is_a_warning_e204(tmp_path: Path) -> None:
    """E204: two floats with one label: the references go to the first."""
    warnings: list[str] = []
    body = figure("fig", "fig-a", "One", "") + figure("fig", "fig-a", "Two", "") + "<p>@fig-a</p>"
    out = resolve_references(body, _ctx(tmp_path, "r.md", warnings))
    assert warnings == ["r.md: label 'fig-a' is given twice; references go to the first"]
    assert 'href="#fig-a">Figure 1</a>' in out


def test_markdown_images_tables_and_headings_become_floats_and_targets(tmp_path: Path) -> None:
    body = (
        '<p><img alt="A plot" src="p.png">{#fig-p fig-alt="Line"}</p>'  # a parser without attributes
        '<p><img alt="Other" id="fig-q" src="q.png"></p>'  # one with them
        "<table><tr><td>1</td></tr></table>\n<p>: Totals {#tbl-t}</p>"
        "<h2>Method {#sec-m}</h2><p>(tgt)=</p><h3>Target</h3>"
    )
    out = make_floats(body, _ctx(tmp_path))
    assert '<figure class="kr-float kr-fig" id="fig-p"' in out and 'alt="Line"' in out
    assert '<figure class="kr-float kr-fig" id="fig-q"' in out and 'id="fig-q" src' not in out
    assert out.index("<figcaption>") < out.index("<table>")  # a table's caption above it
    assert '<h2 id="sec-m">Method</h2>' in out and '<h3 id="tgt">Target</h3>' in out


def test_map_prose_never_edits_tags_or_attribute_values() -> None:
    body = '<p title="@a > b">@a <b>@a</b></p><code>@a</code>'
    assert (
        map_prose(body, lambda text: text.replace("@a", "X"))
        == '<p title="@a > b">X <b>X</b></p><code>@a</code>'
    )


# ---- citations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        ("@key", [Cite("key")]),
        ("@key, p. 3", [Cite("key", locator=("page", "3"))]),
        ("see @a, pp. 33-35; also @b, chap. 1", [
            Cite("a", "see", locator=("page", "33-35")), Cite("b", "also", locator=("chapter", "1"))]),
        ("-@key", [Cite("key", bare=True)]),
        ("@key, and more", [Cite("key", suffix=", and more")]),
        ("mail ana@example.com", None),
        ("no key here", None),
    ],
)  # fmt: skip
def test_bracketed_citations_are_read_as_pandoc_reads_them(inner: str, expected: list[Cite] | None) -> None:
    assert parse_bracketed(inner) == expected


def test_citations_are_formatted_with_a_reference_list(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(BIB)
    (tmp_path / "r.md").write_text("---\nbibliography: refs.bib\n---\n")
    body = "<p>As @hyndman2021 shows [@Box1976, p. 3; @hyndman2021], @nobody wrote.</p><code>@Box1976</code>"
    out = cite_references(body, _ctx(tmp_path))
    assert 'href="#ref-hyndman2021" role="doc-biblioref">Hyndman and Athanasopoulos (2021)</a>' in out
    assert "(Box, 1976, p. 3; Hyndman and Athanasopoulos, 2021)" in re.sub("<[^>]+>", "", out)
    assert 'href="#ref-box1976" role="doc-biblioref">Box, 1976, p. 3</a>; <a' in out  # each item its link
    assert "@nobody" in out and "<code>@Box1976</code>" in out  # a narrative non-key, code: text
    assert out.index('id="ref-box1976"') < out.index('id="ref-hyndman2021"')  # by author
    assert '<h2 id="references-title">References</h2>' in out


def test_an_unknown_key_is_one_warning_e201(tmp_path: Path) -> None:
    """E201: [@nokey] shows as ?[@nokey]; the warning names the key."""
    (tmp_path / "refs.bib").write_text(BIB)
    (tmp_path / "r.md").write_text("---\nbibliography: refs.bib\n---\n")
    warnings: list[str] = []
    out = cite_references("<p>[@nokey]</p>", _ctx(tmp_path, warnings=warnings))
    assert '<strong class="kr-cite-missing">?[@nokey]</strong>' in out
    assert warnings == ["r.md: the citation of 'nokey' leads to no entry of the report's bibliography"]


def test_a_bibliography_that_does_not_parse_is_one_line_naming_it_e202(tmp_path: Path) -> None:
    """E202: a BibTeX or CSL-JSON file that does not parse, named in one line."""
    line = error_line(load_references, "reports/refs.bib", b"@book{x, title={unclosed")
    assert (
        line == "reports/refs.bib: bibliography is not valid BibTeX: End of file while parsing string value"
    )
    line = error_line(load_references, "reports/refs.json", b"[{")
    assert line.startswith("reports/refs.json: bibliography is not valid CSL-JSON: ")


def test_a_csl_json_bibliography_and_a_missing_style_e203(tmp_path: Path) -> None:
    """E203: `csl:` naming no file of the repository fails the report in one line."""
    (tmp_path / "refs.json").write_text(
        '[{"id": "doe", "type": "book", "title": "T", "author": [{"family": "Doe", "given": "J"}],'
        ' "issued": {"date-parts": [[2020]]}}]'
    )
    (tmp_path / "r.md").write_text("---\nbibliography: refs.json\n---\n")
    assert 'data-cites="doe">(<a class="kr-cite" href="#ref-doe" role="doc-biblioref">Doe, 2020</a>)' in (
        cite_references("<p>[@doe]</p>", _ctx(tmp_path))
    )
    (tmp_path / "r.md").write_text("---\nbibliography: refs.json\ncsl: apa.csl\n---\n")
    line = error_line(cite_references, "<p>[@doe]</p>", _ctx(tmp_path))
    assert line == "r.md: csl 'apa.csl': cannot read apa.csl: No such file or directory"


# ---- what check reads -----------------------------------------------------------------------


def test_check_reads_labels_and_references_from_sources_leaving_code_out() -> None:
    text = "![P](p.png){#fig-p}\n\n## M {#sec-m}\n\n(tgt)=\n# T\n\n"
    text += "See @fig-p, {ref}`x <tgt>`.\n\n```\n@fig-code\n```\n"
    assert source_labels(text) == {"fig-p", "sec-m", "tgt"}
    assert [label for _at, label in source_references(text)] == ["fig-p", "tgt"]
    assert source_citations("See [@a; @b, p. 2] and `[@c]`.") == [(4, "a"), (4, "b")]
    cell = {"cell_type": "code", "source": "#| label: fig-x\n#| fig-cap: X\nplot()", "metadata": {}}
    setup = {"cell_type": "code", "source": "#| label: setup\nx = 1", "metadata": {}}
    assert notebook_labels({"cells": [cell, setup]}) == {"fig-x"}


def test_check_does_not_call_quartos_ids_attribute_lists_now_text() -> None:
    """`{#sec-x}`, `{#fig-x}`, `: Caption {#tbl-x}` are read by the 'floats' pass: no E180 line."""

    text = (
        "## Method {#sec-m}\n\n![A](a.png){#fig-a}\n\n| a |\n|---|\n| 1 |\n\n: Cap {#tbl-t}\n\nText {: .x}\n"
    )
    assert [line for line, _what in dialect_changes(text)] == [10]


def test_the_myst_figure_directive_is_a_numbered_figure_and_other_fences_stay_code(tmp_path: Path) -> None:
    text = (
        "See {numref}`my-fig`.\n\n```{figure} plot.png\n:name: my-fig\n:alt: A plot\n:width: 300px\n\n"
        "The **caption**.\n\nA legend.\n```\n\n```python\nx = 1\n```\n"
    )
    with markdown_syntax(load_registry()):
        rendered = render_markdown(text, sanitize=True)
    out = resolve_references(make_floats(rendered, _ctx(tmp_path)), _ctx(tmp_path))
    assert '<a class="kr-xref" href="#my-fig">Figure 1</a>' in out
    assert (
        '<figure class="kr-float kr-fig" id="my-fig"><img src="plot.png" alt="A plot" width="300">'
        '<figcaption><span class="kr-float-number">Figure 1</span>: The <strong>caption</strong>.'
        "</figcaption>"
        '<div class="legend"><p>A legend.</p>\n</div></figure>'
    ) in out
    assert '<span class="n">x</span>' in out  # (a fence of another kind: highlighted code as before)


def test_a_myst_figure_on_a_page_with_footnotes_lists_them_once_at_the_end() -> None:
    """The directive's caption and legend were parsed with the page's footnotes: each listed
    them all again, inside the figure (and twice as many `id`s)."""
    text = "A note[^n].\n\n```{figure} plot.png\nThe caption.\n\nA legend.\n```\n\n[^n]: The note.\n"
    with markdown_syntax(load_registry()):
        rendered = render_markdown(text, sanitize=True)
    assert rendered.count('class="footnotes"') == 1
    assert rendered.index("</figure>") < rendered.index("footnotes")


def test_prepare_marks_captioned_outputs_and_never_a_marker_the_file_holds(tmp_path: Path) -> None:
    """The float marker is knowrepo's to write: one in the notebook's own metadata goes."""
    output = {
        "output_type": "execute_result",
        "data": {"text/plain": "1"},
        "metadata": {},
        "execution_count": 1,
    }

    def cell(source: str, metadata: dict) -> dict:
        return {"cell_type": "code", "source": source, "metadata": metadata, "outputs": [output]}

    forged = {"knowrepo_float": "--><img src=x onerror=alert(1)><!--"}
    nb = {"cells": [cell("#| tbl-cap: Totals\nx", {}), cell("y", forged)], "metadata": {}}
    preparer = NotebookPreparer(AssetStore(tmp_path), "", "show", "", registry=load_registry())
    prepared, _images = preparer.prepare(nb)
    first, second = prepared["cells"]
    assert json.loads(html.unescape(first["metadata"]["knowrepo_float"]))["caption"] == "Totals"
    assert first["source"] == "x" and "knowrepo_float" not in second["metadata"]


TINY_CSL = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><title>Tiny numeric</title><id>tiny</id><category citation-format="numeric"/>
    <updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation><layout prefix="[" suffix="]" delimiter=", "><text variable="citation-number"/></layout>
  </citation>
  <bibliography><layout suffix="."><text variable="citation-number" prefix="[" suffix="] "/>
    <names variable="author"><name/></names><text variable="title" prefix=", "/></layout></bibliography>
</style>
"""


def test_a_csl_style_of_the_repository_numbers_citations_in_the_order_they_are_read(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(BIB)
    (tmp_path / "styles").mkdir()
    (tmp_path / "styles/tiny.csl").write_text(TINY_CSL)
    (tmp_path / "r.md").write_text("---\nbibliography: refs.bib\ncsl: styles/tiny.csl\n---\n")
    out = cite_references("<p>As @hyndman2021 said [@Box1976; @hyndman2021].</p>", _ctx(tmp_path))
    text = re.sub("<[^>]+>", "", out)
    assert "As Hyndman and Athanasopoulos [1] said [1, 2]." in text
    assert "[1] Rob J. Hyndman, George Athanasopoulos, Forecasting: Principles and Practice." in text


def test_an_id_is_read_within_its_own_heading_only(tmp_path: Path) -> None:
    body = "<h2>A</h2><p>text</p><h2>B {#sec-b}</h2>"
    assert make_floats(body, _ctx(tmp_path)) == '<h2>A</h2><p>text</p><h2 id="sec-b">B</h2>'


def test_narrative_citations_of_an_organisation_or_of_no_author(tmp_path: Path) -> None:
    (tmp_path / "refs.json").write_text(
        '[{"id": "who", "type": "report", "author": [{"literal": "World Health Organization"}],'
        ' "issued": {"date-parts": [[2020]]}, "title": "Report"},'
        ' {"id": "anon", "type": "book", "title": "Anonymous"}]'
    )
    (tmp_path / "r.md").write_text("---\nbibliography: refs.json\n---\n")
    text = re.sub("<[^>]+>", "", cite_references("<p>@who and @anon say.</p>", _ctx(tmp_path)))
    assert text.startswith("World Health Organization (2020) and (Anonymous, no date) say.")
