"""Content-addressed asset files (plots, images, thumbnails): each is written once, by hash."""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path

from knowrepo.support.atomic import write_atomic

THUMB_WIDTH = 480
# Image outputs written as asset files, by the suffix of their file.
IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/svg+xml": ".svg"}


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, without decoding the image."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return None


def asset_name(data: bytes, suffix: str) -> str:
    """The file name of an asset: the hash of its bytes (the same bytes, the same file)."""
    return hashlib.sha256(data).hexdigest()[:20] + suffix


class AssetStore:
    """A folder of files named by the hash of their content."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes, suffix: str) -> str:
        name = asset_name(data, suffix)
        path = self.folder / name
        if not path.exists():
            write_atomic(path, data)
        return name

    def thumbnail(self, name: str) -> str | None:
        """A small WebP of a stored raster image (for cards and search results), or None."""
        thumb = f"thumb-{name.rsplit('.', 1)[0]}.webp"
        if (self.folder / thumb).exists():
            return thumb
        try:
            from PIL import Image  # only rendering workers pay for Pillow

            with Image.open(self.folder / name) as opened:
                image = opened.convert("RGB")
                image.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 2))
                out = io.BytesIO()
                image.save(out, "WEBP", quality=72, method=4)
        except (OSError, ValueError):
            return None
        write_atomic(self.folder / thumb, out.getvalue())
        return thumb
