"""knowrepo: publish notebook and Markdown analyses as a static knowledge site."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

METRIC_MIME = "application/vnd.knowrepo.metric+json"


def record(name: str, value: Any) -> None:
    """Record a headline figure of this run (shown on the report card, page and run history).

    It is a display output with its own MIME type, so it needs no server; a kernel without
    knowrepo installed can emit the same with IPython.display.display(
    {"application/vnd.knowrepo.metric+json": {"name": ..., "value": ...}}, raw=True).
    """
    from IPython.display import display  # (IPython: in the kernel, where record() runs)

    display({METRIC_MIME: {"name": str(name), "value": value}, "text/plain": f"{name}: {value}"}, raw=True)
