"""The data that flows between the pipeline stages: plain, JSON-friendly dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Meta:
    """A report's validated front matter (dates as ISO strings, lists as tuples)."""

    title: str = ""
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

    def to_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy made this a tenth of a one-report rebuild.
        plain = {tuple: list, dict: dict}
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
    date: str  # the date shown and sorted on: updated, else created, else git/mtime

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
    first_heading: str
    images: list[str]  # content-hashed asset file names, in page order
    thumbnail: str | None
    deps: dict[str, str]  # local files the page read (relative images) -> content hash

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenderedPage:
        data = dict(data)
        data["toc"] = [TocEntry(**entry) for entry in data["toc"]]
        return cls(**data)
