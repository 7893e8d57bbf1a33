"""knowrepo: publish notebook and Markdown analyses as a static knowledge site."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

METRIC_MIME = "application/vnd.knowrepo.metric+json"


def record(name: str, value: Any, unit: str = "", format: str = "") -> None:
    """Record a headline figure of this run (shown on the report card, page and run history).

    `unit` follows the value ("EUR", "ms"; "%" is written without a space); `format` is a
    Python format spec (",.0f", ".1%": its "%" multiplies by 100 and writes the sign itself).
    It is a display output with its own MIME type, so it needs no server; a kernel without
    knowrepo installed can emit the same with IPython.display.display(
    {"application/vnd.knowrepo.metric+json": {"name": ..., "value": ..., "unit": ..., "format": ...}},
    raw=True).
    """
    from IPython.display import display  # (IPython: in the kernel, where record() runs)

    payload = {"name": str(name), "value": value}
    payload.update({k: v for k, v in (("unit", unit), ("format", format)) if v})
    display(
        {METRIC_MIME: payload, "text/plain": f"{name}: {value}{' ' + str(unit) if unit else ''}"}, raw=True
    )
