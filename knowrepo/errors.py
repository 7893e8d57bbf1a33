"""The one error type users see: a file and what is wrong with it, on one line."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any


class KnowrepoError(Exception):
    """An error the user can fix. `str()` is one line: `path: message`.

    It crosses process boundaries (render and run workers) intact: `__reduce__` rebuilds it
    from (path, message), since Exception's default pickling would call `__init__` with the
    formatted line alone and break the worker pool."""

    def __init__(self, path: str | Path | None, message: str) -> None:
        self.path = str(path) if path is not None else None
        self.message = " ".join(str(message).split())  # always one line
        super().__init__(self.path, self.message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.message))


def did_you_mean(name: str, valid: list[str] | set[str] | tuple[str, ...]) -> str:
    """A ' (did you mean X?)' suffix when a close valid name exists, else ''."""
    close = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_key_error(path: str | Path, where: str, key: str, valid: set[str]) -> KnowrepoError:
    """The error for a key that is not one of `valid`."""
    return KnowrepoError(
        path,
        f"unknown {where} '{key}'{did_you_mean(key, valid)}; valid: {', '.join(sorted(valid))}",
    )
