"""The figures a run recorded (knowrepo.record, scrapbook's sb.glue) read from its executed
notebook: their values, the styles that fit them (unit, format), and one warning line for each
style that does not (the figure is then shown plainly)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from knowrepo import METRIC_MIME
from knowrepo.model import Run
from knowrepo.support.figures import style_of, style_problem
from knowrepo.support.numbers import clip

SCRAP_MIME = "application/scrapbook.scrap.json+json"


def recorded(nb: dict[str, Any]) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(code cell number from 1, MIME type, payload) of each figure the notebook recorded; cells
    are numbered as the author's notebook has them (without the cell papermill injects)."""
    code = (c for c in nb.get("cells", []) if c.get("cell_type") == "code" and not _injected(c))
    for number, cell in enumerate(code, 1):
        for output in cell.get("outputs", []):
            data = output.get("data", {}) if isinstance(output, dict) else {}
            for mime in (METRIC_MIME, SCRAP_MIME):
                payload = data.get(mime) if isinstance(data, dict) else None
                if isinstance(payload, dict) and "name" in payload:
                    yield number, mime, payload


def _injected(cell: dict[str, Any]) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return isinstance(tags, list) and "injected-parameters" in tags


def styles_of(nb: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The unit and format of each figure recorded with ones that fit its value (the last
    record of a name wins, as for its value)."""
    styles: dict[str, dict[str, str]] = {}
    for _number, mime, payload in recorded(nb):
        style = style_of(payload) if mime == METRIC_MIME else {}
        name = str(payload["name"])
        styles.pop(name, None)
        if style and style_problem(payload.get("value"), style) is None:
            styles[name] = style
    return styles


def style_warnings(run: Run) -> list[str]:
    """One line per figure of `run` whose unit or format does not fit (read from its stored
    notebook: the run is recorded, these are what it shows plainly)."""
    if not run.has_notebook:
        return []
    try:
        nb = json.loads(run.notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # (its page says what is wrong with it)
        return []
    lines = []
    for number, mime, payload in recorded(nb if isinstance(nb, dict) else {}):
        style = style_of(payload) if mime == METRIC_MIME else {}
        if style and (problem := style_problem(payload.get("value"), style)):
            name = clip(str(payload["name"]), 60)
            lines.append(
                f"{run.source} [{run.variant}]: cell {number}: figure {name!r}: {problem}; shown plainly"
            )
    return lines
