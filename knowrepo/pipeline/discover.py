"""Find every report under reports/, read its front matter, and validate it.

Stat-first: a source whose (mtime, size) match the previous build's record is not read again,
so a no-op build costs one stat per file.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from knowrepo.errors import KnowrepoError, did_you_mean
from knowrepo.model import Meta, Report
from knowrepo.pipeline.frontmatter import (
    FrontMatterProblems,
    ignored_fields,
    notebook_front_matter,
    parse_meta,
    split_markdown,
)
from knowrepo.pipeline.gitdates import git_last_commit_dates, git_stamp
from knowrepo.pipeline.ipynb import notebook_json
from knowrepo.pipeline.manifest import SourceRecord
from knowrepo.pipeline.slugs import slugify_path
from knowrepo.pipeline.sources import scan_sources
from knowrepo.pipeline.textnotebook import (
    is_markdown_notebook,
    is_percent_script,
    markdown_notebook_prose,
    script_front_matter,
)
from knowrepo.support.hashing import content_hash
from knowrepo.support.paths import outside_reason
from knowrepo.support.shapes import fits
from knowrepo.support.text import decode
from knowrepo.support.yamltext import repair_text, xml_text

_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.M)


def first_heading(markdown_text: str) -> str:
    """The first heading's text, as its page shows it: `code`, *emphasis* and [links](x) as
    their words (the title and card never show raw Markdown)."""
    match = _HEADING.search(markdown_text)
    return xml_text(repair_text(inline_text(match.group(1)))) if match else ""


# Inline Markdown to its words, by hand: the build's own process must not import Markdown to
# read a title (a rebuild of one edited file would pay ~40 ms for it).
_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # an image: its alt text
    (re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])"), r"\1"),  # a link: its text
    (re.compile(r"<[^>]+>"), ""),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])"), r"\2"),
    (re.compile(r"\s+#+\s*$"), ""),  # closing hashes of an ATX heading
]


_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$])")
_CODE = re.compile(r"(`+)\s?(.+?)\s?\1")
_HIDDEN = 0xF0000  # escaped characters and code wait in a private-use plane while the markup goes


def _hide(text: str) -> str:
    return "".join(chr(_HIDDEN + ord(c)) if ord(c) < 0x100 else c for c in text)


def inline_text(markdown_text: str) -> str:
    text = _ESCAPED.sub(lambda m: _hide(m.group(1)), markdown_text.strip())
    text = _CODE.sub(lambda m: _hide(m.group(2)), text)  # code keeps its * and _ as they are
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    text = re.sub("[\U000f0000-\U000f00ff]", lambda m: chr(ord(m.group()) - _HIDDEN), text)
    return " ".join(text.split())


@dataclass(frozen=True)
class SourceText:
    """What discovery reads of one source's bytes."""

    meta: Meta  # its validated front matter
    heading: str  # its first heading (the title when front matter has none)
    front: str  # the hash of its front matter's text
    kind: str  # "notebook" or "markdown"; "" for a file that is not a report
    ignored: tuple[str, ...] = ()  # front-matter fields of other tools it has (listed with -v)
    skipped: str = ""  # why it is not a report


def read_source(path: Path, relpath: str, data: bytes, known: SourceRecord | None = None) -> SourceText:
    """What one source's bytes say. `known`: the source's last record, whose front matter is
    reused if its text is the same (an edit below it then parses no YAML: importing PyYAML
    alone is 0.03 s)."""

    def parse(yaml_text: str | None, kind: str, heading: str) -> SourceText:
        digest = content_hash((yaml_text or "").encode(errors="surrogatepass"))
        if known and known.front == digest and known.meta is not None and not known.secret:
            return SourceText(Meta.from_json(known.meta), heading, digest, kind, tuple(known.ignored))
        meta = parse_meta(relpath, yaml_text)
        return SourceText(meta, heading, digest, kind, tuple(ignored_fields(yaml_text)))

    if relpath.endswith(".ipynb"):
        notebook = notebook_json(relpath, data)
        yaml_text, _ = notebook_front_matter(notebook["cells"])
        return parse(yaml_text, "notebook", _notebook_heading(notebook))
    text = decode(data, relpath)
    if relpath.endswith(".py"):
        if not is_percent_script(text):
            return SourceText(Meta(), "", "", "", skipped="a Python file without '# %%' cells")
        yaml_text, prose = script_front_matter(text)
        return parse(yaml_text, "notebook", first_heading(prose))
    yaml_text, body = split_markdown(text)
    if is_markdown_notebook(yaml_text):
        return parse(yaml_text, "notebook", first_heading(markdown_notebook_prose(body)))
    return parse(yaml_text, "markdown", first_heading(body))


def _notebook_heading(notebook: dict[str, Any]) -> str:
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            heading = first_heading("".join(source) if isinstance(source, list) else source)
            if heading:
                return heading
    return ""


@dataclass
class Discovery:
    reports: list[Report] = field(default_factory=list)
    errors: list[KnowrepoError] = field(default_factory=list)
    failed_sources: set[str] = field(default_factory=set)
    sources: dict[str, SourceRecord] = field(default_factory=dict)  # the manifest's record
    skipped: dict[str, str] = field(default_factory=dict)  # files read that are not reports: why


def discover(
    root: Path,
    previous: dict[str, SourceRecord],
    drafts: bool = False,
    stats: dict[str, list[int]] | None = None,
    refused: dict[str, str] | None = None,
) -> Discovery:
    """Reports under root/reports, reusing `previous` records of files whose stat is unchanged.
    `stats` ({source: [mtime_ns, size]}) and `refused` save the scan when the caller has just
    made it."""
    result = Discovery()
    if stats is None:
        found, refused, skipped = scan_sources(root / "reports")
        stats = {rel: [st.st_mtime_ns, st.st_size] for rel, st in found.items()}
        result.skipped.update(skipped)
    for relpath, reason in sorted((refused or {}).items()):
        result.errors.append(KnowrepoError(relpath, reason))
        result.failed_sources.add(relpath)
    result.sources = _records(root, previous, stats)
    by_slug: dict[str, str] = {}
    for relpath, record in result.sources.items():
        if record.skipped:
            result.skipped[relpath] = record.skipped
            continue
        if record.error is not None or record.meta is None:
            result.errors.append(KnowrepoError(relpath, record.error or "unreadable"))
            result.failed_sources.add(relpath)
            continue
        slug = slugify_path(relpath.removeprefix("reports/"))
        if slug in by_slug:
            result.errors.append(KnowrepoError(relpath, f"slug '{slug}' is also the slug of {by_slug[slug]}"))
            result.failed_sources.add(relpath)
            continue
        by_slug[slug] = relpath
        report = _report(relpath, slug, record)
        if drafts or not report.meta.draft:
            result.reports.append(report)
    return result


def _records(
    root: Path, previous: dict[str, SourceRecord], stats: dict[str, list[int]]
) -> dict[str, SourceRecord]:
    """The record of every source: the previous one while its stat is unchanged, else read."""
    records: dict[str, SourceRecord] = {}
    undated: list[str] = []  # sources whose date git may give, read anew or since a commit
    stamp = git_stamp(root)
    for relpath, stat in sorted(stats.items()):
        record = previous.get(relpath)
        if record is not None and not fits(record.meta, Meta | None):
            record = None  # (front matter recorded in another shape: the file is read again)
        if record is None or record.stat != stat or record.error is not None:
            record = _read_record(root, relpath, stat, record)
        elif record.secret:  # its private values were not stored: read them again
            record = replace(
                _read_record(root, relpath, stat, None), git_date=record.git_date, git_stamp=record.git_stamp
            )
        if record.meta is not None and not record.meta["updated"] and record.git_stamp != stamp:
            undated.append(relpath)
        records[relpath] = record
    dates = git_last_commit_dates(root, undated)
    for relpath in undated:
        records[relpath].git_date, records[relpath].git_stamp = dates.get(relpath, ""), stamp
    return records


def _report(relpath: str, slug: str, record: SourceRecord) -> Report:
    meta = Meta.from_json(record.meta or {})
    if not meta.title:
        meta = replace(meta, title=record.heading or Path(relpath).stem.replace("_", " "))
    date, date_from = report_date(meta, record)
    return Report(
        slug=slug,
        source=relpath,
        kind=record.kind,
        meta=meta,
        source_hash=record.hash,
        date=date[:10],
        date_from=date_from,
    )


def report_date(meta: Meta, record: SourceRecord) -> tuple[str, str]:
    """(date, where it comes from): front matter's `updated`, else the file's last commit,
    else `created`, else its mtime. (A notebook's pages and card show their run's date.)"""
    for date, source in (
        (meta.updated, "updated"),
        (record.git_date, "commit"),
        (meta.created, "created"),
        (record.mtime_date, "modified"),
    ):
        if date:
            return date, source
    return "", ""


def _read_record(root: Path, relpath: str, stat: list[int], known: SourceRecord | None) -> SourceRecord:
    """The manifest's record of one source: its hash and validated front matter, or its error."""
    try:
        data = (root / relpath).read_bytes()
    except OSError as exc:
        return SourceRecord(stat, "", error=f"cannot read: {exc.strerror}")
    record = SourceRecord(stat, content_hash(data))
    try:
        read = read_source(root / relpath, relpath, data, known)
        if read.skipped:
            record.skipped = read.skipped
            return record
        meta = read.meta
        if meta.thumbnail and not meta.thumbnail.isdigit():
            thumbnail = (root / relpath).parent / meta.thumbnail
            if reason := outside_reason(root, thumbnail):
                raise KnowrepoError(relpath, f"thumbnail '{meta.thumbnail}' {reason}")
    except KnowrepoError as exc:
        record.error = exc.message
        record.kind = _kind_by_name(relpath)
        if isinstance(exc, FrontMatterProblems):
            record.problems = [[line, message] for line, message in exc.problems]
        return record
    record.meta, record.front, record.heading = meta.to_json(), read.front, read.heading
    record.kind, record.ignored = read.kind, list(read.ignored)
    record.mtime_date = dt.date.fromtimestamp(stat[0] / 1e9).isoformat()
    return record


def _kind_by_name(relpath: str) -> str:
    """What a source that failed to read would have been, by its name alone."""
    return "markdown" if relpath.endswith(".md") else "notebook"


def find_report(root: Path, reports: list[Report], name: str, broken: Sequence[KnowrepoError] = ()) -> Report:
    """A report by slug (churn, sales/monthly-revenue) or by path (reports/x.ipynb, ./x.ipynb).
    A name that addresses a file in `broken` raises that file's own error."""
    by_slug = {r.slug: r for r in reports}
    if name.strip("/") in by_slug:
        return by_slug[name.strip("/")]
    rel = _relative(root, name)
    for report in reports:
        if report.source == rel:
            return report
    slug = slugify_path(name.removeprefix("reports/"))
    if slug in by_slug:
        return by_slug[slug]
    for error in broken:
        path = error.path or ""
        if path and (path == rel or slugify_path(path.removeprefix("reports/")) in (slug, name.strip("/"))):
            raise error
    raise KnowrepoError(None, f"no report '{name}'{did_you_mean(name, list(by_slug))}")


def _relative(root: Path, name: str) -> str | None:
    """`name` as a path relative to root, looked for from the working folder, then from root."""
    for candidate in (Path.cwd() / name, root / name):
        try:
            return candidate.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return None


@dataclass
class NotebookReports:
    """What `knowrepo run` and `runs` address: the notebook reports (drafts too), and the files
    that failed discovery, so that one broken file never stops the others from running."""

    reports: list[Report]
    broken: list[KnowrepoError]
    markdown: list[Report] = field(default_factory=list)  # named, they have nothing to run

    def find(self, root: Path, name: str) -> Report:
        try:
            return find_report(root, self.reports, name, self.broken)
        except KnowrepoError:
            if (prose := self._markdown_named(root, name)) is None:
                raise  # (no such report, or the broken file's own error)
            raise KnowrepoError(
                prose.source,
                "is a Markdown report: it has no code, so nothing to run (`knowrepo build` publishes it)",
            ) from None

    def _markdown_named(self, root: Path, name: str) -> Report | None:
        try:
            return find_report(root, self.markdown, name)
        except KnowrepoError:
            return None


def notebook_reports(root: Path) -> NotebookReports:
    found = discover(root, {}, drafts=True)
    notebooks = [r for r in found.reports if r.kind == "notebook"]
    return NotebookReports(notebooks, found.errors, [r for r in found.reports if r.kind != "notebook"])
