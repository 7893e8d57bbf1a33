"""Notebook downloads that do not publish their images twice.

A notebook's images are base64 text inside it, and the site already publishes each of them as
an image file: copying the notebook whole doubled a plot-heavy site. So a download is published
as its skeleton: the exact text of the notebook with each such image replaced by a marker that
names the published file and how its base64 was laid out. site.js puts the bytes back when a
reader clicks the link, and the file saved is the notebook byte for byte (the test compares).

Written by hand: no library does this; it works on the raw text (never re-serialised JSON), so
the result is exact whatever wrote the notebook.
"""

from __future__ import annotations

import base64
import binascii
import re

from knowrepo.pipeline.render.assets import asset_name

LEAN_SUFFIX = ".lean.json"  # what a notebook published as its skeleton is named after
MARK = "@@knowrepo-image:"  # @@knowrepo-image:<name>:<line length, 0: one line>:<1: ends with \n>@@
# One image in the raw JSON text: "image/png": "<base64, lines joined by the two characters \n>"
_IMAGE = re.compile(r'"image/(png|jpeg)"(\s*:\s*)"([A-Za-z0-9+/=\\n]{64,})"')
_SUFFIX = {"png": ".png", "jpeg": ".jpg"}


def laid_out(encoded: str, width: int, newline: bool) -> str:
    """base64 text as a notebook holds it: in lines of `width` (0: one line), "\\n" escapes."""
    lines = [encoded[i : i + width] for i in range(0, len(encoded), width)] if width else [encoded]
    return "\\n".join(lines) + ("\\n" if newline else "")


def _marker(kind: str, value: str, published: set[str]) -> str | None:
    """The marker for one image, when the site publishes its bytes and they rebuild exactly."""
    lines = value.split("\\n")
    newline = lines[-1] == ""
    body = lines[:-1] if newline else lines
    try:
        blob = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError):
        return None
    name = asset_name(blob, _SUFFIX[kind])
    width = len(body[0]) if len(body) > 1 else 0
    if name not in published or laid_out(base64.b64encode(blob).decode(), width, newline) != value:
        return None
    return f"{MARK}{name}:{width}:{int(newline)}@@"


def skeleton(raw: bytes, published: set[str]) -> bytes | None:
    """The notebook's text with its published images as markers; None when nothing is saved
    (no such image, text that is not UTF-8, or a notebook that holds the marker itself)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if MARK in text:
        return None
    swapped = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal swapped
        marker = _marker(match.group(1), match.group(3), published)
        if marker is None:
            return match.group(0)
        swapped += 1
        return f'"image/{match.group(1)}"{match.group(2)}"{marker}"'

    text = _IMAGE.sub(swap, text)
    return text.encode("utf-8") if swapped else None
