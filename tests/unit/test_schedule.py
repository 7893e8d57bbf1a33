"""pipeline/schedule.py: cron schedules, run dates and date templates in parameters,
bounded in size and time (E133-E136 of docs/errors.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from knowrepo.pipeline.schedule import (
    is_template,
    last_due,
    parse_schedule,
    render_params,
    render_value,
    run_date,
)
from unit.helpers import error_line

SOURCE = "reports/r.ipynb"
NOV_2 = dt.date(2026, 11, 2)


def test_a_cron_line_is_a_schedule_in_utc():
    assert parse_schedule(SOURCE, "0 6 2 * *") == {"cron": "0 6 2 * *", "timezone": "UTC", "variants": {}}
    assert parse_schedule(SOURCE, None) == {}
    full = {"cron": "0 6 * * *", "timezone": "Europe/Berlin", "variants": {"us": "0 12 * * *"}}
    assert parse_schedule(SOURCE, full) == full


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "every day",
            "schedule 'every day' is not a cron line (minute hour day month weekday, e.g. '0 6 2 * *')",
        ),
        ("0 0 30 2 *", "schedule '0 0 30 2 *' never fires (no such date in 9 years)"),
        (
            {"cron": "0 6 * * *", "variants": {"us": "0 0 31 4 *"}},
            "schedule '0 0 31 4 *' never fires (no such date in 9 years)",
        ),
        (
            {"cron": "0 6 * * *", "timezone": "Europe"},
            "schedule timezone 'Europe' is not a time zone (e.g. Europe/Berlin)",
        ),
        (
            {"cron": "0 6 * * *", "timezone": "x" * 5000},
            f"schedule timezone '{'x' * 5000}' is not a time zone (e.g. Europe/Berlin)",
        ),
        (
            {"cron": "0 6 * * *", "when": 1},
            "front matter 'schedule' takes cron, timezone and variants, not ['when']",
        ),
        ([1], "front matter 'schedule' must be a cron line or {cron: ..., timezone: ...}"),
    ],
)
def test_E133_a_schedule_that_cannot_fire_is_one_line(value: object, message: str):
    assert error_line(parse_schedule, SOURCE, value) == f"{SOURCE}: {message}"


def test_last_due_is_the_latest_firing_at_or_before_now_in_its_zone():
    daily = parse_schedule(
        SOURCE, {"cron": "0 6 * * *", "timezone": "Europe/Berlin", "variants": {"us": "0 12 * * *"}}
    )
    now = dt.datetime(2026, 11, 2, 5, 30, tzinfo=dt.UTC)  # 06:30 in Berlin
    assert last_due(SOURCE, daily, "default", now) == dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC)
    assert last_due(SOURCE, daily, "us", now) == dt.datetime(2026, 11, 1, 11, 0, tzinfo=dt.UTC)
    on_time = dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC)
    assert last_due(SOURCE, daily, "default", on_time) == on_time


def test_E135_no_due_time_at_the_start_of_the_calendar():
    line = error_line(
        last_due, SOURCE, parse_schedule(SOURCE, "0 6 * * *"), "default", dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    )
    assert line.startswith(
        f"{SOURCE}: cannot find when schedule '0 6 * * *' fell due before 0001-01-01T00:00+00:00 ("
    )


def test_the_run_date_is_the_date_in_the_schedule_s_zone():
    moment = dt.datetime(2026, 11, 1, 23, 30, tzinfo=dt.UTC)
    assert (
        run_date(SOURCE, parse_schedule(SOURCE, {"cron": "0 6 * * *", "timezone": "Asia/Tokyo"}), moment)
        == NOV_2
    )
    assert run_date(SOURCE, {}, moment) == dt.date(2026, 11, 1)


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{{ run_date | previous_month }}", "2026-10"),
        ("{{ run_date | month }}", "2026-11"),
        ("{{ run_date | days_ago(3) | iso }}", "2026-10-30"),
        ("{{ run_date | months_ago(11) | iso }}", "2025-12-01"),
        ("{{ run_date | last_of_month | iso }}", "2026-11-30"),
        ("{{ run_date | strftime('%d/%m') }}", "02/11"),
        ("FY{{ run_date | year }}{% if run_date.month > 6 %}H2{% endif %}", "FY2026H2"),
        ("{{ 'eu'.upper() }}", "EU"),
    ],
)
def test_date_templates_evaluate_for_the_run_date(template: str, value: str):
    assert is_template(template)
    assert render_value(SOURCE, "month", template, NOV_2) == value


def test_values_that_are_no_template_pass_as_they_are():
    values = {"n": 3, "region": "EU", "when": "{{ run_date | iso }}"}
    assert render_params(SOURCE, values, NOV_2) == {"n": 3, "region": "EU", "when": "2026-11-02"}
    assert not is_template("{ not one }")


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ 1//0 }}", "(ZeroDivisionError: integer division or modulo by zero)"),
        ("{{ 'x' * 4000000000 }}", "(it builds a text or list of more than 10,000 items)"),
        ("{{ 2 ** 100000000 }}", "(it computes an integer of more than 4,096 bits)"),
        ("{{ 'ab' * 5000 + 'ab' * 5000 }}", "(it builds a text or list of more than 10,000 items)"),
        (
            "{% for i in 'abc' %}{{ i }}{% endfor %}",
            "(it uses {% for %}: parameter templates hold expressions and if only)",
        ),
        (
            "{{ [1] * 3 == [1, 1, 1] }}",
            "(it writes a list, tuple or mapping: parameter templates compute text, numbers and dates)",
        ),
        ("{{ 'x' ~ '%s' % 1 }}", "(it formats text with % (use the strftime helper))"),
        ("{{ '{{ 1 }}' * 1 }}" + "x" * 1000, "(it is longer than 1,000 characters)"),
    ],
)
def test_E134_a_template_beyond_the_limits_is_one_line_fast(template: str, reason: str):
    line = error_line(render_value, SOURCE, "month", template, NOV_2)
    assert line.startswith(f"{SOURCE}: parameter 'month': cannot evaluate ")
    assert line.endswith(reason)


def test_E134_jinja2_s_own_filters_python_and_other_methods_are_not_offered():
    line = error_line(render_value, SOURCE, "m", "{{ 'a' | upper }}", NOV_2)
    assert line.endswith(
        "(No filter named 'upper'.); date helpers: previous_month, month, year, iso, days_ago,"
        " months_ago, first_of_month, last_of_month, strftime"
    )
    unsafe = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    assert "(access to attribute '__class__' of 'str' object is unsafe.)" in error_line(
        render_value, SOURCE, "m", unsafe, NOV_2
    )
    assert "(it calls bit_length(): templates call date methods and text's capitalize," in error_line(
        render_value, SOURCE, "m", "{{ run_date.year.bit_length() }}", NOV_2
    )
    assert render_value(SOURCE, "m", "{{ run_date.isoformat() }}", NOV_2) == "2026-11-02"


def test_E136_a_template_that_fails_for_one_date_names_the_reason():
    template = "{{ run_date.replace(day=31) | iso }}"
    assert render_value(SOURCE, "month", template, dt.date(2026, 10, 2)) == "2026-10-31"
    line = error_line(render_value, SOURCE, "month", template, NOV_2)
    assert line.endswith("(day is out of range for month)")


def test_E131_a_private_template_that_fails_shows_no_text_of_it():
    line = error_line(render_value, SOURCE, "token", "{{ s3cret_value | nosuchfilter }}", NOV_2, True)
    assert line == (
        f"{SOURCE}: parameter 'token': cannot evaluate its template (an unknown filter or test;"
        " the value is private: not shown)"
    )
