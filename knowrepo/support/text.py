"""Text files as knowrepo reads them (the config, reports, front matter, a theme's files, a
parameters file): UTF-8, with or without the byte-order mark Windows editors write, and a
file that is not UTF-8 named on one line, never a UnicodeDecodeError."""

from __future__ import annotations

from pathlib import Path

from knowrepo.errors import KnowrepoError


def not_utf8(exc: UnicodeDecodeError) -> str:
    """What is wrong, as the messages say it: 'not UTF-8 text: invalid start byte at byte 7'."""
    return f"not UTF-8 text: {exc.reason} at byte {exc.start}"


def decode(data: bytes, path: str | Path) -> str:
    """`data` as text, without a leading byte-order mark (with one, the front matter's `---`
    would not open the file, and TOML refuses the file). Byte positions are the file's."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise KnowrepoError(path, not_utf8(exc)) from None


def read_text(path: Path, shown: str | Path | None = None) -> str:
    """The text of the file at `path`; errors name it as `shown` (default: the path)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KnowrepoError(shown or path, f"cannot read: {exc.strerror or exc}") from None
    return decode(data, shown or path)
