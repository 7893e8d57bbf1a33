"""pipeline/frontmatter.py: front matter YAML read into Meta, every problem one line (E28-E41,
E72, E86, E87, E124, E130-E133, E137, E150 of docs/errors.md)."""

from __future__ import annotations

import pytest

from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.frontmatter import (
    FrontMatterProblems,
    expand_variants,
    front_matter_span,
    ignored_fields,
    notebook_front_matter,
    parse_meta,
    split_markdown,
)
from knowrepo.pipeline.masking import mask_front_matter, mask_notebook
from unit.helpers import error_line

# ---- moved from tests/test_parsing.py -------------------------------------------------------


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


# ---- the catalogue's rows, message by message ------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "title: a\ntags: [x",
            "invalid YAML front matter at line 3: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "created: 2026-02-30",
            "line 2: front matter 'created' must be a date like 2026-10-31, not '2026-02-30'",
        ),
        ("params: {1: a}", "front matter 'params' has the key 1, which is not text; quote it"),
        (
            "params: {x: 99999999999999999999999}",
            "front matter 'params.x' is an integer too large to store (77 bits); quote it as text",
        ),
        (
            'params: {x: "\\ud800"}',
            "front matter 'params.x' holds an invalid character (a lone UTF-16 surrogate)",
        ),
        (
            "variants: {matrix: {r: [EU, eu]}}",
            "line 2: the matrix values ['EU'] and ['eu'] both give the variant name 'eu'",
        ),
        (
            "variants: {matrix: {r: ['', x]}}",
            "line 2: the matrix value '' has no letters or digits to name its variants by",
        ),
        (
            "email: {variants: [1]}",
            "line 2: front matter 'email.variants' must map variant names to to/cc/subject",
        ),
        (
            'title: "Quarterly\\v review"',
            "line 2: front matter 'title' holds the control character \\x0b; remove it",
        ),
        (
            'email: {subject: "Monthly\\nBcc: x@y.com"}',
            "line 2: front matter 'email.subject' must be one line",
        ),
        (
            "email: {to: [not an address]}",
            "line 2: front matter 'email.to' has 'not an address', which is not an email address",
        ),
        ("schedule: '0 0 30 2 *'", "line 2: schedule '0 0 30 2 *' never fires (no such date in 9 years)"),
        (
            "schedule: {cron: '0 6 * * *', timezone: Europe}",
            "line 2: schedule timezone 'Europe' is not a time zone (e.g. Europe/Berlin)",
        ),
    ],
)
def test_a_bad_field_is_the_catalogue_s_one_line(yaml_text: str, message: str):
    """E28, E30, E31, E32, E34, E39, E40, E72, E86, E87, E124, E133."""
    assert error_line(parse_meta, "reports/a.md", yaml_text) == f"reports/a.md: {message}"


def test_E33_E35_nesting_and_alias_bombs_are_refused_before_they_are_walked():
    deep = "params: {x: " + "[" * 14 + "]" * 14 + "}"
    assert error_line(parse_meta, "r.md", deep).startswith("r.md: front matter 'params.x[0]")
    assert error_line(parse_meta, "r.md", deep).endswith("is nested more than 12 levels deep")
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 6)]
    bomb = "\n".join(lines) + "\nparams: {laugh: *l5}"
    assert error_line(parse_meta, "r.md", bomb) == "r.md: front matter is too large (more than 20,000 values)"


def test_E137_a_max_age_of_five_thousand_digits_is_a_message_not_a_crash():
    line = error_line(parse_meta, "r.md", "max_age: " + "9" * 5000 + "d")
    assert line.startswith("r.md: line 2: front matter 'max_age' must be like 35d, 12h or 2w, not '999")
    assert parse_meta("r.md", "max_age: 2w").max_age == "2w"


def test_E132_a_private_parameter_cannot_name_variants():
    line = error_line(parse_meta, "r.md", "private_params: [token]\nvariants: {matrix: {token: [a, b]}}")
    assert line.startswith("r.md: the private parameter 'token' cannot be a key of the variants matrix")


def test_E131_an_error_never_quotes_a_private_value():
    line = error_line(parse_meta, "r.md", "private_params: [pin]\nparams: {pin: hunter22}\nhunter22: 1")
    assert "hunter22" not in line and "unknown front-matter field '***'" in line


def test_E150_list_fields_written_as_one_string_split_at_commas():
    meta = parse_meta(
        "r.md", "tags: 'churn, q3, churn'\nauthors: machine learning\nprivate_params: 'token, pin'"
    )
    assert meta.tags == ("churn", "q3")
    assert meta.authors == ("machine learning",)  # a space splits nothing
    assert meta.private_params == ("token", "pin")
    assert parse_meta("r.md", "inputs: 'data/a,b.csv'").inputs == ("data/a,b.csv",)  # a glob is never split


def test_a_field_and_its_alias_say_the_same_and_one_must_go():
    line = error_line(parse_meta, "r.md", "tags: [a]\ncategories: [b]")
    assert "'categories' and 'tags' say the same: keep one" in line


def test_timeout_and_flags_are_typed():
    assert parse_meta("r.md", "timeout: 30\ndraft: true\nallow_errors: false").timeout == 30
    assert "must be a positive number of seconds" in error_line(parse_meta, "r.md", "timeout: 0")
    assert "front matter 'draft' must be bool" in error_line(parse_meta, "r.md", "draft: 'yes'")
    assert "front matter 'timeout' must be int" in error_line(parse_meta, "r.md", "timeout: true")


def test_empty_or_missing_front_matter_is_an_empty_meta():
    assert parse_meta("r.md", None) == parse_meta("r.md", "  \n") == parse_meta("r.md", "# a comment")
    assert parse_meta("r.md", None).title == "" and parse_meta("r.md", None).params == {}
    assert error_line(parse_meta, "r.md", "- a\n- b") == "r.md: front matter must be a YAML mapping of fields"


def test_dates_stay_the_text_written_as_iso():
    meta = parse_meta("r.md", "created: 2026-01-02\nupdated: 2026-01-03T10:00:00")
    assert (meta.created, meta.updated) == ("2026-01-02", "2026-01-03T10:00:00")


def test_meta_survives_its_json_form():
    meta = parse_meta("r.md", "title: T\ntags: [a]\nvariants: {matrix: {r: [EU, US]}}\nschedule: '0 6 * * 1'")
    assert type(meta).from_json(meta.to_json()) == meta
    assert meta.schedule == {"cron": "0 6 * * 1", "timezone": "UTC", "variants": {}}


def test_ignored_fields_are_those_of_other_tools():
    assert ignored_fields("title: x\nformat: html\nbibliography: refs.bib\n") == [
        "format"
    ]  # (read by citations)
    assert ignored_fields("title: [unclosed") == [] and ignored_fields(None) == []


def test_front_matter_span_is_where_the_yaml_is():
    text = "---\ntitle: A\nparams: {x: 1}\n---\nbody\n"
    start, end = front_matter_span(text)
    assert text[start:end] == "title: A\nparams: {x: 1}"
    assert front_matter_span("no front matter") is None


def test_a_notebook_s_front_matter_is_its_first_raw_cells():
    cells = [
        {"cell_type": "raw", "source": ["---\n", "title: A\n", "---"]},
        {"cell_type": "code", "source": ""},
    ]
    assert notebook_front_matter(cells) == ("title: A", 0)
    assert notebook_front_matter([{"cell_type": "code", "source": "---\ntitle: A\n---"}]) == (None, None)


def test_E130_private_values_are_masked_by_their_place_and_the_rest_kept_byte_for_byte():
    text = (
        "title: Keys  # a comment\nprivate_params: [token, pin]\n"
        "params: {token: 'abc123', region: EU, pin: 7}\nvariants:\n  eu: {token: s3cret}\n"
    )
    masked = mask_front_matter(text)
    assert masked == (
        "title: Keys  # a comment\nprivate_params: [token, pin]\nparams:"
        ' {token: "***", region: EU, pin: "***"}\n'
        'variants:\n  eu: {token: "***"}\n'
    )
    assert mask_front_matter("title: nothing private\n") == "title: nothing private\n"


def test_E130_an_anchor_named_elsewhere_is_masked_too():
    text = "private_params: [token]\nparams: {token: &t s3cret, other: *t}\n"
    masked = mask_front_matter(text)
    assert "s3cret" not in masked.split("other")[0] and parse_meta("r.md", masked).params["token"] == "***"


def test_mask_notebook_rewrites_only_its_front_matter_cell():
    nb = {
        "cells": [
            {"cell_type": "raw", "source": "---\nprivate_params: [pin]\nparams: {pin: 1234}\n---"},
            {"cell_type": "code", "source": "print(pin)"},
        ]
    }
    masked = mask_notebook(nb)
    assert masked["cells"][0]["source"] == '---\nprivate_params: [pin]\nparams: {pin: "***"}\n---'
    assert masked["cells"][1] is nb["cells"][1]
    plain = {"cells": [{"cell_type": "raw", "source": "---\ntitle: A\n---"}]}
    assert mask_notebook(plain) is plain
