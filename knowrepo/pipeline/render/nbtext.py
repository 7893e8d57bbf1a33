"""A notebook's multiline strings: .ipynb JSON may store them as lists of lines."""

from __future__ import annotations

from typing import Any


def joined(value: Any) -> str:
    """The text of a source, stream or MIME value (a list of lines joined, as nbformat's reader does)."""
    return "".join(map(str, value)) if isinstance(value, list) else str(value or "")
