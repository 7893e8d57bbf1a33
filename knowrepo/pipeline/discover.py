"""Find every report under reports/, read its front matter, and validate it.

Stat-first: a source whose (mtime, size) match the previous build's record is not read again,
so a no-op build costs one stat per file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.errors import KnowrepoError
from knowrepo.model import Meta, Report
from knowrepo.pipeline.frontmatter import (
    FrontMatterProblems,
    ignored_fields,
    notebook_front_matter,
    parse_meta,
    split_markdown,
)
from knowrepo.pipeline.manifest import SourceRecord
from knowrepo.pipeline.textnotebook import (
    is_markdown_notebook,
    is_percent_script,
    markdown_notebook_prose,
    script_front_matter,
)
from knowrepo.support.hashing import content_hash, key_of
from knowrepo.support.paths import outside_reason
from knowrepo.support.shapes import fits
from knowrepo.support.text import decode
from knowrepo.support.yamltext import repair_text, xml_text

if TYPE_CHECKING:
    from knowrepo.pipeline.state import BuildState

# What a report is written in: .ipynb notebooks; .md Markdown (a notebook when its header is
# jupytext's or MyST's); .py jupytext percent scripts (only with `# %%` cells).
SUFFIXES = {".ipynb", ".md", ".py"}
# Files that look like reports but are not (listed with -v): what they are, and what to do.
NOT_REPORTS = {
    ".rmd": "R Markdown is not a report format of knowrepo",
    ".qmd": "Quarto Markdown is not read: keep the notebook (.ipynb) or a jupytext .md",
    ".org": "Org files are not reports; convert to Markdown (.md)",
    ".rst": "reStructuredText is not a report format; convert to Markdown (.md)",
    ".markdown": "only .md files are Markdown reports; rename it",
    ".kp": "a zipped knowledge-repo post: unzip it into a .kp folder",
}
# A knowledge-repo post is a folder, post.kp/, of this file and its images/ (slug: post).
KNOWLEDGE_POST = "knowledge.md"
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", "node_modules"}
_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.M)


def slugify_path(relpath: str) -> str:
    """reports/Sales/Q3 Review.ipynb -> sales/q3-review (lowercase, URL-safe, `/` kept; a
    knowledge-repo post, Q3.kp/knowledge.md, -> q3). A part
    with no ASCII letter or digit (数据.md) keeps its own letters, so such names never collide."""
    post = f".kp/{KNOWLEDGE_POST}"
    stem = relpath.removesuffix(post) if relpath.endswith(post) else relpath.rsplit(".", 1)[0]
    parts = [
        re.sub(r"[^a-z0-9_]+", "-", part.lower()).strip("-") or unicode_slug(part) for part in stem.split("/")
    ]
    return "/".join(part or opaque_slug(name) for part, name in zip(parts, stem.split("/"), strict=True))


def opaque_slug(text: str) -> str:
    """For a name with no letter or digit at all (😀): '_' and a short hash, so two never meet."""
    return "_" + content_hash(text.encode(errors="surrogatepass"))[:8] if text else "_"


def unicode_slug(text: str) -> str:
    """Lowercase letters and digits of any script, accents dropped, the rest as '-'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^\w]+", "-", plain.lower()).strip("-_")


def scan_sources(
    reports_dir: Path,
) -> tuple[dict[str, os.stat_result], dict[str, str], dict[str, str]]:
    """Every report source under reports_dir (relative POSIX path -> stat); the entries refused
    (path -> why: symlinks that lead outside the repository or into .git/.knowrepo, loops,
    broken links, unreadable folders); and those skipped that a user may take for reports
    (path -> why: names starting with '_' or '.', other document formats), listed with -v."""
    found: dict[str, os.stat_result] = {}
    refused: dict[str, str] = {}
    skipped: dict[str, str] = {}
    if not reports_dir.is_dir():
        return found, refused, skipped
    root = reports_dir.parent
    if reason := outside_reason(root, reports_dir):  # reports/ itself a symlink to elsewhere
        return found, {"reports": f"{reason}; nothing in it is published"}, skipped
    base = len(str(root)) + 1  # (paths as strings: pathlib per file was 0.02 s of a no-op build at 1,000)
    top = os.stat(reports_dir)
    seen = {(top.st_dev, top.st_ino)}
    stack = [reports_dir]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            refused[Path(folder).relative_to(root).as_posix()] = f"cannot read this folder: {exc.strerror}"
            continue
        for entry in entries:
            if entry.name in SKIP_DIRS:
                continue
            rel = entry.path[base:].replace(os.sep, "/")
            suffix = os.path.splitext(entry.name)[1]
            if entry.name.startswith((".", "_")):
                if suffix in SUFFIXES or entry.name.startswith("_"):
                    skipped[rel] = "its name starts with '_' or '.', so it is not published"
                continue
            if not _utf8(entry.name):
                shown = entry.name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                refused[Path(rel).parent.joinpath(shown).as_posix()] = "its name is not UTF-8 text; rename it"
                continue
            is_link = entry.is_symlink()
            if is_link and (reason := outside_reason(root, Path(entry.path))):
                if entry.is_dir() or suffix in SUFFIXES:
                    refused[rel] = f"{reason}; not published"
                continue
            try:
                _classify(entry, rel, suffix, seen, stack, found, refused, skipped)
            except OSError as exc:
                refused[rel] = f"cannot read: {exc.strerror}" + (" (a broken symlink)" if is_link else "")
    return found, refused, skipped


def _classify(
    entry: os.DirEntry[str],
    rel: str,
    suffix: str,
    seen: set[tuple[int, int]],
    stack: list[Path],
    found: dict[str, os.stat_result],
    refused: dict[str, str],
    skipped: dict[str, str],
) -> None:
    """One entry of scan_sources: a report, a folder to descend, or a file that is not one."""
    if entry.is_dir() and entry.name.endswith(".kp"):  # a knowledge-repo post: one report
        post = f"{rel}/{KNOWLEDGE_POST}"
        if os.path.isfile(os.path.join(entry.path, KNOWLEDGE_POST)):
            found[post] = os.stat(os.path.join(entry.path, KNOWLEDGE_POST))
        else:
            refused[rel] = f"a knowledge-repo post without {KNOWLEDGE_POST}; not published"
    elif entry.is_dir():
        st = entry.stat()
        if (
            inode := (st.st_dev, st.st_ino)
        ) not in seen:  # a folder linked twice (or into itself) is read once
            seen.add(inode)
            stack.append(Path(entry.path))
    elif suffix in SUFFIXES:
        found[rel] = entry.stat()
    elif suffix.lower() in NOT_REPORTS:
        skipped[rel] = NOT_REPORTS[suffix.lower()]


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a byte that is not UTF-8, as os.scandir hands it over
        return False
    return True


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


OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


def notebook_problem(nb: Any) -> str | None:
    """What makes `nb` (parsed JSON) not a notebook knowrepo can read, naming the cell, or None.

    A structural check of what every later stage touches, by hand: nbformat's full schema
    validation would cost its import (and jsonschema's) in the build's own process, which a
    one-report rebuild cannot afford; papermill and nbconvert validate again in the workers."""
    if not isinstance(nb, dict):
        return "not a Jupyter notebook (the JSON is not an object)"
    major = nb.get("nbformat")
    if "worksheets" in nb or isinstance(major, int) and major < 4:
        return (
            f"an nbformat {major or 3} notebook: knowrepo reads nbformat 4; upgrade it with"
            " `jupyter nbconvert --to notebook --nbformat 4 --inplace FILE`"
        )
    if isinstance(major, int) and major > 4:
        return f"an nbformat {major} notebook: knowrepo reads nbformat 4"
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return "not a Jupyter notebook (no 'cells' list)"
    if not isinstance(nb.get("metadata", {}), dict):
        return "the notebook's 'metadata' is not an object"
    for number, cell in enumerate(cells, 1):
        if problem := _cell_problem(cell):
            return f"cell {number}: {problem}"
    return None


def _cell_problem(cell: Any) -> str | None:
    if not isinstance(cell, dict):
        return "is not an object"
    kind = cell.get("cell_type")
    if kind not in ("code", "markdown", "raw"):
        return f"unknown cell_type {kind!r} (code, markdown or raw)"
    if "source" not in cell:
        return "has no 'source'"
    source = cell["source"]
    if not isinstance(source, str) and not (
        isinstance(source, list) and all(isinstance(x, str) for x in source)
    ):
        return "'source' must be text or a list of lines"
    metadata = cell.get("metadata", {})
    if not isinstance(metadata, dict):
        return "'metadata' is not an object"
    tags = metadata.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return "'metadata.tags' must be a list of text"
    if not isinstance(cell.get("attachments", {}) or {}, dict):
        return "'attachments' is not an object"
    outputs = cell.get("outputs", []) if kind == "code" else []
    if not isinstance(outputs, list):
        return "'outputs' is not a list"
    for output in outputs:
        if not isinstance(output, dict) or output.get("output_type") not in OUTPUT_TYPES:
            return "has an output that is not a stream, display_data, execute_result or error"
        if not isinstance(output.get("data", {}), dict) or not isinstance(output.get("metadata", {}), dict):
            return "has an output whose 'data' or 'metadata' is not an object"
    return None


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


def notebook_json(relpath: str, data: bytes) -> dict[str, Any]:
    """The notebook in `data`, parsed and checked; a one-line error naming `relpath` (a source,
    or a run's executed notebook) if it is not one."""
    try:
        notebook: dict[str, Any] = json.loads(data)  # (notebook_problem checks that it is one)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KnowrepoError(relpath, f"invalid notebook JSON: {exc}") from None
    except (RecursionError, ValueError) as exc:  # (ValueError: a number of 5,000 digits)
        raise KnowrepoError(relpath, f"invalid notebook JSON: {str(exc)[:200]}") from None
    if problem := notebook_problem(notebook):
        raise KnowrepoError(relpath, problem)
    return notebook


def _notebook_heading(notebook: dict[str, Any]) -> str:
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            heading = first_heading("".join(source) if isinstance(source, list) else source)
            if heading:
                return heading
    return ""


def git_first_commit_dates(root: Path, relpaths: list[str]) -> dict[str, str]:
    """The date each path was first committed, from one `git log` call ({} outside git)."""
    if not relpaths or not (root / ".git").exists():
        return {}
    try:
        out = subprocess.run(
            ["git", "log", "--diff-filter=A", "--format=%x00%aI", "--name-only", "--", "reports"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    wanted, dates = set(relpaths), {}
    for block in out.split("\x00")[1:]:
        lines = block.strip().splitlines()
        if not lines:
            continue
        for name in lines[1:]:
            if name in wanted:
                dates[name] = lines[0][:10]  # log is newest first: the last seen is the first add
    return dates


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
    undated: list[str] = []
    for relpath, stat in sorted(stats.items()):
        record = previous.get(relpath)
        if record is not None and not fits(record.meta, Meta | None):
            record = None  # (front matter recorded in another shape: the file is read again)
        if record is None or record.stat != stat or record.error is not None:
            record = _read_record(root, relpath, stat, record)
            if record.meta is not None and not (record.meta["updated"] or record.meta["created"]):
                undated.append(relpath)
        elif record.secret:  # its private values were not stored: read them again
            record = replace(_read_record(root, relpath, stat, None), git_date=record.git_date)
        records[relpath] = record
    for relpath, date in git_first_commit_dates(root, undated).items():
        records[relpath].git_date = date
    return records


def _report(relpath: str, slug: str, record: SourceRecord) -> Report:
    meta = Meta.from_json(record.meta or {})
    if not meta.title:
        meta = replace(meta, title=record.heading or Path(relpath).stem.replace("_", " "))
    date = meta.updated or meta.created or record.git_date or record.mtime_date
    return Report(
        slug=slug, source=relpath, kind=record.kind, meta=meta, source_hash=record.hash, date=date[:10]
    )


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


def discover_reports(state: BuildState) -> None:
    """Stage 1, discover: every source under reports/, its front matter validated, its slug
    checked; and what every page depends on (the digest)."""
    from knowrepo import __version__
    from knowrepo.pipeline.assemble.links import check_slug
    from knowrepo.pipeline.assemble.theme import theme_digest, theme_files
    from knowrepo.pipeline.render.job import render_fingerprint

    found = discover(
        state.root,
        state.manifest.sources,
        drafts=state.options.drafts,
        stats=state.snapshot["sources"],
        refused=state.snapshot["refused"],
    )
    state.sources = found.sources
    state.failed |= found.failed_sources
    for relpath, why in sorted({**state.snapshot.get("skipped", {}), **found.skipped}.items()):
        state.reporter.detail(f"skipped {relpath}: {why}")
    for relpath, record in found.sources.items():
        if record.ignored:
            state.reporter.detail(f"{relpath}: fields for other tools, ignored: {', '.join(record.ignored)}")
    errors = list(found.errors)
    for report in found.reports:
        try:
            check_slug(report)
            state.reports.append(report)
        except KnowrepoError as exc:
            errors.append(exc)
            state.failed.add(report.source)
    if state.options.strict and errors:
        raise errors[0]
    for error in errors:
        state.fail(error)
    extras = state.theme_extras.files if state.theme_extras else {}
    state.theme_files = {**theme_files(state.theme_dirs), **extras}
    state.fingerprint = render_fingerprint()
    # The slugs are those of every report found: links to a report whose run or render fails
    # still lead to its previous page, which it keeps.
    state.slug_by_source = {r.source: r.slug for r in state.reports}
    state.digest = key_of(
        theme_digest(state.theme_dirs),
        state.config.digest,
        state.fingerprint,
        __version__,
        state.snapshot.get("knowrepo"),  # knowrepo's code: a change to how pages are assembled redoes them
        sorted(state.slug_by_source.items()),
    )


def find_report(root: Path, reports: list[Report], name: str, broken: Sequence[KnowrepoError] = ()) -> Report:
    """A report by slug (churn, sales/monthly-revenue) or by path (reports/x.ipynb, ./x.ipynb).
    A name that addresses a file in `broken` raises that file's own error."""
    from knowrepo.errors import did_you_mean

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

    def find(self, root: Path, name: str) -> Report:
        return find_report(root, self.reports, name, self.broken)


def notebook_reports(root: Path) -> NotebookReports:
    found = discover(root, {}, drafts=True)
    return NotebookReports([r for r in found.reports if r.kind == "notebook"], found.errors)
