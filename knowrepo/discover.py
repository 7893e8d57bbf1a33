"""Find every report under reports/, read its front matter, and validate it.

Stat-first: a source whose (mtime, size) match the previous build's record is not read again,
so a no-op build costs one stat per file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import KnowrepoError
from .frontmatter import notebook_front_matter, parse_meta, split_markdown
from .model import Meta, Report

SUFFIXES = {".ipynb": "notebook", ".md": "markdown"}
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", "node_modules"}
_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.M)


def slugify_path(relpath: str) -> str:
    """reports/Sales/Q3 Review.ipynb -> sales/q3-review (lowercase, URL-safe, `/` kept)."""
    stem = relpath.rsplit(".", 1)[0]
    parts = [re.sub(r"[^a-z0-9_]+", "-", part.lower()).strip("-") for part in stem.split("/")]
    return "/".join(part or "_" for part in parts)


def scan_sources(reports_dir: Path) -> dict[str, os.stat_result]:
    """Every report source under reports_dir (relative POSIX path -> stat), hidden dirs skipped."""
    found: dict[str, os.stat_result] = {}
    if not reports_dir.is_dir():
        return found
    stack = [reports_dir]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith((".", "_")) or entry.name in SKIP_DIRS:
                    continue
                if entry.is_dir():
                    stack.append(Path(entry.path))
                elif os.path.splitext(entry.name)[1] in SUFFIXES:
                    rel = Path(entry.path).relative_to(reports_dir.parent).as_posix()
                    found[rel] = entry.stat()
    return found


def first_heading(markdown_text: str) -> str:
    match = _HEADING.search(markdown_text)
    return match.group(1).strip() if match else ""


def read_source(
    path: Path, relpath: str, data: bytes, known: dict[str, Any] | None = None
) -> tuple[Meta, str, str]:
    """(validated front matter, first heading, hash of the front matter's text) of one
    source's bytes. `known`: the source's last record, whose front matter is reused if its
    text is the same (an edit below it then parses no YAML: importing PyYAML alone is 0.03 s)."""

    def parse(yaml_text: str | None) -> tuple[Meta, str]:
        digest = hashlib.sha256((yaml_text or "").encode()).hexdigest()[:20]
        if known and known.get("front") == digest and "meta" in known:
            return Meta.from_json(known["meta"]), digest
        return parse_meta(relpath, yaml_text), digest

    if relpath.endswith(".ipynb"):
        try:
            notebook = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise KnowrepoError(relpath, f"invalid notebook JSON: {exc}") from None
        if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
            raise KnowrepoError(relpath, "not a Jupyter notebook (no 'cells' list)")
        yaml_text, _ = notebook_front_matter(notebook["cells"])
        meta, front = parse(yaml_text)
        heading = ""
        for cell in notebook["cells"]:
            if cell.get("cell_type") == "markdown":
                source = cell.get("source", "")
                heading = first_heading("".join(source) if isinstance(source, list) else source)
                if heading:
                    break
        return meta, heading, front
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KnowrepoError(relpath, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    yaml_text, body = split_markdown(text)
    meta, front = parse(yaml_text)
    return meta, first_heading(body), front


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
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # the manifest's record


def discover(
    root: Path,
    previous: dict[str, dict[str, Any]],
    drafts: bool = False,
    stats: dict[str, list[int]] | None = None,
) -> Discovery:
    """Reports under root/reports, reusing `previous` records of files whose stat is unchanged.
    `stats` ({source: [mtime_ns, size]}) saves the scan when the caller has just made it."""
    result = Discovery()
    if stats is None:
        stats = {rel: [st.st_mtime_ns, st.st_size] for rel, st in scan_sources(root / "reports").items()}
    undated: list[str] = []
    for relpath, stat in sorted(stats.items()):
        record = previous.get(relpath)
        if record and record.get("stat") == stat and "error" not in record:
            result.sources[relpath] = record
            continue
        data = (root / relpath).read_bytes()
        record = {"stat": stat, "hash": hashlib.sha256(data).hexdigest()[:20]}
        try:
            meta, heading, front = read_source(root / relpath, relpath, data, previous.get(relpath))
        except KnowrepoError as exc:
            record["error"] = exc.message
        else:
            record["meta"] = meta.to_json()
            record["front"] = front
            record["heading"] = heading
            record["mtime_date"] = dt.date.fromtimestamp(stat[0] / 1e9).isoformat()
            if not (meta.updated or meta.created):
                undated.append(relpath)
        result.sources[relpath] = record
    for relpath, date in git_first_commit_dates(root, undated).items():
        result.sources[relpath]["git_date"] = date

    by_slug: dict[str, str] = {}
    for relpath, record in result.sources.items():
        if "error" in record:
            result.errors.append(KnowrepoError(relpath, record["error"]))
            result.failed_sources.add(relpath)
            continue
        slug = slugify_path(relpath.removeprefix("reports/"))
        if slug in by_slug:
            result.errors.append(KnowrepoError(relpath, f"slug '{slug}' is also the slug of {by_slug[slug]}"))
            result.failed_sources.add(relpath)
            continue
        by_slug[slug] = relpath
        meta = Meta.from_json(record["meta"])
        if meta.draft and not drafts:
            continue
        if not meta.title:
            meta = replace(meta, title=record.get("heading") or Path(relpath).stem.replace("_", " "))
        date = meta.updated or meta.created or record.get("git_date") or record["mtime_date"]
        result.reports.append(
            Report(
                slug=slug,
                source=relpath,
                kind=SUFFIXES[os.path.splitext(relpath)[1]],
                meta=meta,
                source_hash=record["hash"],
                date=date[:10],
            )
        )
    return result
