"""Stage 1, discover: every source under reports/ read (discover.py), each report's slug
checked, and what every page depends on (the digest)."""

from __future__ import annotations

from knowrepo import __version__
from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.assemble.links import check_slug
from knowrepo.pipeline.assemble.theme import theme_digest, theme_files
from knowrepo.pipeline.discover import discover
from knowrepo.pipeline.render.job import render_fingerprint
from knowrepo.pipeline.state import BuildState
from knowrepo.support.hashing import key_of


def discover_reports(state: BuildState) -> None:
    """Stage 1, discover: every source under reports/, its front matter validated, its slug
    checked; and what every page depends on (the digest)."""
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
    state.fingerprint = render_fingerprint(state.load_registry())
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
