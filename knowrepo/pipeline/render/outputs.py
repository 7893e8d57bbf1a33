"""How one notebook output shows on a static page when no renderer draws it: what needs a
kernel or a CDN script gives way to its static fallback, long outputs are cut, report HTML is
sanitized; and the metric tile (knowrepo.record's output type)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from knowrepo.pipeline.render.assets import IMAGE_TYPES
from knowrepo.pipeline.render.charts import BOKEH_EXEC
from knowrepo.pipeline.render.nbtext import joined as _text
from knowrepo.pipeline.render.sanitize import clean_html
from knowrepo.support.figures import figure_label, show_figure, style_of
from knowrepo.support.numbers import clip

# Output types that only show something with a live kernel or a script from the internet.
LIVE_ONLY = ("application/vnd.jupyter.widget-view+json", "application/javascript", BOKEH_EXEC)
STATIC_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "text/markdown", "text/latex")


# (each script found once, to its end: a lookahead per character was quadratic on 1 MB of tags)
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)(?:</script|\Z)", re.S | re.I)
_LOADS = re.compile(r"\b(?:require|vegaEmbed)\s*\(")
_SRC = re.compile(r"\bsrc\s*=", re.I)


def loads_script(page: str) -> bool:
    """Whether HTML loads a script from elsewhere (a CDN, require.js, Altair's loader): without
    it, it shows nothing."""
    return any(_SRC.search(m.group(1)) or _LOADS.search(m.group(2)) for m in _SCRIPT.finditer(page))


INTERACTIVE_NOTE = '<p class="interactive-note">Interactive output: open the notebook to see it.</p>'


# The repr Python gives an object that has no repr of its own: worth less than any other type.
_OBJECT_REPR = re.compile(r"^<[\w.]+ object(?: at 0x[0-9a-f]+)?>$")
_WIDGET_REPR = re.compile(r"^([A-Z]\w*)\(")


def widget_note(plain: str) -> str:
    """What an ipywidget shows without a kernel: its kind, not `IntSlider(value=7, ...)`."""
    kind = f" ({html.escape(match.group(1))})" if (match := _WIDGET_REPR.match(plain)) else ""
    return f'<p class="interactive-note">Interactive widget{kind}: it works in the running notebook.</p>'


def richest_static(data: dict[str, Any], limit: int) -> dict[str, Any]:
    """A bare `<IPython.core.display.JSON object>` repr gives way to the richest other type
    (nbconvert shows no JSON: it is shown as indented text)."""
    plain = _text(data.get("text/plain", "")).strip()
    if plain and not _OBJECT_REPR.match(plain):
        return data
    others = {k: v for k, v in data.items() if k != "text/plain"}
    if any(k in others for k in (*STATIC_TYPES, "text/html")):
        return others
    if "application/json" in others:  # (not scrapbook's +json: its values are metrics, not shown)
        shown = json.dumps(others["application/json"], indent=2, ensure_ascii=False, default=str)
        capped: dict[str, Any] = cap_output({"data": {**others, "text/plain": shown}}, limit)["data"]
        return capped
    return data


def json_mime(mime: str) -> bool:
    return mime == "application/json" or mime.endswith("+json")


def static_outputs(output: dict[str, Any], sanitize: bool, limit: int) -> dict[str, Any]:
    """Drop output types that need a kernel or a CDN script, keeping the static fallback; with
    `sanitize`, HTML output cannot run script."""
    data = output.get("data")
    if not isinstance(data, dict):
        return output
    if LIVE_ONLY[0] in data and not any(k in data for k in (*STATIC_TYPES, "text/html")):
        return {**output, "data": {"text/html": widget_note(_text(data.get("text/plain", "")))}}
    live = any(k in data for k in LIVE_ONLY)
    data = richest_static({k: v for k, v in data.items() if k not in LIVE_ONLY}, limit)
    if live and list(data) == ["text/plain"] and _OBJECT_REPR.match(_text(data["text/plain"]).strip()):
        data = {}  # only <IPython.core.display.Javascript object> is left: the note says more
    page = _text(data.get("text/html", ""))
    needs_script = loads_script(page)
    has_static = any(k in data for k in STATIC_TYPES)
    if needs_script and has_static:
        data.pop("text/html")
    elif needs_script:
        data["text/html"] = INTERACTIVE_NOTE
    elif "text/html" in data and sanitize:
        data["text/html"] = clean_html(page)
    if not data:
        data = {"text/html": INTERACTIVE_NOTE}
    return {**output, "data": data}


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def cap_output(output: dict[str, Any], limit: int) -> dict[str, Any]:
    """An output whose text or HTML is longer than `limit` bytes, cut (text) or replaced by a
    note (HTML, images over 16 x limit): a page is never tens of megabytes of one output."""
    note = "the whole output is in the executed notebook"
    if output.get("output_type") == "stream" and len(output.get("text", "")) > limit:
        text = output["text"]
        return {
            **output,
            "text": text[:limit] + f"\n… output cut at {_size(limit)} of {_size(len(text))}; {note}\n",
        }
    data = output.get("data")
    if not isinstance(data, dict):
        return output
    capped = dict(data)
    for mime, value in data.items():
        size = len(value) if isinstance(value, str) else 0
        if mime in IMAGE_TYPES and size > 16 * limit or mime == "text/html" and size > limit:
            del capped[mime]
            capped["text/html"] = (
                f'<p class="output-cut">An output of {_size(size)} is not shown here; {note}.</p>'
            )
        elif mime == "text/plain" and size > limit:
            capped[mime] = value[:limit] + f"\n… output cut at {_size(limit)} of {_size(size)}; {note}"
    return {**output, "data": capped}


def metric_tile(data: Any) -> str | None:
    """A recorded metric (knowrepo.record) as a tile: its name and its figure."""
    if not isinstance(data, dict) or "name" not in data:
        return None
    value = html.escape(show_figure(data.get("value"), style=style_of(data)))
    name = html.escape(figure_label(clip(str(data["name"]))))
    return (
        f'<div class="kr-metric"><span class="kr-metric-name">{name}</span> '
        f'<span class="kr-metric-value">{value}</span></div>'
    )
