"""Schedules and run dates: when a variant falls due, and parameters that depend on the date.

Front matter `schedule: "0 6 2 * *"` (cron, read by croniter) or
`schedule: {cron: "0 6 2 * *", timezone: Europe/Berlin, variants: {us: "0 12 2 * *"}}`.
A parameter value may use the run's date: `month: "{{ run_date | previous_month }}"`, evaluated
in jinja2's sandbox with a handful of date filters and nothing else (no Python, no eval).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from knowrepo.errors import KnowrepoError

_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _months_back(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 - months
    return dt.date(total // 12, total % 12 + 1, 1)


def _last_of_month(day: dt.date) -> dt.date:
    return _months_back(day, -1) - dt.timedelta(days=1)


# The date helpers a parameter may use, each of a date (run_date is the date the run is for).
FILTERS = {
    "previous_month": lambda d: _months_back(d, 1).strftime("%Y-%m"),
    "month": lambda d: d.strftime("%Y-%m"),
    "year": lambda d: d.year,
    "iso": lambda d: d.isoformat(),
    "days_ago": lambda d, n=1: d - dt.timedelta(days=int(n)),
    "months_ago": lambda d, n=1: _months_back(d, int(n)),
    "first_of_month": lambda d: d.replace(day=1),
    "last_of_month": _last_of_month,
    "strftime": lambda d, fmt: d.strftime(str(fmt)),
}
_environment: Any = None


def _sandbox() -> Any:
    global _environment
    if _environment is None:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        _environment = ImmutableSandboxedEnvironment(autoescape=False)
        _environment.filters = dict(FILTERS)  # only these: not even jinja2's own
        _environment.globals = {}
    return _environment


def is_template(value: Any) -> bool:
    return isinstance(value, str) and bool(_TEMPLATE.search(value))


def check_template(source: str, name: str, value: str, private: bool = False) -> None:
    """A one-line error if the template cannot be read or uses what is not offered."""
    render_value(source, name, value, dt.date(2026, 1, 15), private)


def render_value(source: str, name: str, value: Any, run_date: dt.date, private: bool = False) -> Any:
    """`value` with its template evaluated for `run_date` (other values as they are). A
    template that fails is one line naming the parameter, and its text unless `private`."""
    if not is_template(value):
        return value
    import jinja2

    try:
        return _sandbox().from_string(value).render(run_date=run_date)
    except (jinja2.TemplateError, TypeError, ValueError, OverflowError) as exc:
        raise KnowrepoError(source, _failure(name, value, exc, private)) from None


_PRIVATE_REASONS = {
    "TemplateSyntaxError": "a syntax error", "TemplateAssertionError": "an unknown filter or test",
    "UndefinedError": "an undefined name", "SecurityError": "an unsafe attribute",
}  # fmt: skip


def _failure(name: str, value: str, exc: BaseException, private: bool) -> str:
    """The message of a template that failed: what, and why."""
    if private:  # (jinja2's messages quote the template's names and text)
        why = _PRIVATE_REASONS.get(type(exc).__name__, type(exc).__name__)
        return f"parameter '{name}': cannot evaluate its template ({why}; the value is private: not shown)"
    helpers = ", ".join(FILTERS)
    return f"parameter '{name}': cannot evaluate {value!r} ({exc}); date helpers: {helpers}"


def render_params(
    source: str, values: dict[str, Any], run_date: dt.date, private: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        name: render_value(source, name, value, run_date, name in private) for name, value in values.items()
    }


def parse_schedule(source: str, value: Any) -> dict[str, Any]:
    """The front matter's schedule as {cron, timezone, variants: {name: cron}}, checked."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = {"cron": value}
    if not isinstance(value, dict) or not isinstance(value.get("cron"), str):
        raise KnowrepoError(
            source, "front matter 'schedule' must be a cron line or {cron: ..., timezone: ...}"
        )
    unknown = set(value) - {"cron", "timezone", "variants"}
    if unknown:
        raise KnowrepoError(
            source, f"front matter 'schedule' takes cron, timezone and variants, not {sorted(unknown)}"
        )
    timezone = str(value.get("timezone") or "UTC")
    _zone(source, timezone)
    variants = value.get("variants") or {}
    if not isinstance(variants, dict) or not all(isinstance(c, str) for c in variants.values()):
        raise KnowrepoError(source, "front matter 'schedule.variants' must map variant names to cron lines")
    for cron in [value["cron"], *variants.values()]:
        _check_cron(source, cron)
    return {"cron": value["cron"], "timezone": timezone, "variants": dict(variants)}


def _check_cron(source: str, cron: str) -> None:
    from croniter import croniter

    if not croniter.is_valid(cron) or len(cron.split()) != 5:
        raise KnowrepoError(
            source, f"schedule {cron!r} is not a cron line (minute hour day month weekday, e.g. '0 6 2 * *')"
        )


def _zone(source: str, name: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise KnowrepoError(
            source, f"schedule timezone {name!r} is not a time zone (e.g. Europe/Berlin)"
        ) from None


def last_due(source: str, schedule: dict[str, Any], variant: str, now: dt.datetime) -> dt.datetime:
    """The latest time at or before `now` when the variant fell due (aware, UTC)."""
    from croniter import croniter

    cron = schedule["variants"].get(variant, schedule["cron"])
    local = now.astimezone(_zone(source, schedule["timezone"]))
    due = croniter(cron, local + dt.timedelta(seconds=1)).get_prev(dt.datetime)
    return due.astimezone(dt.UTC)


def run_date(source: str, schedule: dict[str, Any], moment: dt.datetime) -> dt.date:
    """The date a run at `moment` is for, in the schedule's time zone (UTC without one)."""
    zone = _zone(source, schedule["timezone"]) if schedule else dt.UTC
    return moment.astimezone(zone).date()
