"""What time it is, for schedules and the age of runs. KNOWREPO_NOW (an ISO date-time, UTC if no
zone is given) sets it, so that tests and dry runs can ask "what if it were then"."""

from __future__ import annotations

import datetime as dt
import os

from knowrepo.errors import KnowrepoError

ENV = "KNOWREPO_NOW"


def now() -> dt.datetime:
    """The current time, aware (UTC unless KNOWREPO_NOW says otherwise)."""
    text = os.environ.get(ENV)
    if not text:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise KnowrepoError(None, f"{ENV}={text!r} is not an ISO date-time like 2026-11-02T06:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
