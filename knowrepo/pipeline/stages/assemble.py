"""Stage 4, assemble: every file of the new site version (report pages, listings, the theme's
files, images), collected in state.files; a page whose key the published page has is reused."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from knowrepo.config import CONFIG_NAME
from knowrepo.errors import KnowrepoError
from knowrepo.model import Card, Report
from knowrepo.pipeline.assemble.listings import SiteContext, card_key, listing_pages, newest_date
from knowrepo.pipeline.assemble.packaged import chart_libraries, math_font
from knowrepo.pipeline.assemble.pages import ReportPages
from knowrepo.pipeline.assemble.theme import template_failure
from knowrepo.pipeline.files import BYTES, COPY, LINK, REUSE, SiteFiles
from knowrepo.pipeline.incremental import published_files
from knowrepo.pipeline.manifest import ReportEntry
from knowrepo.pipeline.state import BuildState
from knowrepo.support.atomic import write_atomic
from knowrepo.support.hashing import file_hash
from knowrepo.support.tracebacks import error_line

if TYPE_CHECKING:
    from pathlib import Path

    from knowrepo.pipeline.execute.plan import ReportPlan
    from knowrepo.support.caches import Caches


def assemble(state: BuildState) -> None:
    state.reporter.phase("Assembling", 1)
    previous = str(state.previous) if state.previous else None
    state.files = SiteFiles(previous)
    cards: list[Card] = []
    for slug, entry in state.kept.items():  # kept as published: linked in whole
        _keep(state, slug, entry, cards)
    for report in state.reports:  # (one whose body failed to render has no pages to make)
        if report.slug not in state.kept and report.source not in state.failed:
            _report_pages(state, report, cards)
    for slug, entry in state.manifest.reports.items():  # a report that failed keeps its last pages
        if slug not in state.entries and previous and entry.source in state.failed | _error_paths(state):
            _keep(state, slug, entry, cards, only_existing=True)
    state.result.reports = len(state.entries)
    _listings(state, cards)
    _theme_and_images(state)
    state.reporter.end_phase()
    if state.options.strict and state.errors:
        raise state.errors[0]


def _error_paths(state: BuildState) -> set[str]:
    return {e.path for e in state.errors if e.path}


def reuse_check(state: BuildState) -> Callable[[str, str], bool]:
    """reuse(path, key): whether the published page at `path` shows what `key` says."""
    previous, keys = state.reusable, state.manifest.page_keys
    return lambda path, key: keys.get(path) == key and previous is not None and (previous / path).exists()


def _keep(
    state: BuildState, slug: str, entry: ReportEntry, cards: list[Card], only_existing: bool = False
) -> None:
    assert state.files is not None and state.previous is not None
    base = str(state.previous)
    for path in entry.files:  # (strings: pathlib cost more than staging, 5,000 files)
        if only_existing and not os.path.exists(os.path.join(base, path)):
            continue
        state.files.add(path, REUSE, None, entry.source, state.manifest.page_keys.get(path, ""))
    cards.append(entry.card)
    state.entries[slug] = entry


def _report_pages(state: BuildState, report: Report, cards: list[Card]) -> None:
    """A report's pages into state.files, and its manifest entry; a failure is its own."""
    assert state.files is not None and state.env is not None
    views = state.views[report.slug]
    pdfs = state.pdfs.get(report.slug, {})
    pages = ReportPages(
        state.env, SiteContext(state.config, state.config.site.absolute_url, ""), report,
        state.plans.get(report.slug), views, state.bodies, state.slug_by_source, state.digest,
        reuse_check(state), pdfs, state.load_registry().page_passes(),
    )  # fmt: skip
    try:
        card = pages.build()
        files = [*pages.files, *((pdf, LINK, str(state.pdf_files[pdf]), "") for pdf in pdfs.values())]
        state.files.add_all(files, report.source)
    except KnowrepoError as exc:
        state.fail(exc, report.source)
        return
    except Exception as exc:  # a theme template that fails on this report's data
        state.fail(KnowrepoError(report.source, template_failure(exc)), report.source)
        return
    deps: dict[str, str | None] = {
        k: v
        for view in views.values()
        if view.key in state.bodies
        for k, v in state.bodies[view.key].deps.items()
    }
    if (plan := state.plans.get(report.slug)) is not None:  # declared inputs: a change must re-run
        deps.update({rel: file_hash(state.root / rel) for rel in plan.inputs})
    state.entries[report.slug] = ReportEntry(
        source=report.source,
        files=[path for path, *_rest in files],
        images=sorted(pages.images),
        card=card,
        searchable=pages.searchable,
        deps=deps,
        views=[v.key for v in views.values()],
        key=state.report_keys[report.slug],
        card_key=card_key(card),
        failed_runs=failed_runs(report, state.plans.get(report.slug)),
    )
    cards.append(card)


def _listings(state: BuildState, cards: list[Card]) -> None:
    assert state.files is not None and state.env is not None
    site = state.config.site
    ctx = SiteContext(config=state.config, absolute_url=site.absolute_url, generated=newest_date(cards))
    if not site.absolute_url and cards:
        state.result.warnings.append(
            f"{CONFIG_NAME}: base_url is a path; the feed and sitemap use site-relative links"
            " (set an absolute https:// base_url)"
        )
    for entry in state.entries.values():  # kept with the entry: hashing 1,000 cards, 0.02-0.03 s in cProfile
        if not entry.card_key:
            entry.card_key = card_key(entry.card)
    card_keys = {id(e.card): e.card_key for e in state.entries.values()}
    searchable = {slug for slug, entry in state.entries.items() if entry.searchable}
    try:
        pages, keys = listing_pages(
            state.env, ctx, cards, state.digest, reuse_check(state), card_keys, searchable
        )
    except Exception as exc:  # a listing template that fails: no site can be published without them
        raise KnowrepoError(None, f"the listing pages cannot be built: {template_failure(exc)}") from None
    for path, data in pages.items():
        if data is None:
            state.files.add(path, REUSE, None, "site", keys[path])
        else:
            state.files.add(path, BYTES, data, "site", keys[path])


def _theme_and_images(state: BuildState) -> None:
    """The theme's static files, the highlighting stylesheet, and every image the pages show.
    Images are named by content: linking the published one lets the next build skip it."""
    assert state.files is not None
    for rel, file in state.theme_files.items():
        if rel.startswith("static/"):
            state.files.add("assets/" + rel.removeprefix("static/"), COPY, str(file), "theme")
    state.files.add("assets/pygments.css", COPY, str(pygments_css(state.config.caches)), "theme")
    if (font := math_font(state.config.caches)) is not None:
        state.files.add("assets/math.woff", LINK, str(font), "theme")  # (a hard link: 0.8 MB)
    names = (name for entry in state.entries.values() for name in entry.images if name.endswith(".json"))
    kinds = {name.split(".")[-2] for name in names}  # a chart's spec is <hash>.<library>.json
    for path, source in chart_libraries(kinds, state.config.caches):  # once for the site, however many charts
        state.files.add(path, COPY, source, "theme")
    published = published_files(state) if state.reusable else set()
    cached = str(state.config.caches.assets)
    for entry in state.entries.values():
        for name in entry.images:
            path = f"assets/img/{name}"
            if path in published:
                state.files.add(path, REUSE, None, "assets")
            elif os.path.exists(source := os.path.join(cached, name)):
                state.files.add(path, LINK, source, "assets")


def pygments_css(caches: Caches) -> Path:
    """The one highlighting stylesheet, made once per Pygments version (0.01 s each build in cProfile)."""
    import pygments  # (its version only, where a build assembles pages)

    path = caches.pygments_css(f"{pygments.__version__}-dark")
    if not path.exists():
        write_atomic(path, highlight_css().encode())
    return path


def highlight_css() -> str:
    """Light and dark code colours. xcode: the one stock Pygments style whose every colour
    passes WCAG AA on the light code background; github-dark on the dark one. The dark rules
    apply as the theme's do: the reader's toggle, else the system's choice; and only where the
    theme can be dark (a browser without light-dark() gets its light palette: style.css)."""
    from pygments.formatters import HtmlFormatter  # (Pygments: only where its stylesheet is made)

    def rules(style: str, prefix: str) -> str:
        lines = HtmlFormatter(style=style).get_style_defs(prefix).splitlines()
        # Only token colours: the block's own background is the theme's (--code-bg).
        kept = [line for line in lines if line.startswith(prefix) and not line.startswith(prefix + " {")]
        return "\n".join(kept)

    dark = rules("github-dark", 'html[data-theme="dark"] .highlight')
    system = rules("github-dark", 'html:not([data-theme="light"]) .highlight')
    dark_ones = f"{dark}\n@media (prefers-color-scheme: dark) {{\n{system}\n}}"
    return f"{rules('xcode', '.highlight')}\n@supports (color: light-dark(#000, #fff)) {{\n{dark_ones}\n}}\n"


def failed_runs(report: Report, plan: ReportPlan | None) -> list[str]:
    """One line per variant whose latest run failed: said by every build until a run succeeds."""
    lines = []
    for variant in plan.variants if plan else []:
        latest, shown = variant.latest, variant.shown
        if latest is None or latest.ok:
            continue
        error = error_line(latest.error.ename, latest.error.evalue, latest.error.cell) if latest.error else ""
        shows = f"its page shows run {shown.id}" if shown and shown.ok else "no run has succeeded yet"
        lines.append(
            f"{report.source} [{variant.name}]: the latest run {latest.id} ({latest.started[:16]}) failed"
            f"{': ' + error if error else ''}; {shows}"
        )
    return lines
