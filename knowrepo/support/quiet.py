"""Library warnings stay off the user's terminal unless -v: WeasyPrint's font notes, nbconvert's
"No lexer found", matplotlib's and Pillow's, Dask's connection chatter. What knowrepo has to
say about a report it says itself, once, as `warning: file: ...`."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Literal, TextIO

LIBRARY_LOGGERS = (
    "weasyprint", "fontTools", "nbconvert", "traitlets", "matplotlib", "PIL", "papermill",
    "distributed", "tornado", "asyncio", "jupytext",
)  # fmt: skip
LIBRARY_MODULES = (
    r"(weasyprint|fontTools|nbconvert|nbformat|matplotlib|PIL|traitlets|jupyter_client|jupytext)(\.|$)"
)


_VERBOSE = [False]  # what the command asked for (-v), for libraries imported later


def quiet_libraries(verbosity: int) -> None:
    """Below -v: library loggers say only errors, and their Python warnings are dropped. With
    -v: each library warning is shown once (per process), named by its library."""
    verbose = _VERBOSE[0] = verbosity >= 2
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING if verbose else logging.ERROR)
        if verbose and not any(isinstance(h, _OnceHandler) for h in logger.handlers):
            logger.addHandler(_OnceHandler())
            logger.propagate = False  # (a root handler that a library set up would print it again)
    action: Literal["default", "ignore"] = "default" if verbose else "ignore"
    warnings.filterwarnings(action, module=LIBRARY_MODULES)
    warnings.filterwarnings(action, message="No lexer found")


def quiet_dask() -> None:
    """Below -v, Dask's client says nothing on the terminal: importing `distributed` sets its
    own levels and handler (its `logging` config), and then logs with tracebacks what a worker
    sent that cannot be read here, which knowrepo reports itself as the run's one-line failure."""
    if _VERBOSE[0]:
        return
    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("distributed.", "tornado.")):
            logging.getLogger(name).setLevel(logging.NOTSET)  # (Dask sets some: they follow theirs)


class _OnceHandler(logging.StreamHandler[TextIO]):
    """`warning (weasyprint): ...` on stderr, each distinct message once."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s (%(name)s): %(message)s"))
        self.seen: set[tuple[str, str]] = set()

    def emit(self, record: logging.LogRecord) -> None:
        key = (record.name, record.getMessage())
        if key not in self.seen:
            self.seen.add(key)
            record.levelname = record.levelname.lower()
            super().emit(record)


@contextlib.contextmanager
def captured(name: str) -> Iterator[list[str]]:
    """The warnings logger `name` gives meanwhile, as "library: message" lines, instead of
    printing them (in a worker process: its parent decides what the user sees)."""
    logger = logging.getLogger(name)
    notes: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            notes.append(f"{record.name}: {record.getMessage()}")

    kept = logger.handlers[:], logger.level, logger.propagate
    logger.handlers, logger.propagate = [Collect(logging.WARNING)], False
    logger.setLevel(logging.WARNING)
    try:
        yield notes
    finally:
        logger.handlers, logger.level, logger.propagate = kept
