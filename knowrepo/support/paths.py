"""Which files knowrepo may read into the site: those inside the repository, outside its
.git/ and .knowrepo/ folders, after following symlinks. Report sources, images, declared
inputs and thumbnails are all checked here, so a symlink or a `../../` path in a report can
never publish a file from elsewhere on the machine."""

from __future__ import annotations

from pathlib import Path

PRIVATE_DIRS = (".git", ".knowrepo")


def outside_reason(root: Path, path: Path) -> str | None:
    """Why `path` may not be read into the site (None: it may)."""
    try:
        real = path.resolve()
        base = root.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
        return "is a symlink loop"
    except ValueError:  # a NUL byte
        return "is not a valid path"
    if not real.is_relative_to(base):
        return f"leads outside the repository (to {real})"
    parts = real.relative_to(base).parts
    if parts and parts[0] in PRIVATE_DIRS:
        return f"leads into the repository's {parts[0]}/ folder"
    return None
