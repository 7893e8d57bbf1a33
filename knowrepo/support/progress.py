"""Progress and messages: one reporter object the CLI passes into the pipeline stages.

Stages never print; they tell the reporter. On a terminal it draws a rich progress bar;
elsewhere (CI logs, pipes) it writes plain lines.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class Reporter(Protocol):
    def phase(self, name: str, total: int) -> None: ...
    def advance(self, label: str) -> None: ...
    def end_phase(self) -> None: ...
    def info(self, message: str) -> None: ...
    def detail(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...


class LineReporter:
    """Plain lines on stderr. verbosity: 0 quiet (errors only), 1 normal, 2 every file."""

    def __init__(self, verbosity: int = 1, stream: TextIO | None = None) -> None:
        self.verbosity = verbosity
        self.stream = stream or sys.stderr
        self._phase = ""

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def phase(self, name: str, total: int) -> None:
        self._phase = name
        if self.verbosity >= 1 and total:
            self._print(f"{name}: {total}")

    def advance(self, label: str) -> None:
        if self.verbosity >= 2:
            self._print(f"  {self._phase.lower()} {label}")

    def end_phase(self) -> None:
        self._phase = ""

    def info(self, message: str) -> None:
        if self.verbosity >= 1:
            self._print(message)

    def detail(self, message: str) -> None:
        """What only -v shows (files skipped, fields ignored)."""
        if self.verbosity >= 2:
            self._print(message)

    def warn(self, message: str) -> None:
        if self.verbosity >= 1:
            self._print(f"warning: {message}")

    def error(self, message: str) -> None:
        self._print(f"error: {message}")


class RichReporter(LineReporter):
    """A progress bar per phase, on a terminal."""

    def __init__(self, verbosity: int = 1) -> None:
        super().__init__(verbosity)
        from rich.console import Console  # (rich: only to draw a table or a progress bar)

        self.console = Console(stderr=True)
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def _print(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def phase(self, name: str, total: int) -> None:
        # (rich: only to draw a table or a progress bar)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.end_phase()
        if not total or self.verbosity < 1:
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[label]}"),
            console=self.console,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(name, total=total, label="")

    def advance(self, label: str) -> None:
        if self._progress is not None and self._task is not None:  # (set together, by phase)
            self._progress.update(self._task, advance=1, label=label)
        super().advance(label)

    def end_phase(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def warn(self, message: str) -> None:
        if self.verbosity >= 1:
            self.console.print(f"[yellow]warning:[/] {message}", highlight=False)

    def error(self, message: str) -> None:
        self.console.print(f"[bold red]error:[/] {message}", highlight=False)


def make_reporter(verbosity: int) -> Reporter:
    return RichReporter(verbosity) if sys.stderr.isatty() else LineReporter(verbosity)
