"""Plain-text tables, as `git` and `kubectl` print them: a header row, then columns aligned by
their widest cell, nothing cut (a pipe or a log reads them whole; `--json` is for programs)."""

from __future__ import annotations

from collections.abc import Sequence

GAP = "  "


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a table: `header` in capitals, each column as wide as its widest cell (the
    last one unpadded, so no line ends in spaces)."""
    table = [[h.upper() for h in header], *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return [
        GAP.join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    ]
