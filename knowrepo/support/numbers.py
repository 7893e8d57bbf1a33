"""How a recorded figure (a metric) is written for people: 4,530,200 · 4.41 · 0.0123.

A figure may be text of any size (`record("note", "x" * 200_000)`): what is shown of it is cut,
since a card, a page, a history row and an email each carry a copy. run.json and the executed
notebook keep it whole.
"""

from __future__ import annotations

from typing import Any

SHOWN_TEXT = 200  # characters of a figure's (or a parameter's) text on cards, pages, history, emails
SHOWN_TEXT_RUN = 2_000  # ... on its own run's page, which says when it is cut


def format_figure(value: Any, limit: int | None = SHOWN_TEXT) -> str:
    """Thousands separators for large numbers, four significant digits for small ones; text
    cut at `limit` characters (None: whole)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.4g}"
    return clip(str(value), limit)


def clip(text: object, limit: int | None = SHOWN_TEXT) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut (None: whole)."""
    text = str(text)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def bounded(value: Any, limit: int = SHOWN_TEXT) -> Any:
    """`value` as a page's data carries it: a number as it is, anything else as its text cut."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return clip(value, limit)


def bounded_map(values: dict[str, Any], limit: int = SHOWN_TEXT) -> dict[str, Any]:
    """Parameters or figures with names and values cut (two cut names may meet: the first wins)."""
    shown: dict[str, Any] = {}
    for name, value in values.items():
        shown.setdefault(clip(name, limit), bounded(value, limit))
    return shown
