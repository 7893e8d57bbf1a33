"""The data that flows between the pipeline stages: plain, JSON-friendly dataclasses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# A named variant (`eu: {...}`), and so the name of its folder in runs/ (a matrix's names,
# `eu-smb`, are of this form too).
VARIANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def _same(value: object) -> object:
    return value


@dataclass(frozen=True)
class Meta:
    """A report's validated front matter (dates as ISO strings, lists as tuples)."""

    title: str = ""
    subtitle: str = ""
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str = ""
    created: str = ""
    updated: str = ""
    thumbnail: str = ""
    draft: bool = False
    unlisted: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    private_params: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    email: dict[str, Any] = field(default_factory=dict)
    allow_errors: bool | None = None
    timeout: int | None = None
    code: str | None = None
    max_age: str = ""  # e.g. 35d: a published run older than this is flagged stale
    schedule: dict[str, Any] = field(default_factory=dict)  # {cron, timezone, variants}: when runs fall due
    period: str = ""  # a template of the period a run covers ("{{ params.month }}"), evaluated per run

    def to_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy made this a tenth of a one-report rebuild.
        plain: dict[type, Callable[[Any], object]] = {tuple: list, dict: dict}
        return {name: plain.get(type(value), _same)(value) for name, value in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Meta:
        data = dict(data)
        for key in ("authors", "tags", "private_params", "inputs"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)


@dataclass(frozen=True)
class Report:
    """One source file under reports/, discovered and validated."""

    slug: str
    source: str  # path relative to the repository root, POSIX style
    kind: str  # "notebook" | "markdown"
    meta: Meta
    source_hash: str
    date: str  # the source's date: updated, else its last commit, else created, else mtime
    date_from: str = ""  # where `date` comes from: updated | commit | created | modified

    @property
    def filename(self) -> str:
        return self.source.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class TocEntry:
    level: int
    anchor: str
    text: str


@dataclass
class RenderedPage:
    """What render produces for one report: the body and what pages around it need."""

    body: str
    toc: list[TocEntry]
    excerpt: str  # the first paragraph as plain text: the card summary when none is given
    images: list[str]  # content-hashed asset file names, in page order
    thumbnail: str | None
    deps: dict[str, str | None]  # local files the page read (relative images) -> content hash (None: missing)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenderedPage:
        data = dict(data)
        data["toc"] = [TocEntry(**entry) for entry in data["toc"]]
        return cls(**data)


RUN_OK, RUN_FAILED = "ok", "failed"
RUN_STATUSES = (RUN_OK, RUN_FAILED)


@dataclass(frozen=True)
class RunError:
    """Why a run failed: the exception, its message and traceback, and the cell (1-based, over
    all the cells of the author's notebook; runs recorded before 2026-12-07 counted code cells)."""

    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    cell: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"cell": self.cell, "ename": self.ename, "evalue": self.evalue, "traceback": self.traceback}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RunError | None:
        if not data:
            return None
        cell = data.get("cell")
        return cls(
            str(data.get("ename") or ""),
            str(data.get("evalue") or ""),
            str(data.get("traceback") or ""),
            cell if isinstance(cell, int) else None,
        )

    def line(self) -> str:
        """`ValueError: bad token`; a fault that is no exception of the notebook's (a full
        disk) is its message alone."""
        return f"{self.ename}: {self.evalue}" if self.ename else self.evalue


@dataclass(frozen=True)
class Run:
    """One recorded run: runs/<slug>/<variant>/<id>/ with run.json and the executed notebook.
    `folder` is None for a run that was never stored (its worker process died)."""

    folder: Path | None
    id: str
    slug: str
    variant: str
    source: str
    status: str  # ok | failed
    params: dict[str, Any] = field(default_factory=dict)  # private values masked
    private_params: tuple[str, ...] = ()
    started: str = ""  # ISO UTC, to the second
    duration: float = 0.0
    cells: tuple[float, ...] = ()  # seconds per code cell
    kernel: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    source_hash: str = ""
    cache_key: str = ""
    declared_key: str = ""  # the key of what the author declared (without -p overrides)
    git: dict[str, Any] = field(default_factory=dict)
    error: RunError | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Any] = field(default_factory=dict)  # how it was started: build, run, --from
    inputs: dict[str, str] = field(default_factory=dict)  # the declared input files it read -> hash
    period: str = ""  # the period its data covers ("2026-11", "2026-11-02", "2026-Q3"), if it says
    packages: dict[str, str] = field(default_factory=dict)  # what its notebook imported -> version
    metric_styles: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> unit, format

    @property
    def ok(self) -> bool:
        return self.status == RUN_OK

    @property
    def scratch(self) -> bool:
        """A run made with `run --scratch`: kept in history, never published unless pinned."""
        return self.origin.get("scratch") is True

    @property
    def declared(self) -> str:
        """The key of the declaration it ran (runs recorded before there was one: their key)."""
        return self.declared_key or self.cache_key

    @property
    def overrides(self) -> tuple[str, ...]:
        """The parameters it ran with beyond the front matter's."""
        return tuple(self.origin.get("overrides") or ())

    @property
    def notebook(self) -> Path:
        assert self.folder is not None
        return self.folder / NOTEBOOK_FILE

    @property
    def has_notebook(self) -> bool:
        """False for a run that ended before papermill wrote its notebook (a dead or missing
        kernel, a timeout before the first save), or that was never stored."""
        return self.folder is not None and self.notebook.is_file() and not self.notebook.is_symlink()

    def to_json(self) -> dict[str, Any]:
        """The run.json record."""
        return {
            "id": self.id,
            "slug": self.slug,
            "variant": self.variant,
            "source": self.source,
            "params": self.params,
            "private_params": list(self.private_params),
            "status": self.status,
            "started": self.started,
            "duration": self.duration,
            "cells": list(self.cells),
            "kernel": self.kernel,
            "versions": self.versions,
            "source_hash": self.source_hash,
            "cache_key": self.cache_key,
            "declared_key": self.declared_key,
            "git": self.git,
            "error": self.error.to_json() if self.error else None,
            "metrics": self.metrics,
            "origin": self.origin,
            "inputs": self.inputs,
            "period": self.period,
            "packages": self.packages,
            "metric_styles": self.metric_styles,
        }

    @classmethod
    def from_json(cls, folder: Path | None, data: dict[str, Any]) -> Run:
        """From a run.json record already checked by the run store."""
        return cls(
            folder=folder,
            id=data["id"],
            slug=str(data.get("slug", "")),
            variant=str(data.get("variant", "")),
            source=str(data.get("source", "")),
            status=data["status"],
            params=dict(data.get("params") or {}),
            private_params=tuple(data.get("private_params") or ()),
            started=str(data.get("started") or ""),
            duration=float(data.get("duration") or 0.0),
            cells=tuple(data.get("cells") or ()),
            kernel=str(data.get("kernel") or ""),
            versions=dict(data.get("versions") or {}),
            source_hash=str(data.get("source_hash") or ""),
            cache_key=str(data.get("cache_key") or ""),
            declared_key=str(data.get("declared_key") or ""),
            git=dict(data.get("git") or {}),
            error=RunError.from_json(data.get("error")),
            metrics=dict(data.get("metrics") or {}),
            origin=dict(data.get("origin") or {}),
            inputs=dict(data.get("inputs") or {}),
            period=str(data.get("period") or ""),
            packages=dict(data.get("packages") or {}),
            metric_styles=dict(data.get("metric_styles") or {}),
        )


NOTEBOOK_FILE = "notebook.ipynb"
KERNEL_LOG = "kernel.log"  # the kernel's stderr, kept beside the notebook


def shown_run(runs: list[Run], pinned: str = "") -> Run | None:
    """The one rule for which run a variant's page (card, PDF, email, compare) shows: the
    pinned run (`knowrepo publish`), if it is one of `runs`; else, of its successful runs that
    are not scratch runs, the one of the newest period, and of equal periods the newest run;
    a failure (the latest one that is not scratch) only when none succeeded. A run that names
    no period covers the data of the day it started: so a catch-up run for an older period
    never replaces a newer one, and runs without periods go by time. `runs` oldest first."""
    if pinned and (pin := next((r for r in runs if r.id == pinned), None)) is not None and pin.ok:
        return pin
    counted = [r for r in runs if not r.scratch]
    good = [r for r in counted if r.ok]
    if good:
        return max(good, key=lambda r: (r.period or r.started[:10], r.id))
    return counted[-1] if counted else None


@dataclass(frozen=True)
class Card:
    """What listing pages show of a report (kept in the manifest, so a report that fails later
    keeps its card)."""

    slug: str
    title: str
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    date: str
    summary: str
    thumbnail: str | None
    kind: str
    unlisted: bool
    metrics: dict[str, Any]
    failed: bool
    stale: str = ""  # why its published run is stale (inputs changed, too old), or ""
    source_kind: str = ""  # what its source is, as a card says it ("Script"); "": by `kind`
    dated: str = ""  # the word before its date: "Run" (the run it shows), "Updated", "Created"
    period: str = ""  # the period the data of the run it shows covers ("2026-11"), if it says
    code_changed: str = ""  # what changed of its code since the run it shows ("Code changed since this run")
    variant: str = ""  # the variant its figures come from, when the report has variants
    metric_styles: dict[str, dict[str, str]] = field(default_factory=dict)  # its figures' unit, format

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["authors"], data["tags"] = list(self.authors), list(self.tags)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Card:
        return cls(**{**data, "authors": tuple(data["authors"]), "tags": tuple(data["tags"])})
