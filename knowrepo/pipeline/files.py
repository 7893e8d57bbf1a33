"""The files the site will contain: one type for each, one collector that refuses two writers
of one path, and the step that stages them all into the new version.

A file is new bytes, a file to copy in (its bytes are compared with the published version's),
a file to hard-link in as it is (a cached image, a run's notebook), or the published version's
own file at the same path, reused. Paths are plain strings: staging 5,000 files through
pathlib cost more than the system calls themselves (measured at 1,000 reports).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple, cast

from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.versions import Stager
from knowrepo.support.hashing import content_hash

BYTES, COPY, LINK, REUSE = "bytes", "copy", "link", "reuse"


class SiteFile(NamedTuple):
    """One file of the site (a tuple: a build at 1,000 reports makes ~10,000 of them)."""

    kind: str  # BYTES | COPY | LINK | REUSE
    value: bytes | str | None  # the bytes, or the path of the file to copy or link in
    owner: str  # who writes it: a report's source, "site", "theme", "assets", "search"


class SiteFiles:
    """Every file of the new version by site path, and the page keys that let the next build
    reuse a page instead of rendering it again."""

    def __init__(self, previous: str | None) -> None:
        self.previous = previous  # the published version's folder
        self.files: dict[str, SiteFile] = {}
        self.keys: dict[str, str] = {}

    def add(self, path: str, kind: str, value: bytes | str | None, owner: str, key: str = "") -> None:
        known = self.files.get(path)
        if known is not None and known.owner != owner:
            raise KnowrepoError(owner, f"would write {path}, which {known.owner} writes too")
        if kind == REUSE:
            assert self.previous is not None  # (only a build with a published version reuses)
            kind, value = LINK, os.path.join(self.previous, path)
        self.files[path] = SiteFile(kind, value, owner)
        if key:
            self.keys[path] = key

    def add_all(self, files: list[tuple[str, str, bytes | str | None, str]], owner: str) -> None:
        """Add (path, kind, value, key) files of one owner, or none of them if one path is taken."""
        for path, *_rest in files:
            known = self.files.get(path)
            if known is not None and known.owner != owner:
                raise KnowrepoError(owner, f"would write {path}, which {known.owner} writes too")
        for path, kind, value, key in files:
            self.add(path, kind, value, owner, key)

    def stage(self, stager: Stager, published_hashes: dict[str, str]) -> None:
        """Put every file into the new version: links as they are; bytes and copies written,
        unless the published version has the same bytes at that path (then linked to it)."""
        previous = self.previous
        for path, (kind, value, _owner) in sorted(self.files.items()):
            # (a file's value is its bytes when its kind is BYTES, else the path of the file)
            if kind == LINK:
                target = cast(str, value)
                if path not in stager.done:
                    stager.link(path, target)
                stager.files[path] = published_hashes.get(path) or os.path.basename(target)
                continue
            data = cast(bytes, value) if kind == BYTES else Path(cast(str, value)).read_bytes()
            digest = content_hash(data)
            old = os.path.join(previous, path) if previous else None
            if old and published_hashes.get(path) == digest and os.path.exists(old):
                stager.link(path, old)
            else:
                stager.write(path, data)
            stager.files[path] = digest
