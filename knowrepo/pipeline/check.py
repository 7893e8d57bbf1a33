"""The repository checked like a linter, without building or executing (`knowrepo check`).

Every problem in one pass, one line each (`file:line: fault`): front matter, parameters against
the notebook's parameters cell, links between reports, missing images, `inputs:` globs that
match nothing, schedules, kernels. Fast enough for a pre-commit hook: nothing renders or runs.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from knowrepo.config import CONFIG_NAME, load_config
from knowrepo.errors import KnowrepoError, Problems
from knowrepo.pipeline.assemble.links import check_slug
from knowrepo.pipeline.discover import discover
from knowrepo.pipeline.execute.plan import plan_report, require_kernel, run_period
from knowrepo.pipeline.execute.run import unmatched_inputs
from knowrepo.pipeline.execute.runstore import RunStore
from knowrepo.pipeline.frontmatter import split_markdown
from knowrepo.pipeline.render.callouts import callout_changes
from knowrepo.pipeline.render.citations import (
    bibliography_paths,
    citation_message,
    front_matter,
    load_style,
    read_sources,
    source_citations,
)
from knowrepo.pipeline.render.crossref import (
    missing_label_message,
    notebook_labels,
    source_labels,
    source_references,
)
from knowrepo.pipeline.render.dialect import dialect_changes
from knowrepo.pipeline.render.floats import cell_options
from knowrepo.pipeline.schedule import last_due
from knowrepo.pipeline.textnotebook import is_text_notebook, load_notebook, read_notebook
from knowrepo.plugins import LoadRegistry
from knowrepo.support import clock
from knowrepo.support.paths import outside_reason
from knowrepo.support.text import read_text

if TYPE_CHECKING:
    import datetime as dt

    from knowrepo.config import Config
    from knowrepo.model import Report

_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|\b(?:href|src)=[\"']([^\"']+)[\"']")


_IMAGE = re.compile(
    r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<img\b[^>]*\bsrc=[\"']([^\"']+)[\"']", re.I
)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None  # in the file (Markdown) or the cell's number (notebooks: "cell N")
    message: str
    cell: int | None = None
    warning: bool = False  # for the author to look at; `check` still passes

    def __str__(self) -> str:
        where = f":cell {self.cell}" if self.cell else f":{self.line}" if self.line else ""
        return f"{self.path}{where}: {'warning: ' if self.warning else ''}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "line": self.line, "cell": self.cell, "message": self.message,
            "warning": self.warning,
        }  # fmt: skip


@dataclass(frozen=True)
class _Source:
    """A source whose front matter failed: enough of a report to check its prose."""

    source: str
    kind: str


def check_repository(root: Path, load_registry: LoadRegistry) -> list[Problem]:
    """Every problem of the repository at `root` (its knowrepo.toml checked against the registry
    `load_registry` loads), sorted by file and place."""
    try:
        config = load_config(root, load_registry)
    except Problems as exc:  # each fault of knowrepo.toml a line, as a front matter's (reports wait for it)
        return [Problem(CONFIG_NAME, None, problem) for problem in exc.problems]
    now = clock.now()  # (a KNOWREPO_NOW that is no date: one line)
    found = discover(root, {}, drafts=True)
    problems: list[Problem] = []
    sources = set(found.sources)
    for relpath, record in found.sources.items():
        if record.problems:  # its header failed: its prose is still checked, in the same pass
            problems += [Problem(relpath, line, message) for line, message in record.problems]
            problems += _links_and_images(root, _Source(relpath, record.kind), sources)
            problems += _dialect(root, _Source(relpath, record.kind))
    problems += [
        Problem(e.path or "", None, e.message)
        for e in found.errors
        if e.path not in found.sources or not found.sources[e.path].problems
    ]
    for report in found.reports:
        try:
            check_slug(report)
        except KnowrepoError as exc:
            problems.append(Problem(report.source, None, exc.message))
        problems += _links_and_images(root, report, sources)
        problems += _references(root, report)
        problems += _dialect(root, report)
        if report.kind == "notebook":
            problems += _notebook(root, config, report, now)
        problems += _inputs(root, report)
    return sorted(set(problems), key=lambda p: (p.path, p.cell or 0, p.line or 0))


def _texts(root: Path, report: Report | _Source) -> list[tuple[int | None, int | None, str]]:
    """(line offset, cell number, Markdown text) of what a report writes as prose."""
    data = read_text(root / report.source, report.source)
    if report.kind != "notebook" or is_text_notebook(report.source):  # (by line, as written)
        return [(1, None, data)]
    cells = json.loads(data).get("cells", [])
    return [
        (None, number, "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
        for number, c in enumerate(cells, 1)
        if c.get("cell_type") == "markdown"
    ]


def _prose(root: Path, report: Report | _Source) -> list[tuple[int | None, int | None, str]]:
    """(line of its first line, cell number, Markdown) of what a report writes as Markdown:
    a Markdown report's body (after its front matter), or each Markdown cell of a notebook
    (a text notebook's as jupytext reads them)."""
    if report.kind == "notebook" and is_text_notebook(report.source):
        cells = read_notebook(root / report.source).get("cells", [])
        return [
            (None, number, _source(c))
            for number, c in enumerate(cells, 1)
            if c.get("cell_type") == "markdown"
        ]
    if report.kind == "notebook":
        return _texts(root, report)
    data = read_text(root / report.source, report.source)
    _yaml, body = split_markdown(data)
    return [(1 + data[: len(data) - len(body)].count("\n"), None, body)]


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _dialect(root: Path, report: Report | _Source) -> list[Problem]:
    """Warnings: each place whose rendering changed when knowrepo's Markdown became CommonMark
    with GitHub's extensions (Python-Markdown's before), for its author to look at once."""
    problems = []
    for offset, cell, text in _prose(root, report):
        for line, change in sorted(dialect_changes(text) + callout_changes(text)):
            where, message = (offset + line, change) if offset else (None, f"line {line + 1}: {change}")
            problems.append(Problem(report.source, where, message, cell, warning=True))
    return problems


def _is_report_link(target: str) -> bool:
    """A relative link to a report source, which the site rewrites to that report's page."""
    return target.lower().endswith((".md", ".ipynb")) and "://" not in target and not target.startswith("/")


def _links_and_images(root: Path, report: Report | _Source, sources: set[str]) -> list[Problem]:
    """Links to other reports that lead to none, and images that are missing or elsewhere."""
    problems = []
    base = posixpath.dirname(report.source)
    for offset, cell, text in _texts(root, report):
        for match in _LINK.finditer(text):
            target = (match.group(1) or match.group(2) or "").split("#")[0]
            where = posixpath.normpath(posixpath.join(base, unquote(target)))  # Q3%20review.md
            if _is_report_link(target) and where not in sources:
                line = offset + text[: match.start()].count("\n") if offset else None
                problems.append(Problem(report.source, line, f"link to '{target}' leads to no report", cell))
        for match in _IMAGE.finditer(text):
            target = (match.group(1) or match.group(2) or "").split("#")[0].split("?")[0]
            if not target or re.match(r"^([a-z][a-z0-9+.-]*:|/|attachment:)", target, re.I):
                continue
            path = root / base / unquote(target)
            reason = outside_reason(root, path) or ("" if path.is_file() else "is missing")
            if reason:
                line = offset + text[: match.start()].count("\n") if offset else None
                problems.append(Problem(report.source, line, f"image '{target}' {reason}", cell))
    return problems


def _references(root: Path, report: Report) -> list[Problem]:
    """Cross-references to labels the report does not define (E200), citations of keys its
    bibliography lacks (E201), a bibliography or CSL style that is missing or does not parse
    (E202, E203): what the 'crossrefs' and 'citations' passes find when the report renders."""
    data = (root / report.source).read_bytes()
    texts = _texts(root, report)
    labels = set().union(*(source_labels(text) for _o, _c, text in texts))
    problems = []
    if report.kind == "notebook":  # (a text notebook's cells as jupytext reads them: its MyST options)
        cells = load_notebook(root / report.source).get("cells", [])
        labels |= notebook_labels({"cells": cells})
        for number, cell in enumerate(cells, 1):  # (E205: options that are not YAML)
            if cell.get("cell_type") == "code" and (problem := cell_options(dict(cell))[1]):
                problems.append(Problem(report.source, None, problem, number))
    meta = front_matter(report.source, data) if b"bibliography" in data else {}
    try:
        keys = read_sources(
            report.source, meta, lambda rel: (root / rel).read_bytes(),
            lambda line: problems.append(Problem(report.source, None, line.split(": ", 1)[1])),
        )  # fmt: skip
        if keys:
            load_style(report.source, meta, lambda rel: (root / rel).read_bytes())
    except KnowrepoError as exc:
        problems.append(Problem(exc.path or report.source, None, exc.message))
        keys = None
    for offset, cell, text in texts:
        for at, label in source_references(text):
            if label not in labels:
                line = offset + text[:at].count("\n") if offset else None
                problems.append(Problem(report.source, line, missing_label_message(label, labels), cell))
        for at, key in source_citations(text):
            if keys is not None and key.lower() not in keys:
                line = offset + text[:at].count("\n") if offset else None
                where = "has no entry" if bibliography_paths(report.source, meta) else "names no bibliography"
                problems.append(Problem(report.source, line, citation_message(key, where), cell))
    return problems


def _notebook(root: Path, config: Config, report: Report, now: dt.datetime) -> list[Problem]:
    """Parameters and variants against the parameters cell, the kernel, the variant count."""
    found: list[Problem] = []  # what in runs/ is damaged or not knowrepo's

    def note(exc: KnowrepoError) -> None:
        found.append(Problem(exc.path or "", None, exc.message))

    store = RunStore(root, warn=note, error=note)
    try:
        plan = plan_report(root, config, report, store)
        if plan.executes:
            require_kernel(report.source, plan.kernel)
        if report.meta.schedule:
            _due_times(report, [v.name for v in plan.variants], now)
        for variant in plan.variants:  # (front matter `period`, as each variant's runs evaluate it)
            run_period(report, variant.params, {})
    except KnowrepoError as exc:
        return [*found, Problem(report.source, None, exc.message)]
    return found


def _due_times(report: Report, variants: list[str], now: dt.datetime) -> None:
    """When each variant last fell due, as `run --due` asks (a clock at the ends of the
    calendar finds none): a KnowrepoError if that cannot be found."""
    for name in variants:
        last_due(report.source, report.meta.schedule, name, now)


def _inputs(root: Path, report: Report) -> list[Problem]:
    unmatched = unmatched_inputs(root, report.source, report.meta.inputs)
    return [Problem(report.source, None, problem.message) for problem in unmatched]
