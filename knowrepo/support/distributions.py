"""The installed distributions as a build needs them: the entry points of a group (plugins),
and a stamp that changes when any distribution is installed, upgraded or removed.

importlib.metadata reads every distribution's metadata (20-50 ms); the no-op build and a build
without plugins need less, so these read the metadata folders' names first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


def entry_points_of(group: str) -> list[EntryPoint]:
    """The entry points of `group`, sorted by distribution and name (the load order)."""
    if not _maybe_declared(group):
        return []
    import importlib.metadata  # (only when one may be declared: see _maybe_declared)

    found = importlib.metadata.entry_points(group=group)
    return sorted(found, key=lambda ep: ((ep.dist.name if ep.dist else "").lower(), ep.name))


def _maybe_declared(group: str) -> bool:
    """Whether any distribution on sys.path may declare `group`: a look at each one's
    entry_points.txt (~2 ms). Without one, a build skips importing importlib.metadata and its
    scan of every distribution (~20 ms of a one-report rebuild); a zip on sys.path is read by
    importlib.metadata alone."""
    header = f"[{group}]"
    for folder, names in _metadata_folders():
        if folder is None:
            return True
        for name in names:
            with contextlib.suppress(OSError), open(os.path.join(folder, name, "entry_points.txt")) as text:
                if header in text.read():
                    return True
    return False


def _metadata_folders() -> Iterator[tuple[str | None, list[str]]]:
    """(folder, its distributions' metadata folders) of each folder on sys.path; (None, []) for
    an entry that is no folder (a zip)."""
    for entry in sys.path:
        folder = entry or "."
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if e.name.endswith((".dist-info", ".egg-info")))
        except NotADirectoryError:
            yield None, []
            continue
        except OSError:
            continue
        yield folder, names


def installed_stamp() -> str:
    """The distributions on sys.path, by the names of their metadata folders (each name holds
    a version): an install, upgrade or removal changes it. Listing each folder takes ~0.5 ms,
    so the no-op build checks this instead of reading every entry point (20-50 ms)."""
    names = [f"{folder}/{name}" for folder, found in _metadata_folders() for name in found]
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
