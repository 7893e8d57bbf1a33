"""support/numbers.py: recorded figures written for people, and cut where they are shown (E146
of docs/errors.md)."""

from __future__ import annotations

import pytest

from knowrepo.support.numbers import SHOWN_TEXT, bounded, bounded_map, clip, format_figure


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (4530200, "4,530,200"),
        (4.4132, "4.413"),
        (0.012345, "0.01235"),
        (12345.678, "12,346"),
        (True, "True"),
        (-3, "-3"),
        ("ok", "ok"),
    ],
)
def test_figures_are_written_for_people(value: object, text: str):
    assert format_figure(value) == text


def test_E146_long_text_is_cut_with_an_ellipsis():
    assert format_figure("x" * 200_000) == "x" * (SHOWN_TEXT - 1) + "…"
    assert format_figure("x" * 5000, limit=None) == "x" * 5000
    assert clip("abcdef", 4) == "abc…" and clip("abcd", 4) == "abcd" and clip(12, 1) == "…"


def test_E146_a_page_s_data_keeps_numbers_and_cuts_text_and_names():
    assert bounded(10**30) == 10**30 and bounded(None) is None and bounded(["a" * 300])[-1] == "…"
    long_name = "n" * 300
    shown = bounded_map({long_name: "v" * 300, long_name + "2": 1, "rate": 0.5})
    assert shown == {"n" * 199 + "…": "v" * 199 + "…", "rate": 0.5}  # two cut names meet: the first wins
