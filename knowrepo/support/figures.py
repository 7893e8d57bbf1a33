"""How a recorded figure reads: its value written with the unit and format its author gave
(`knowrepo.record("revenue", 410040, unit="EUR", format=",.0f")` reads "410,040 EUR").

The format is a Python format spec (the language of f"{value:,.0f}", which the notebook's
authors already write); its type "%" multiplies by 100 and writes the percent sign, so the
unit "%" is not written a second time. A figure's style is checked once, when its run is
recorded; a style that does not fit its value (a bad spec, a unit that is not short text) is
never applied: the value shows plainly, as a figure without style does.
"""

from __future__ import annotations

import re
from typing import Any

from knowrepo.support.numbers import SHOWN_TEXT, clip, format_figure

UNIT_CHARS = 16  # a unit is a word or a sign ("%", "EUR", "ms", "users"), not a sentence
_WIDEST = 40  # a width or precision beyond this is a typo (and "999999999d" would fill memory)
_SPEC = re.compile(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d+)?[,_]?(?:\.(?P<precision>\d+))?(?P<type>[bcdeEfFgGnosxX%])?"
)
_MINUS = "\u2212"
_NBSP = "\u00a0"  # between a number and its unit: a tile never breaks "410,040 EUR" in two


def style_of(payload: dict[str, Any]) -> dict[str, str]:
    """The style keys a recorded figure carries ("unit", "format"), as given (checked apart)."""
    return {key: payload[key] for key in ("unit", "format") if payload.get(key) not in (None, "")}


def style_problem(value: Any, style: dict[str, Any]) -> str | None:
    """What keeps `style` from applying to `value` (None: it applies)."""
    unit, spec = style.get("unit", ""), style.get("format", "")
    if not isinstance(unit, str) or len(unit) > UNIT_CHARS or not unit.isprintable():
        return f"unit {clip(repr(unit), 40)} is not text of at most {UNIT_CHARS} characters"
    if not isinstance(spec, str):
        return f"format {clip(repr(spec), 40)} is not text (a Python format spec such as ',.0f' or '.1%')"
    if not spec:
        return None
    match = _SPEC.fullmatch(spec)
    if match is None or any(int(match[g] or 0) > _WIDEST for g in ("width", "precision")):
        return f"format {clip(repr(spec), 40)} is not a Python format spec (such as ',.0f' or '.1%')"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"format {spec!r} is for numbers, and the value is {clip(repr(value), 40)}"
    try:
        format(value, spec)
    except (ValueError, TypeError) as exc:
        return f"format {spec!r} does not fit the value {clip(repr(value), 40)} ({exc})"
    return None


def show_figure(value: Any, limit: int | None = SHOWN_TEXT, style: dict[str, Any] | None = None) -> str:
    """`value` as people read it: with its style when it has one that fits, else plainly
    (support/numbers.format_figure); cut at `limit` characters (None: whole). The one way every
    page, email and PDF writes a figure (the template filter `figure`)."""
    if not style or style_problem(value, style) is not None:
        return format_figure(value, limit)
    spec, unit = style.get("format", ""), style.get("unit", "")
    text = format(value, spec) if spec else format_figure(value, None)
    if text.startswith("-"):  # a minus sign, as the change beside it is written (not a hyphen)
        text = _MINUS + text[1:]
    if unit == "%":
        text += "" if text.endswith("%") else "%"
    elif unit:
        text += _NBSP + unit
    return clip(text, limit)


def figure_label(name: str) -> str:
    """A figure's name as a label: `churn_rate` reads "churn rate" (the name itself is kept)."""
    return name.replace("_", " ").strip() or name


def change_rule(value: Any, style: dict[str, Any] | None) -> dict[str, Any]:
    """How a change of this figure is written (compare.js): the decimals of its format (None:
    the values' own), whether it is a share written as percent (a change in points), its unit."""
    if not style or style_problem(value, style) is not None:
        return {}
    match = _SPEC.fullmatch(style.get("format", ""))
    kind, precision = (match["type"], match["precision"]) if match else (None, None)
    decimals = 0 if kind in ("d", "n") else None
    if precision and kind in ("f", "F", "%", "e", "E"):  # (in "g" a precision counts digits, not decimals)
        decimals = int(precision)
    return {
        "decimals": decimals,
        "percent": kind == "%",
        "grouping": "," in style.get("format", ""),
        "unit": "" if kind == "%" else str(style.get("unit", "")),
    }


def shown_figures(metrics: dict[str, Any], styles: dict[str, dict[str, str]]) -> dict[str, str]:
    """Figures as a text (an email) lists them: label -> the figure written with its style."""
    return {
        clip(figure_label(name)): show_figure(value, style=styles.get(name))
        for name, value in metrics.items()
    }
