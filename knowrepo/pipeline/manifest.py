"""The manifest: what the last build read and wrote, one typed schema, read and written here only.

It lives in .knowrepo/ (one per output folder) and is never published. Stored as a header line
(schema version and the checksum of the rest) and the JSON body: a manifest that is truncated,
edited, of another version, or whose body is not of the shape these dataclasses declare (a
checksum that holds says nothing of that) is not trusted, and the build starts over (a full
rebuild, never a crash). Like Sphinx's ENV_VERSION: bump VERSION whenever a field changes meaning.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, TypeVar

import orjson

from knowrepo.model import Card
from knowrepo.support.atomic import write_atomic
from knowrepo.support.hashing import content_hash
from knowrepo.support.secrets import masked
from knowrepo.support.shapes import fits

VERSION = 7  # 7: front matter's list fields split at commas (records of 6 hold 'a,b' as one tag)
Record = TypeVar("Record")


def _fast(cls: type[Record], data: dict[str, Any]) -> Record:
    """An instance of the dataclass `cls` with `data` as its fields, without calling __init__:
    load_manifest checked its shape already, and the 3,000 records of a 1,000-report manifest
    took 0.016 s through __init__ (cProfile), a tenth of a no-op build."""
    record = cls.__new__(cls)
    record.__dict__.update(data)
    return record


class Snapshot(TypedDict, total=False):
    """The stats of every file a build read ([mtime_ns, size], None: missing), as
    incremental.input_snapshot makes them: equal snapshots, nothing to do."""

    knowrepo: dict[str, Any]  # knowrepo's version, its modules' stats, the chart packages
    config: list[int] | None
    theme: dict[str, list[int] | None]
    sources: dict[str, list[int]]
    refused: dict[str, str]  # files under reports/ not read, and why
    skipped: dict[str, str]
    deps: dict[str, list[int] | None]  # files the pages read (images, declared inputs)
    flags: dict[str, Any]  # the build's options that change what it makes
    runs: dict[str, int]  # the run store's folders' mtimes
    pins: list[int] | None  # runs/pins.yaml (knowrepo publish): a change replans every report
    git: list[int] | None  # gitdates.git_stamp: a commit changes the dates of Markdown reports


@dataclass
class SourceRecord:
    """One report source as discovery last read it (reused while its stat is unchanged)."""

    stat: list[int]  # [mtime_ns, size]
    hash: str  # of the file's bytes
    error: str | None = None  # why it is not a report
    problems: list[list[Any]] | None = None  # [line, message] of each front-matter problem
    meta: dict[str, Any] | None = None  # the validated front matter (Meta.to_json)
    front: str = ""  # hash of the front matter's text: equal text is not parsed again
    heading: str = ""
    kind: str = ""  # "notebook" or "markdown" (a .md can be either)
    ignored: list[str] = field(default_factory=list)  # front-matter fields of other tools
    skipped: str = ""  # why this file is not a report (a .py without cells)
    mtime_date: str = ""
    git_date: str = ""  # the date of its last commit (when its front matter has no `updated`)
    git_stamp: list[int] | None = None  # gitdates.git_stamp when git_date was asked: a commit asks again
    secret: bool = False  # its meta's private values are stored as ***: read the source again

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        meta = self.meta
        if meta and meta.get("private_params"):  # (the manifest holds no private value)
            private = tuple(meta["private_params"])
            variants = {name: masked(values, private) for name, values in meta["variants"].items()}
            data["meta"] = {**meta, "params": masked(meta["params"], private), "variants": variants}
            data["secret"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceRecord:
        return _fast(cls, data)


@dataclass
class ReportEntry:
    """One published report: its files, card and the keys that tell whether it is current."""

    source: str
    files: list[str]  # its site paths
    images: list[str]  # asset names its pages show
    card: Card
    searchable: dict[str, str]  # indexed page -> its key
    deps: dict[str, str | None] = field(default_factory=dict)  # files it read -> content hash
    views: list[str] = field(default_factory=list)  # the keys of its rendered bodies
    key: str = ""  # hash of everything its pages show
    card_key: str = ""  # hash of its card (listings are keyed by these)
    failed_runs: list[str] = field(default_factory=list)  # its variants whose latest run failed

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "card": self.card.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportEntry:
        entry = _fast(cls, data)
        entry.card = _fast(Card, data["card"])
        entry.card.__dict__["authors"] = tuple(entry.card.authors)
        entry.card.__dict__["tags"] = tuple(entry.card.tags)
        entry.card.__dict__.setdefault("metric_styles", {})  # (cards of builds before figures had styles)
        return entry


@dataclass
class VersionRecord:
    """A version folder of the site and the files in it."""

    dir: str
    files: list[str]
    after: str | None = None  # the version it was staged after
    fresh: list[str] | None = None  # its files that are not hard links into that one

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Manifest:
    """The record of one build into one output folder."""

    snapshot: Snapshot = field(default_factory=Snapshot)
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    reports: dict[str, ReportEntry] = field(default_factory=dict)  # by slug
    files: dict[str, str] = field(default_factory=dict)  # site path -> content hash (or asset name)
    published: str = ""  # the version folder this build published
    errors: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)  # variants whose latest run failed
    page_keys: dict[str, str] = field(default_factory=dict)  # site path -> key of what it shows
    search_key: str = ""
    search_pending: bool = False  # published with the previous search index (serve)
    digest: str = ""  # theme, config, code and slugs: what every page depends on
    failed: list[str] = field(default_factory=list)  # sources that failed
    this_version: VersionRecord | None = None
    previous_version: VersionRecord | None = None

    def to_json(self) -> dict[str, Any]:
        def version(record: VersionRecord | None) -> dict[str, Any] | None:
            return record.to_json() if record else None

        return {
            **self.__dict__,
            "sources": {k: v.to_json() for k, v in self.sources.items()},
            "reports": {k: v.to_json() for k, v in self.reports.items()},
            "this_version": version(self.this_version),
            "previous_version": version(self.previous_version),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        def version(record: dict[str, Any] | None) -> VersionRecord | None:
            return VersionRecord(**record) if record else None

        return cls(
            **{
                **data,
                "sources": {k: SourceRecord.from_json(v) for k, v in data.get("sources", {}).items()},
                "reports": {k: ReportEntry.from_json(v) for k, v in data.get("reports", {}).items()},
                "this_version": version(data.get("this_version")),
                "previous_version": version(data.get("previous_version")),
            }
        )


def load_manifest(path: Path) -> tuple[Manifest, str]:
    """The manifest at `path` (an empty one if there is none or it is not trusted) and, when
    one was there but not used, why."""
    try:
        raw = path.read_bytes()
    except OSError:
        return Manifest(), ""  # none yet
    header, _, payload = raw.partition(b"\n")
    try:
        head = orjson.loads(header)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        head = None
    if not isinstance(head, dict) or head.get("version") != VERSION:
        return Manifest(), "it is from another version of knowrepo, or damaged"
    if head.get("sha256") != content_hash(payload) or head.get("bytes") != len(payload):
        return Manifest(), "it is damaged"
    try:
        data = orjson.loads(payload)
    except ValueError:
        return Manifest(), "it is damaged"
    if not fits(data, Manifest):  # (edited with its checksum, or written by a version that forgot VERSION)
        return Manifest(), "it is not of the shape this version writes"
    return Manifest.from_json(data), ""


def save_manifest(path: Path, manifest: Manifest) -> str | None:
    """Write the manifest; on failure remove it (the next build is then a full one) and say
    why: the site is already published, so this never fails the build."""
    try:
        # orjson: at 1,000 reports the manifest is ~2.4 MB; json took 0.04 s, orjson 0.005 s.
        payload = orjson.dumps(manifest.to_json())
        header = orjson.dumps({"version": VERSION, "sha256": content_hash(payload), "bytes": len(payload)})
        write_atomic(path, header + b"\n" + payload)
    except (TypeError, ValueError, OSError) as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        return f"{path}: the build state could not be saved ({exc}); the next build rebuilds all"
    return None
