"""The one spelling of a content hash: 20 hex digits of SHA-256 (80 bits: collisions among a
repository's files and keys are out of reach), of bytes or of a JSON-able value."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

DIGITS = 20


def content_hash(data: bytes) -> str:
    """The hash of some bytes (a file's content, an image, a page)."""
    return hashlib.sha256(data).hexdigest()[:DIGITS]


def key_of(*parts: Any) -> str:
    """The hash of JSON-able values (keys sort, other objects as their str): a cache key."""
    return content_hash(json.dumps(parts, sort_keys=True, default=str).encode())


def file_hash(path: Path | str) -> str | None:
    """The content hash of a file, or None when it cannot be read."""
    try:
        return content_hash(Path(path).read_bytes())
    except OSError:
        return None
