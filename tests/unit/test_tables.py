"""pipeline/render/tables.py: numeric table columns marked to align right (E116 of
docs/errors.md)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from knowrepo.pipeline.render.tables import align_numeric_columns, is_number


@pytest.mark.parametrize("text", ["1,234.5", "-3 %", "$12", "1e-3", "(42)", "−7", "12k", "3\u2009000"])
def test_numbers_as_tables_write_them(text: str):
    assert is_number(text)


@pytest.mark.parametrize("text", ["EU", "", "1,23,4", "n/a", "2026-01-02", "v1.2.3"])
def test_what_is_not_a_number(text: str):
    assert not is_number(text)


def classes(html: str) -> list[list[str]]:
    rows = BeautifulSoup(html, "html.parser").select("tr")
    return [[" ".join(cell.get("class", [])) for cell in row.find_all(["th", "td"])] for row in rows]


def test_numeric_columns_and_their_headers_are_marked():
    html = align_numeric_columns(
        "<table><tr><th>region</th><th>revenue</th></tr><tr><td>EU</td><td>1,200</td></tr>"
        "<tr><td>US</td><td>n/a</td></tr></table>"
    )
    assert classes(html) == [["", "num"], ["", "num"], ["", "num"]]


def test_E116_pandas_headers_follow_their_columns_and_the_empty_one_is_labelled():
    html = align_numeric_columns(
        '<table class="dataframe"><thead><tr style="text-align: right;"><th></th><th>name</th><th>n</th></tr>'
        "</thead><tbody><tr><th>0</th><td>a</td><td>1</td></tr></tbody></table>"
    )
    tree = BeautifulSoup(html, "html.parser")
    assert tree.select_one("thead tr").get("style") is None
    assert classes(html) == [["", "", "num"], ["", "", "num"]]
    assert tree.select_one("thead th .visually-hidden").text == "Row"


def test_an_author_s_alignment_spans_and_nested_tables_are_left_alone():
    own = '<table><tr><td style="text-align: left">1</td></tr></table>'
    assert "num" not in align_numeric_columns(own)
    spanning = '<table><tr><td colspan="2">1</td></tr></table>'
    assert align_numeric_columns(spanning) == spanning
    assert align_numeric_columns("<p>no table</p>") == "<p>no table</p>"
