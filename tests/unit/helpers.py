"""What the unit tests share: the one-line error a call raises, and a report's card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from knowrepo.errors import KnowrepoError
from knowrepo.model import Card

CARD = Card("a", "A", ("Ana",), ("t",), "2026-01-02", "S", None, "markdown", False, {"n": 1}, False)


def error_line(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The line a user sees for the KnowrepoError that `call(*args, **kwargs)` raises (the test
    fails if it raises none, or if that line is not one line)."""
    with pytest.raises(KnowrepoError) as raised:
        call(*args, **kwargs)
    line = str(raised.value)
    assert len(line.splitlines()) == 1, repr(line)
    return line
