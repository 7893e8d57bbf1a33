"""The one error type users see: a file and what is wrong with it, on one line."""

from __future__ import annotations

import difflib
import errno
import re
from pathlib import Path
from typing import Any

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` as one printable line: each run of whitespace one space, other control characters
    escaped (a kernel's or a worker's text must not draw lines, or colours, of its own)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), " ".join(text.split()))


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
        if not self.path:
            return self.message
        # A file name may hold a line break (or any control character): shown escaped.
        path = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), self.path)
        return f"{path}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.message))

    def lines(self) -> list[str]:
        """What the terminal shows: one line (Problems: one per problem)."""
        return [str(self)]


class Problems(KnowrepoError):
    """Every problem of one file found in one pass (as `check` finds a front matter's): its
    one line joins them, `lines()` shows one line each, naming the file and the key."""

    def __init__(self, path: str | Path | None, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(path, "; ".join(self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.problems))

    def lines(self) -> list[str]:
        return [str(KnowrepoError(self.path, problem)) for problem in self.problems]


class WriteError(KnowrepoError):
    """The machine, not a report, is at fault (a full disk, a read-only folder): the build
    stops where it is and publishes nothing."""


_MACHINE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


def write_error(exc: BaseException) -> WriteError | None:
    """A WriteError for an OSError that only the machine's owner can fix, else None."""
    if isinstance(exc, OSError) and exc.errno in _MACHINE_ERRNOS:
        return WriteError(exc.filename, f"cannot write: {exc.strerror}; the published site is unchanged")
    return None


def did_you_mean(name: str, valid: list[str] | set[str] | tuple[str, ...]) -> str:
    """A ' (did you mean X?)' suffix when a close valid name exists, else ''."""
    close = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.75)  # only a near miss
    if not close:  # (difflib scores a short name's swapped letters low: 'ue' for 'eu' is 0.5)
        letters = sorted(name.casefold())
        close = [v for v in sorted(valid) if sorted(v.casefold()) == letters][:1]
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_key_error(path: str | Path, where: str, key: str, valid: set[str]) -> KnowrepoError:
    """The error for a key that is not one of `valid`."""
    return KnowrepoError(
        path,
        f"unknown {where} '{key}'{did_you_mean(key, valid)}; valid: {', '.join(sorted(valid))}",
    )
