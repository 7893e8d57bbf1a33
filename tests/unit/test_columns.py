"""support/columns.py: `list` and `runs` in a pipe, a header row over aligned columns."""

from __future__ import annotations

from knowrepo.support.columns import aligned


def test_a_header_in_capitals_and_columns_as_wide_as_their_widest_cell():
    lines = aligned(
        ("report", "kind", "title"), [["sales/monthly", "notebook", "Sales"], ["a", "markdown", ""]]
    )
    assert lines == [
        "REPORT         KIND      TITLE",
        "sales/monthly  notebook  Sales",
        "a              markdown",  # (no line ends in spaces)
    ]


def test_nothing_is_cut_and_no_rows_is_a_header_alone():
    long = "x" * 300
    assert aligned(("a", "b"), [[long, "1"]])[1] == f"{long}  1"
    assert aligned(("run id",), []) == ["RUN ID"]
