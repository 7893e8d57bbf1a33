"""Stage 5, index: Pagefind indexes the staged site before it is published (search.py),
skipped when no indexed page changed: the previous index is then linked in as it is."""

from __future__ import annotations

from pathlib import Path

from knowrepo.pipeline.files import LINK
from knowrepo.pipeline.search import INDEX_DIR, index_site
from knowrepo.pipeline.state import BuildState
from knowrepo.support.faults import pause_point
from knowrepo.support.hashing import key_of


def plan_index(state: BuildState) -> None:
    """Whether the previous index is still exact (no indexed page changed), or is kept for now
    (serve publishes first and indexes in a follow-up build); if so it is linked in whole."""
    state.search_key = key_of(sorted((p, k) for e in state.entries.values() for p, k in e.searchable.items()))
    old = state.reusable / INDEX_DIR if state.reusable else None
    has_old = old is not None and old.is_dir()
    state.index_reused = state.manifest.search_key == state.search_key and has_old
    state.index_deferred = state.options.defer_index and not state.index_reused and has_old
    if state.index_deferred:
        state.result.index_pending = True
        state.search_key = state.manifest.search_key
    if state.index_reused or state.index_deferred:
        assert old is not None and state.files is not None
        for path in old.rglob("*"):
            if path.is_file():
                state.files.add(f"{INDEX_DIR}/{path.relative_to(old).as_posix()}", LINK, str(path), "search")


def index(state: BuildState, staged: Path) -> None:
    """Index the listed pages of the staged version (oldest first: big sites are cut by date)."""
    if state.index_reused or state.index_deferred:
        return
    pause_point("index", state.config.state_dir)
    state.reporter.phase("Indexing", 1)
    try:
        searchable = sorted((e.card.date, p) for e in state.entries.values() for p in e.searchable)
        state.result.indexed_pages, state.result.index_seconds = index_site(
            staged,
            [page for _date, page in searchable],
            state.config.site.language,
            state.config.site.search_part_size,
            scratch_root=state.config.caches.search_scratch(state.output),
        )
    finally:
        state.reporter.end_phase()
