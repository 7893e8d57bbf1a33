"""The date a page or card shows, and how it says it: a notebook's pages and card are dated by
the run they show (and the period its data covers), a Markdown report by its source's date."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypedDict

from knowrepo.model import Report, Run

_PERIOD = re.compile(r"(?P<year>\d{4})(?:-(?:(?P<month>\d{2})(?:-(?P<day>\d{2}))?|Q(?P<quarter>[1-4])))?")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # (not the locale's: the site is in English)
# Where a source's date comes from (Report.date_from) -> the word a reader sees before it.
_WORDS = {"updated": "Updated", "commit": "Updated", "modified": "Updated", "created": "Created"}


class Dated(TypedDict):
    """What a page or card is dated by: `word` ("Run", "Updated", "Created", or "" when
    unknown), its ISO date, and the period its data covers (the run's, "" when it says none)."""

    word: str
    date: str
    period: str


def period_label(period: str) -> str:
    """How a run's period reads: 2026-11 -> November 2026, 2026-11-02 -> 2 Nov 2026,
    2026-Q3 -> Q3 2026, 2026 -> 2026; anything else as written."""
    found = _PERIOD.fullmatch(period.strip())
    if found is None:
        return period
    year, month, day, quarter = found.group("year", "month", "day", "quarter")
    if quarter:
        return f"Q{quarter} {year}"
    if not month:
        return year
    if not 1 <= int(month) <= 12:
        return period
    if not day:
        return f"{MONTHS[int(month) - 1]} {year}"
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        return period
    return f"{date.day} {MONTHS[date.month - 1][:3]} {year}"


def page_dated(report: Report, run: Run | None) -> Dated:
    """The date of a page that shows `run` (None: the report's source alone)."""
    if run is not None and run.started:
        return {"word": "Run", "date": run.started[:10], "period": run.period}
    return {"word": _WORDS.get(report.date_from, ""), "date": report.date, "period": ""}
