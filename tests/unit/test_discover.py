"""pipeline/discover.py: every report under reports/, its slug, and the files that are not
reports, named on one line (E22-E27, E36, E37, E42, E45, E69, E88, E153 of docs/errors.md).
Slug properties over any name are in test_properties.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowrepo.pipeline.discover import discover, find_report, first_heading, notebook_json, slugify_path
from unit.helpers import error_line

# ---- moved from tests/test_parsing.py -------------------------------------------------------


def test_slugs_are_lowercase_url_safe_and_keep_folders():
    assert slugify_path("Sales/Q3 Review (final).ipynb") == "sales/q3-review-final"


# ---- slugs and titles ------------------------------------------------------------------------


def test_E69_names_in_other_scripts_keep_their_letters_and_a_knowledge_post_is_its_folder():
    assert slugify_path("数据/报告.ipynb") == "数据/报告"
    assert slugify_path("Café Ünïcode.md") == "caf-n-code"  # (ASCII letters present: the ASCII slug)
    assert slugify_path("churn/Q3.kp/knowledge.md") == "churn/q3"
    assert slugify_path("😀.md").startswith("_") and slugify_path("😀.md") != slugify_path("🚀.md")


@pytest.mark.parametrize(
    ("markdown", "title"),
    [
        ("intro\n# The `churn` *model* [link](x) ##\n# second", "The churn model link"),
        ("![a chart](x.png) first\n\n# **Bold** \\*star\\*", "Bold *star*"),
        ("no heading at all", ""),
    ],
)
def test_the_first_heading_is_its_words(markdown: str, title: str):
    assert first_heading(markdown) == title


# ---- notebooks that are not what they claim ------------------------------------------------


def notebook(*cells: object, **fields: object) -> bytes:
    return json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells), **fields}
    ).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"{not json",
            "invalid notebook JSON: Expecting property name enclosed in double quotes: line 1 column 2"
            " (char 1)",
        ),
        (
            notebook(nbformat=3),
            "an nbformat 3 notebook: knowrepo reads nbformat 4; upgrade it with `jupyter nbconvert --to"
            " notebook --nbformat 4 --inplace FILE`",
        ),
        (notebook({"cell_type": "code"}), "cell 1: has no 'source'"),
        (notebook("x"), "cell 1: is not an object"),
        (
            notebook({"cell_type": "code", "source": "", "metadata": {"tags": "a"}}),
            "cell 1: 'metadata.tags' must be a list of text",
        ),
        (
            notebook({"cell_type": "code", "source": "", "outputs": [{"output_type": "x"}]}),
            "cell 1: has an output that is not a stream, display_data, execute_result or error",
        ),
        (
            b'{"cells": [' + b"9" * 5000 + b"]}",
            "invalid notebook JSON: Exceeds the limit (4300 digits) for integer string conversion: value"
            " has 5000 digits; use sys.set_int_max_str_digits() to increase the limit",
        ),
        (b"[]", "not a Jupyter notebook (the JSON is not an object)"),
    ],
)
def test_E22_E27_E88_a_notebook_that_is_not_one_is_named(data: bytes, message: str):
    assert error_line(notebook_json, "reports/x.ipynb", data) == f"reports/x.ipynb: {message}"


def test_every_nbformat_4_minor_is_read():
    """E73."""
    for minor in range(6):
        cell = {
            "cell_type": "markdown",
            "source": "# T",
            "metadata": {},
            **({"id": "a"} if minor >= 5 else {}),
        }
        assert notebook_json("x.ipynb", notebook(cell, nbformat_minor=minor))["nbformat_minor"] == minor


# ---- a repository in a temporary folder ------------------------------------------------------


def repository(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = tmp_path / "reports" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return tmp_path


def test_reports_are_found_with_their_slugs_titles_and_kinds(tmp_path: Path):
    root = repository(
        tmp_path,
        {
            "Sales/Q3 Review.md": "---\ntitle: Q3\ncreated: 2026-01-02\n---\nbody",
            "churn.ipynb": notebook(
                {"cell_type": "markdown", "source": "# Churn drivers", "metadata": {}}
            ).decode(),
            "draft.md": "---\ndraft: true\n---\n# Draft",
            "script.py": "# %% [markdown]\n# # From a script\n# %%\nx = 1\n",
            "helper.py": "def f(): pass\n",
            "_private.md": "# hidden",
            "notes.rst": "text",
        },
    )
    found = discover(root, {})
    assert found.errors == []
    assert [(r.slug, r.meta.title, r.kind) for r in found.reports] == [
        ("sales/q3-review", "Q3", "markdown"),  # (by path: "Sales/" sorts first)
        ("churn", "Churn drivers", "notebook"),
        ("script", "From a script", "notebook"),
    ]
    assert found.reports[0].date == "2026-01-02"
    assert found.skipped == {
        "reports/_private.md": "its name starts with '_' or '.', so it is not published",
        "reports/notes.rst": "reStructuredText is not a report format; convert to Markdown (.md)",
        "reports/helper.py": "a Python file without '# %%' cells",
    }
    assert [r.slug for r in discover(root, {}, drafts=True).reports] == [
        "sales/q3-review",
        "churn",
        "draft",
        "script",
    ]


def test_E36_E37_E153_bad_files_are_named_and_the_others_found(tmp_path: Path):
    root = repository(
        tmp_path,
        {
            "Dup.md": "# first",
            "dup.md": "# second",
            "latin1.md": b"---\ntitle: Caf\xe9 x\n---\n",
            "bom.md": "\ufeff---\ntitle: With a BOM\n---\n",
            "bad.md": "---\ncreated: 2026-02-30\n---\n",
        },
    )
    found = discover(root, {})
    assert [str(e) for e in found.errors] == [
        "reports/bad.md: line 2: front matter 'created' must be a date like 2026-10-31, not '2026-02-30'",
        "reports/dup.md: slug 'dup' is also the slug of reports/Dup.md",
        "reports/latin1.md: not UTF-8 text: invalid continuation byte at byte 14",
    ]
    assert [(r.slug, r.meta.title) for r in found.reports] == [("dup", "first"), ("bom", "With a BOM")]
    assert found.failed_sources == {"reports/bad.md", "reports/dup.md", "reports/latin1.md"}


def test_E42_E45_symlinks_outside_or_broken_are_refused_and_never_read(tmp_path: Path):
    root = repository(tmp_path / "repo", {"ok.md": "# ok"})
    (tmp_path / "secret.md").write_text("# secret")
    (root / "reports/outside.md").symlink_to(tmp_path / "secret.md")
    (root / "reports/broken.md").symlink_to(root / "reports/gone.md")
    found = discover(root, {})
    assert [str(e) for e in found.errors] == [
        "reports/broken.md: cannot read: No such file or directory (a broken symlink)",
        f"reports/outside.md: leads outside the repository (to {tmp_path / 'secret.md'}); not published",
    ]
    assert [r.slug for r in found.reports] == ["ok"]


def test_a_report_is_found_by_slug_or_path_and_a_broken_one_says_its_own_error(tmp_path: Path):
    root = repository(tmp_path, {"sales/monthly.md": "# M", "broken.md": "---\ncolour: red\n---\n"})
    found = discover(root, {})
    assert find_report(root, found.reports, "sales/monthly").source == "reports/sales/monthly.md"
    assert find_report(root, found.reports, "reports/sales/monthly.md").slug == "sales/monthly"
    assert error_line(find_report, root, found.reports, "sales/montly") == (
        "no report 'sales/montly' (did you mean 'sales/monthly'?)"
    )
    assert error_line(find_report, root, found.reports, "broken", found.errors).startswith(
        "reports/broken.md: line 2: unknown front-matter field 'colour'"
    )
