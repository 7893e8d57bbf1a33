"""Schedules and run dates: when a variant falls due, and parameters that depend on the date.

Front matter `schedule: "0 6 2 * *"` (cron, read by croniter) or
`schedule: {cron: "0 6 2 * *", timezone: Europe/Berlin, variants: {us: "0 12 2 * *"}}`.
A parameter value may use the run's date: `month: "{{ run_date | previous_month }}"`, evaluated
in jinja2's sandbox with a handful of date filters and nothing else (no Python, no eval).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from knowrepo.errors import KnowrepoError
from knowrepo.support.yamltext import shown

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

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
# Templates are bounded in size and time: a template is short text of expressions and `if`s (no
# loops or macros, so it runs in time linear in its length), every text or list it builds is
# at most MAX_TEXT long and every integer at most MAX_BITS bits, and it calls only the methods
# of dates and a few of text. A template that steps outside is an error, never a hang.
MAX_TEMPLATE = 1_000  # characters of a template
MAX_TEXT = 10_000  # characters (or items) of a value a template builds, its result included
MAX_BITS = 4_096  # bits of an integer a template computes
_STATEMENTS = ("Output", "If")  # the only tags a template may hold besides {{ }}
_TAGS = {"Assign": "set", "AssignBlock": "set", "CallBlock": "call", "FilterBlock": "filter",
         "FromImport": "import"}  # fmt: skip
_TEXT_METHODS = {"upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith",
                 "endswith", "split", "isdigit"}  # fmt: skip
_environment: ImmutableSandboxedEnvironment | None = None


class TemplateLimit(ValueError):
    """A template that would build too much, or uses what parameter templates do not offer."""


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse, before it runs, an operation whose result would pass the limits."""
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))
    if operator == "%" and isinstance(left, str):
        raise TemplateLimit("formats text with % (use the strftime helper)")
    if ints and operator == "**" and right > 0 and max(left.bit_length(), 1) * right > MAX_BITS:
        raise TemplateLimit(f"computes an integer of more than {MAX_BITS:,} bits")
    if ints and operator == "*" and left.bit_length() + right.bit_length() > MAX_BITS:
        raise TemplateLimit(f"computes an integer of more than {MAX_BITS:,} bits")
    if operator == "*" and not ints:
        times = right if isinstance(right, int) else left
        if isinstance(times, int) and (_length(left) + _length(right)) * times > MAX_TEXT:
            raise TemplateLimit(f"builds a text or list of more than {MAX_TEXT:,} items")
    if operator == "+" and _length(left) + _length(right) > MAX_TEXT:
        raise TemplateLimit(f"builds a text or list of more than {MAX_TEXT:,} items")


def _sandbox() -> ImmutableSandboxedEnvironment:
    global _environment
    if _environment is None:
        from jinja2.sandbox import ImmutableSandboxedEnvironment  # (jinja2: only for a date template)

        class BoundedSandbox(ImmutableSandboxedEnvironment):
            """jinja2's sandbox, with the limits above on its operators and calls."""

            intercepted_binops = frozenset({"*", "**", "%", "+"})

            def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
                _check_binop(operator, left, right)
                return super().call_binop(context, operator, left, right)

            def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
                owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
                text = isinstance(owner, str) and name in _TEXT_METHODS
                if not text and not isinstance(owner, dt.date | dt.timedelta):
                    methods = ", ".join(sorted(_TEXT_METHODS))
                    raise TemplateLimit(f"calls {name}(): templates call date methods and text's {methods}")
                return super().call(context, obj, *args, **kwargs)

        _environment = BoundedSandbox(autoescape=False)
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
    return _guarded(source, f"parameter '{name}'", value, private, lambda: _evaluate(value, run_date))


T = TypeVar("T")


def _guarded(source: str, label: str, value: str, private: bool, action: Callable[[], T]) -> T:
    """What `action` gives; a template that fails in it is a one-line KnowrepoError."""
    import jinja2  # (jinja2: only for a date template)

    try:
        return action()
    except (jinja2.TemplateError, TemplateLimit, TypeError, ValueError, ArithmeticError, LookupError,
            MemoryError, RecursionError) as exc:  # fmt: skip
        raise KnowrepoError(source, _failure(label, value, exc, private)) from None


def _compiled(value: str) -> Template:
    """The template, parsed and compiled within the limits (TemplateLimit if not): an unknown
    filter or a syntax error fails here, before it runs."""
    if len(value) > MAX_TEMPLATE:
        raise TemplateLimit(f"is longer than {MAX_TEMPLATE:,} characters")
    environment = _sandbox()
    tree = environment.parse(value)
    from jinja2 import nodes  # (jinja2: only for a date template)

    for node in tree.find_all(nodes.Stmt):
        if type(node).__name__ not in _STATEMENTS:
            tag = _TAGS.get(type(node).__name__, type(node).__name__.lower())
            raise TemplateLimit(f"uses {{% {tag} %}}: parameter templates hold expressions and if only")
    # No list, tuple or mapping written in a template: nested ones share their items, so the
    # limits above (on each value's own length) would let `[[[1]*9999]*9999]*9999 == ...`
    # compare 10^12 items. Without them every value is a flat text, number, date or split().
    if next(tree.find_all((nodes.List, nodes.Tuple, nodes.Dict)), None) is not None:
        raise TemplateLimit(
            "writes a list, tuple or mapping: parameter templates compute text, numbers and dates"
        )
    return environment.from_string(tree)


def _evaluate(value: str, run_date: dt.date, params: dict[str, Any] | None = None) -> str:
    """The template's text for `run_date` (and the run's `params`, for a period), within the
    limits (TemplateLimit if not)."""
    names: dict[str, Any] = {"run_date": run_date}
    if params is not None:
        names["params"] = params
    text = ""
    for chunk in _compiled(value).generate(**names):
        text += chunk
        if len(text) > MAX_TEXT:
            raise TemplateLimit(f"gives more than {MAX_TEXT:,} characters")
    return text


MAX_PERIOD = 40  # characters of a run's period (run.json's check allows no more)
_PERIOD = "front matter 'period'"


def check_period(source: str, value: str) -> None:
    """A one-line error if front matter `period` is a template that cannot be read (a syntax
    error, an unknown filter, what templates do not offer): found by `check`, before any run."""
    if is_template(value):
        _guarded(source, _PERIOD, value, False, lambda: _compiled(value))


def render_period(source: str, value: str, run_date: dt.date, params: dict[str, Any]) -> str:
    """The period a run covers, from front matter `period` evaluated as parameter templates are,
    with the run's `params` (private values masked: a period is published) beside `run_date`.
    A template that fails, gives no text or more than MAX_PERIOD characters is one line."""
    text = _guarded(source, _PERIOD, value, False, lambda: _evaluate(value, run_date, params))
    text = " ".join(text.split())
    if not text:
        raise KnowrepoError(
            source, f"{_PERIOD} {shown(value)} gives no text for this run (does it name a parameter it has?)"
        )
    if len(text) > MAX_PERIOD:
        raise KnowrepoError(
            source, f"{_PERIOD} gives {shown(text)}: a period is at most {MAX_PERIOD} characters"
        )
    return text


_PRIVATE_REASONS = {
    "TemplateSyntaxError": "a syntax error", "TemplateAssertionError": "an unknown filter or test",
    "UndefinedError": "an undefined name", "SecurityError": "an unsafe attribute",
}  # fmt: skip


def _failure(label: str, value: str, exc: BaseException, private: bool) -> str:
    """The message of a template that failed (`label`: parameter 'month'): what, and why."""
    kind = type(exc).__name__
    if private:  # (jinja2's messages quote the template's names and text; knowrepo's own do not)
        why = f"it {exc}" if isinstance(exc, TemplateLimit) else _PRIVATE_REASONS.get(kind, kind)
        return f"{label}: cannot evaluate its template ({why}; the value is private: not shown)"
    import jinja2  # (jinja2: only for a date template)

    reason = " ".join(str(exc).split())[:200] or kind
    if isinstance(exc, TemplateLimit):
        reason = f"it {reason}"
    elif isinstance(exc, ArithmeticError | MemoryError | RecursionError) and str(exc):
        reason = f"{kind}: {reason}"
    helpers = f"; date helpers: {', '.join(FILTERS)}" if isinstance(exc, jinja2.TemplateError) else ""
    return f"{label}: cannot evaluate {shown(value)} ({reason}){helpers}"


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


MAX_GAP_YEARS = 9  # a cron line fires at least this often (the 29th of February: every 4 to 8 years)


def _check_cron(source: str, cron: str) -> None:
    """A one-line error for a line that is not cron, or one that never fires (`0 0 30 2 *`):
    croniter accepts such a line and fails only when asked when it fell due."""
    from croniter import CroniterError, croniter  # (croniter: only for a schedule)

    if not croniter.is_valid(cron) or len(cron.split()) != 5:
        raise KnowrepoError(
            source, f"schedule {cron!r} is not a cron line (minute hour day month weekday, e.g. '0 6 2 * *')"
        )
    try:
        croniter(cron, dt.datetime(2024, 1, 1), max_years_between_matches=MAX_GAP_YEARS).get_next(dt.datetime)
    except (CroniterError, ValueError, OverflowError):
        raise KnowrepoError(
            source, f"schedule {cron!r} never fires (no such date in {MAX_GAP_YEARS} years)"
        ) from None


def _zone(source: str, name: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # (only for a schedule's time zone)

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # (OSError: 'Europe' names a folder of zones)
        raise KnowrepoError(
            source, f"schedule timezone {name!r} is not a time zone (e.g. Europe/Berlin)"
        ) from None


def last_due(source: str, schedule: dict[str, Any], variant: str, now: dt.datetime) -> dt.datetime:
    """The latest time at or before `now` when the variant fell due (aware, UTC); a one-line
    error naming the report when there is none (a clock at the ends of the calendar)."""
    from croniter import CroniterError, croniter  # (croniter: only for a schedule)

    cron = schedule["variants"].get(variant, schedule["cron"])
    try:
        local = now.astimezone(_zone(source, schedule["timezone"]))
        due = croniter(cron, local + dt.timedelta(seconds=1)).get_prev(dt.datetime)
        return due.astimezone(dt.UTC)
    except (CroniterError, ValueError, OverflowError) as exc:
        raise KnowrepoError(source, _no_date(f"when schedule {cron!r} fell due", now, exc)) from None


def run_date(source: str, schedule: dict[str, Any], moment: dt.datetime) -> dt.date:
    """The date a run at `moment` is for, in the schedule's time zone (UTC without one)."""
    zone = _zone(source, schedule["timezone"]) if schedule else dt.UTC
    try:
        return moment.astimezone(zone).date()
    except (ValueError, OverflowError) as exc:
        raise KnowrepoError(source, _no_date("the date of the run", moment, exc)) from None


def _no_date(what: str, now: dt.datetime, exc: BaseException) -> str:
    return f"cannot find {what} before {now.isoformat(timespec='minutes')} ({' '.join(str(exc).split())})"
