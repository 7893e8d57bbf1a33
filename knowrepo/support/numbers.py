"""How a recorded figure (a metric) is written for people: 4,530,200 · 4.41 · 0.0123."""

from __future__ import annotations

from typing import Any


def format_figure(value: Any) -> str:
    """Thousands separators for large numbers, four significant digits for small ones."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.4g}"
    return str(value)
