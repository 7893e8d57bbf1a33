"""Front matter, config and Markdown/math: the pure functions at the start of the pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowrepo.config import find_root, parse_config
from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.discover import slugify_path
from knowrepo.pipeline.frontmatter import expand_variants, parse_meta, split_markdown
from knowrepo.pipeline.render.markdown import anchor_headings, render_markdown


def test_front_matter_fields_are_normalised():
    meta = parse_meta("r.md", "title: Churn\nauthors: Ken\ntags: [a, b]\ncreated: 2026-01-02\nparams: {x: 1}")
    assert meta.title == "Churn"
    assert meta.authors == ("Ken",)
    assert meta.tags == ("a", "b")
    assert meta.created == "2026-01-02"
    assert meta.params == {"x": 1}


def test_unknown_front_matter_field_suggests_the_closest():
    with pytest.raises(KnowrepoError) as err:
        parse_meta("reports/x.md", "title: X\nauhtors: Ken")
    message = str(err.value)
    assert message.startswith("reports/x.md: line 3: unknown front-matter field 'auhtors'")
    assert "did you mean 'authors'" in message
    assert "\n" not in message
    with pytest.raises(KnowrepoError) as err:  # a far miss gets no suggestion
        parse_meta("reports/x.md", "colour: red")
    assert "did you mean" not in str(err.value)


def test_every_header_problem_of_a_file_at_once():
    from knowrepo.pipeline.frontmatter import FrontMatterProblems

    with pytest.raises(FrontMatterProblems) as err:
        parse_meta("r.md", "title: [x]\ncreated: 2026-02-30\ncolour: red\ntimeout: 0\n")
    assert [line for line, _message in err.value.problems] == [2, 3, 4, 5]


def test_quarto_and_knowledge_repo_fields_are_read_as_knowrepo_s():
    meta = parse_meta(
        "r.md",
        "title: Q\nauthor: [{name: Ana Ruiz, affiliation: Acme}, Ken]\ncategories: [churn]\n"
        "description: Short.\ndate: 2026-01-02\ndate-modified: 2026-02-03\nimage: fig.png\n"
        "format: html\nexecute: {echo: false}\nsubtitle: Sub\n",
    )
    assert (
        meta.authors,
        meta.tags,
        meta.summary,
        meta.created,
        meta.updated,
        meta.thumbnail,
        meta.subtitle,
    ) == (("Ana Ruiz", "Ken"), ("churn",), "Short.", "2026-01-02", "2026-02-03", "fig.png", "Sub")
    kr = parse_meta("k.md", "title: K\ntldr: T.\ncreated_at: 2016-01-01 10:00:00\nprivate: true\n"
                    "thumbnail: 2\npath: projects/x\nallowed_groups: [a]\n")  # fmt: skip
    assert (kr.summary, kr.created[:10], kr.unlisted, kr.thumbnail) == ("T.", "2016-01-01", True, "2")


def test_invalid_yaml_names_the_line():
    with pytest.raises(KnowrepoError) as err:
        parse_meta("reports/x.md", "title: X\ntags: [a, b\nsummary: y")
    assert "invalid YAML front matter at line" in str(err.value)


def test_bad_date_and_bad_code_mode_are_errors():
    with pytest.raises(KnowrepoError, match="must be a date"):
        parse_meta("r.md", "created: last tuesday")
    with pytest.raises(KnowrepoError, match="'code' must be one of show, fold, hide"):
        parse_meta("r.md", "code: collapse")


def test_variant_matrix_expands_in_key_order():
    variants = expand_variants("r.md", {"matrix": {"region": ["EU", "US"], "segment": ["smb", "Enterprise"]}})
    assert list(variants) == ["eu-smb", "eu-enterprise", "us-smb", "us-enterprise"]
    assert variants["us-smb"] == {"region": "US", "segment": "smb"}


def test_named_variants_and_bad_names():
    assert expand_variants("r.md", {"eu": {"region": "EU"}}) == {"eu": {"region": "EU"}}
    with pytest.raises(KnowrepoError, match="variant name"):
        expand_variants("r.md", {"e u!": {"region": "EU"}})


def test_markdown_front_matter_split():
    front, body = split_markdown("---\ntitle: A\n---\n# Body\n")
    assert front == "title: A"
    assert body == "# Body\n"
    assert split_markdown("# No front matter\n") == (None, "# No front matter\n")


def test_slugs_are_lowercase_url_safe_and_keep_folders():
    assert slugify_path("Sales/Q3 Review (final).ipynb") == "sales/q3-review-final"


def test_config_unknown_key_suggests_and_types_are_checked(tmp_path: Path):
    with pytest.raises(KnowrepoError, match="did you mean 'base_url'"):
        parse_config(tmp_path, '[site]\nbaseurl = "/kr/"\n')
    with pytest.raises(KnowrepoError, match=r"\[execute\] timeout must be int"):
        parse_config(tmp_path, '[execute]\ntimeout = "10"\n')
    config = parse_config(tmp_path, '[site]\nbase_url = "https://intra.example.com/kr"\n')
    assert config.site.base_path == "/kr/"
    assert config.site.absolute_url == "https://intra.example.com/kr/"


def test_repository_is_found_upward(tmp_path: Path):
    (tmp_path / "knowrepo.toml").write_text("")
    deep = tmp_path / "reports" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == tmp_path.resolve()
    with pytest.raises(KnowrepoError, match="no knowrepo.toml"):
        find_root(tmp_path.parent)


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
