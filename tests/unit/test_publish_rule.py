"""The one rule for the run a variant shows (model.shown_run), the pins file that overrides it
(pipeline/execute/pins.py) and the period each run covers (front matter `period`, a
schedule's date): E220, E221 and E223 of docs/errors.md."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowrepo.model import RUN_FAILED, RUN_OK, Meta, Report, Run, shown_run
from knowrepo.pipeline.execute.pins import pin_problem, read_pins, write_pins
from knowrepo.pipeline.execute.plan import run_period
from knowrepo.pipeline.execute.runstore import RUN_ID, record_problem
from knowrepo.pipeline.frontmatter import parse_meta
from knowrepo.pipeline.schedule import render_period
from unit.helpers import error_line

SOURCE = "reports/monthly.ipynb"


def run(n: int, period: str = "", ok: bool = True, scratch: bool = False, day: str = "2026-12-07") -> Run:
    """Run number `n` (ids sort by n: the later, the newer)."""
    origin = {"by": "run", **({"scratch": True} if scratch else {})}
    return Run(None, f"20261207T0000{n:02d}.000Z-aaaaaa", "monthly", "default", SOURCE,
               RUN_OK if ok else RUN_FAILED, started=f"{day}T00:00:00Z", origin=origin,
               period=period)  # fmt: skip


def test_the_newest_period_is_shown_and_among_equal_periods_the_newest_run():
    november, october, november_again = run(1, "2026-11"), run(2, "2026-10"), run(3, "2026-11")
    assert shown_run([november, october]) is november  # a catch-up run for October does not replace it
    assert shown_run([november, october, november_again]) is november_again
    assert shown_run([run(1), run(2)]).id == run(2).id  # no periods: the newest run


def test_a_run_without_a_period_covers_the_day_it_ran():
    by_hand = run(1, day="2026-11-20")  # (no `period:` declared)
    catch_up = run(2, "2026-10-02")  # a scheduled run for its due date in October, run later
    assert shown_run([by_hand, catch_up]) is by_hand


def test_scratch_and_failed_runs_are_never_shown_unless_nothing_succeeded():
    good, scratch, failed = run(1, "2026-10"), run(2, "2026-12", scratch=True), run(3, "2026-12", ok=False)
    assert shown_run([good, scratch, failed]) is good
    assert shown_run([failed]) is failed  # a failure only when nothing succeeded
    assert shown_run([run(1, ok=False), scratch]).id == run(1).id  # (never the scratch one)
    assert shown_run([scratch]) is None


def test_a_pin_is_shown_whatever_comes_later_unless_it_failed():
    october, november, scratch = run(1, "2026-10"), run(2, "2026-11"), run(3, "2026-12", scratch=True)
    assert shown_run([october, november], october.id) is october
    assert shown_run([october, november, scratch], scratch.id) is scratch  # how a scratch run is published
    assert shown_run([october, run(2, ok=False)], run(2).id) is october
    assert shown_run([october, november], "20200101T000000.000Z-abcdef") is november


def test_scratch_is_checked_in_a_run_record():
    record = {**run(1).to_json(), "origin": {"by": "run", "scratch": "yes"}}
    assert record_problem(record, record["id"]) == "'origin.scratch' must be true or false"


def test_pins_round_trip_through_a_reviewable_file(tmp_path: Path):
    path = tmp_path / "runs/pins.yaml"
    pins = {"sales/monthly": {"us": run(2).id, "eu": run(1).id}, "on": {"no": run(3).id}}
    write_pins(path, pins)
    text = path.read_text()
    assert text.startswith("# The run each variant shows")
    assert f"sales/monthly:\n  eu: {run(1).id}\n  us: {run(2).id}\n" in text  # sorted, one line a pin
    assert read_pins(path, RUN_ID) == (pins, [])  # ('on' and 'no' stay text, not YAML 1.1 booleans)
    write_pins(path, {"sales/monthly": {}})
    assert not path.exists() and read_pins(path, RUN_ID) == ({}, [])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: {b: [\n",
            "invalid YAML at line 2: expected the node content, but found '<stream end>'; no run is pinned",
        ),
        ("- a\n", "must map report slugs to {variant: run id}; no run is pinned"),
        (
            "churn: 20261207T000001.000Z-aaaaaa\n",
            "'churn' must map variant names to run ids; that pin is ignored",
        ),
        ("churn: {eu: latest}\n", "'churn.eu' 'latest' is not a run id; that pin is ignored"),
        ("churn: {'e u': 20261207T000001.000Z-aaaaaa}\n", "'churn.e u' is not a variant name"),
    ],
)
def test_E220_a_damaged_pins_file_is_one_line_naming_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
):
    path = tmp_path / "pins.yaml"
    path.write_text(text)
    pins, problems = read_pins(path, RUN_ID)
    assert pins == {} and len(problems) == 1
    line = str(problems[0])
    assert line.startswith(f"{path}: ") and message in line and len(line.splitlines()) == 1


def test_E221_a_pin_naming_a_missing_or_failed_run_is_named_and_ignored(tmp_path: Path):
    path = tmp_path / "pins.yaml"
    runs = [run(1), run(2, ok=False)]
    assert pin_problem(path, "monthly", "default", run(1).id, runs) is None
    missing = str(pin_problem(path, "monthly", "default", run(5).id, runs))
    assert missing == (
        f"{path}: 'monthly.default' names run {run(5).id}, which is not a run of monthly [default]"
        " (moved or pruned?); the variant shows its newest run instead"
    )
    failed = str(pin_problem(path, "monthly", "default", run(2).id, runs))
    assert "which failed: a failed run is never published" in failed


def report(**meta: object) -> Report:
    return Report("monthly", SOURCE, "notebook", Meta(**meta), "h", "2026-12-01")  # type: ignore[arg-type]


def test_a_run_records_the_period_its_front_matter_or_schedule_says():
    monthly = report(period="{{ params.month }}")
    assert run_period(monthly, {"month": "2026-09"}, {"by": "run"}) == "2026-09"
    quarter = report(period="{{ run_date.year }}-Q{{ (run_date.month - 1) // 3 + 1 }}")
    assert run_period(quarter, {}, {"by": "schedule", "run_date": "2026-11-02"}) == "2026-Q4"
    scheduled = report(schedule={"cron": "0 6 2 * *", "timezone": "UTC", "variants": {}})
    assert run_period(scheduled, {}, {"by": "schedule", "run_date": "2026-11-02"}) == "2026-11-02"
    assert run_period(scheduled, {}, {"by": "run", "run_date": "2026-11-02"}) == ""  # by hand: it says none
    private = report(period="{{ params.token }}", private_params=("token",))
    assert run_period(private, {"token": "s3cret"}, {}) == "***"  # a period is published: never a secret


def test_E223_a_period_template_that_cannot_work_is_one_line():
    line = error_line(parse_meta, SOURCE, "period: '{{ params.month | nope }}'")
    assert "front matter 'period': cannot evaluate '{{ params.month | nope }}'" in line
    assert "No filter named 'nope'" in line
    assert "'period' must be text" in error_line(parse_meta, SOURCE, "period: [2026]")
    assert parse_meta(SOURCE, "period: '{{ params.month }}'").period == "{{ params.month }}"
    nothing = error_line(render_period, SOURCE, "{{ params.monht }}", dt.date(2026, 12, 1), {"month": "x"})
    assert "front matter 'period' '{{ params.monht }}' gives no text for this run" in nothing
    long = error_line(
        render_period, SOURCE, "{{ params.month * 9 }}", dt.date(2026, 12, 1), {"month": "2026-11"}
    )
    assert "a period is at most 40 characters" in long
