"""support/figures.py and assemble/figures.py: a figure written with its unit and format, the
order a trend follows, how compare names runs (E260, E261 of docs/errors.md)."""

from __future__ import annotations

import pytest

from knowrepo.model import Run
from knowrepo.pipeline.assemble.figures import differing_params, run_label, trend_runs
from knowrepo.pipeline.execute.figures import styles_of
from knowrepo.pipeline.execute.runstore import record_problem
from knowrepo.support.figures import change_rule, figure_label, show_figure, shown_figures, style_problem

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "style", "text"),
    [
        (0.1093, {"format": ".1%"}, "10.9%"),
        (0.1093, {"format": ".1%", "unit": "%"}, "10.9%"),  # the format's % is the unit's: once
        (10.93, {"unit": "%"}, "10.93%"),
        (410040, {"unit": "EUR", "format": ",.0f"}, f"410,040{NBSP}EUR"),
        (410040, {"unit": "EUR"}, f"410,040{NBSP}EUR"),  # the plain way, then the unit
        (1234.5, {"format": ",.2f"}, "1,234.50"),
        (3, {"format": "+d", "unit": "users"}, f"+3{NBSP}users"),
        (0.1093, None, "0.1093"),  # no style: as before
        (410040, {}, "410,040"),
    ],
)
def test_a_figure_is_written_with_its_unit_and_format(value: object, style: dict | None, text: str):
    assert show_figure(value, style=style) == text


@pytest.mark.parametrize(
    ("value", "spec", "says"),
    [
        (1.5, ".1q", "is not a Python format spec"),
        (1.5, "{:.1f}", "is not a Python format spec"),
        (1, "999999999d", "is not a Python format spec"),  # (it would fill memory)
        (1.5, "d", "does not fit the value 1.5"),
        ("ok", ",.0f", "is for numbers, and the value is 'ok'"),
        (True, ".1%", "is for numbers"),
        (1.5, 5, "is not text"),
    ],
)
def test_E260_a_format_that_does_not_fit_shows_the_value_plainly(value: object, spec: object, says: str):
    problem = style_problem(value, {"format": spec})
    assert problem is not None and says in problem
    assert show_figure(value, style={"format": spec}) == show_figure(value)


@pytest.mark.parametrize("unit", ["x" * 17, "a\nb", 3, ["EUR"]])
def test_E261_a_unit_that_is_not_short_text_shows_the_value_plainly(unit: object):
    problem = style_problem(2, {"unit": unit})
    assert problem is not None and "is not text of at most 16 characters" in problem
    assert show_figure(2, style={"unit": unit}) == "2"


def test_E260_only_styles_that_fit_are_kept_with_the_run():
    def out(payload: dict) -> dict:
        return {"output_type": "display_data", "data": {"application/vnd.knowrepo.metric+json": payload}}

    nb = {
        "cells": [
            {"cell_type": "code", "outputs": [out({"name": "rate", "value": 0.1, "format": ".1%"})]},
            {"cell_type": "code", "outputs": [out({"name": "bad", "value": 2, "format": ".1q"})]},
            {"cell_type": "code", "outputs": [out({"name": "plain", "value": 2})]},
        ]
    }
    assert styles_of(nb) == {"rate": {"format": ".1%"}}


def test_figure_names_read_as_labels_and_an_email_lists_them_styled():
    assert figure_label("churn_rate") == "churn rate" and figure_label("_") == "_"
    shown = shown_figures({"churn_rate": 0.1093, "n": 3}, {"churn_rate": {"format": ".1%"}})
    assert shown == {"churn rate": "10.9%", "n": "3"}


def test_a_change_is_written_in_the_figure_s_terms():
    share = {"decimals": 1, "percent": True, "grouping": False, "unit": ""}
    assert change_rule(0.1, {"format": ".1%"}) == share
    assert change_rule(410040, {"format": ",.0f", "unit": "EUR"})["decimals"] == 0
    assert change_rule(4, {"format": "d"})["decimals"] == 0
    assert change_rule(4.0, {"format": ".3g"})["decimals"] is None  # (g counts digits)
    assert change_rule(4, None) == {} and change_rule(4, {"format": ".1q"}) == {}


def _run(id_: str, period: str = "", ok: bool = True, **params: object) -> Run:
    return Run(
        folder=None, id=id_, slug="s", variant="eu", source="reports/s.ipynb",
        status="ok" if ok else "failed", params=dict(params), period=period, started="2026-12-07T00:42:10Z",
    )  # fmt: skip


def test_a_trend_follows_the_periods_not_the_order_of_the_runs():
    backfill = [_run("1", "2026-11"), _run("2", "2026-10"), _run("3", "2026-09"), _run("4", "2026-11")]
    assert [r.id for r in trend_runs(backfill)] == ["3", "2", "4"]  # one point a period: its newest run
    mixed = [_run("0"), _run("1", "2026-11"), _run("2", "2026-10", ok=False)]
    assert [r.id for r in trend_runs(mixed)] == ["0", "1"]  # no period: in the order they ran, first
    scratch = Run(**{**_run("5", "2026-12").__dict__, "origin": {"by": "run", "scratch": True}})
    assert [r.id for r in trend_runs([*backfill, scratch])] == ["3", "2", "4"]  # a scratch run: never drawn


def test_compare_names_runs_by_date_origin_and_the_parameters_that_differ():
    runs = [_run("1", month="2026-11", region="EU"), _run("2", month="2026-09", region="EU")]
    assert differing_params(runs) == ["month"]
    us = Run(**{**_run("3", month="2026-11", region="US").__dict__, "variant": "us"})
    assert differing_params([*runs, us]) == ["month"]  # region: told by the variant's name
    runs[1] = Run(**{**runs[1].__dict__, "origin": {"by": "run", "overrides": ["month"]}})
    assert run_label(runs[1], ["month"]) == "7 Dec 2026 00:42 · eu · by hand · month=2026-09"
    assert run_label(_run("3", ok=False), []) == "7 Dec 2026 00:42 · eu · failed"


@pytest.mark.parametrize(
    "styles",
    [[], {"rate": ".1%"}, {"rate": {"format": 5}}, {"rate": {"colour": "red"}}],
)
def test_E262_a_run_record_s_figure_styles_are_checked(styles: object):
    record = {**_run("20261207T004210.000Z-abcdef").to_json(), "metric_styles": styles}
    assert record_problem(record, record["id"]) == (
        "'metric_styles' must be an object of figure names to their text 'unit' and 'format'"
    )
    old = {k: v for k, v in record.items() if k != "metric_styles"}  # recorded before there were any
    assert record_problem(old, old["id"]) is None and Run.from_json(None, old).metric_styles == {}
