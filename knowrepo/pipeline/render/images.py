"""Images a report's prose points at (`![](img/plot.png)`), copied into the site's assets by
content hash: the 'images' body pass, and the front matter's thumbnail."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from knowrepo.pipeline.render.sanitize import clean_svg
from knowrepo.plugins import BodyContext
from knowrepo.support.paths import outside_reason

# What a report may show as an image (a path with another suffix is not copied: a .html or .js
# "image" would be a page or a script at the site's own origin).
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif", ".bmp", ".ico"}
_IMG_SRC = re.compile(r"""(<img\b[^>]*?\bsrc=(["']))(.+?)(\2)""", re.S)  # either quote, as HTML allows


def local_images(body: str, ctx: BodyContext) -> str:
    """Copy relative images the prose points at into the assets, by content hash."""

    def swap(match: re.Match[str]) -> str:
        src = html.unescape(match.group(3))
        if re.match(r"^([a-z][a-z0-9+.-]*:|/|#)", src, re.I) or src.startswith(ctx.asset_prefix):
            return match.group(0)
        found = image_file(ctx.root, ctx.source, src, ctx.sanitize, ctx.read)
        if isinstance(found, str):
            ctx.warn(f"{ctx.source}: image '{src}' {found}")
            return match.group(0)
        return f"{match.group(1)}{ctx.asset(*found)}{match.group(4)}"

    return _IMG_SRC.sub(swap, body)


def image_file(
    root: str, source: str, src: str, sanitize: bool, read: Callable[[str], bytes]
) -> tuple[bytes, str] | str:
    """(the bytes to publish, their suffix) of an image at `src`, relative to the report, read
    through `read` (which records it); or why it is not published."""
    base = Path(root)
    path = (base / source).parent / unquote(src.split("#")[0].split("?")[0])
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        return f"is not an image file ({path.suffix or 'no suffix'}); not published"
    if reason := outside_reason(base, path):
        return f"{reason}; not published"
    path = path.resolve()
    if not path.is_file():
        return "not found"
    data = read(path.relative_to(base.resolve()).as_posix())
    if sanitize and suffix == ".svg":
        cleaned = clean_svg(data)
        if cleaned is None:
            return "is not well-formed SVG; not published"
        data = cleaned
    return data, suffix
