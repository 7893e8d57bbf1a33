"""Full-text search: Pagefind indexes the staged site before it is published.

Pages opt in with data-pagefind-body (the latest page of each listed report and its other
variants), so listings, run history and old runs never flood results; code inputs carry
data-pagefind-ignore unless [site] index_code is set. Each result's image is set explicitly to
the report's small thumbnail, never left for the indexer to pick from the page.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from .errors import KnowrepoError

INDEX_DIR = "pagefind"


def index_site(site: Path, language: str = "en") -> tuple[int, float]:
    """Index the site folder in place (writes site/pagefind/). Returns (pages indexed, seconds)."""
    from pagefind.index import IndexConfig, PagefindIndex

    async def run() -> None:
        config = IndexConfig(output_path=str(site / INDEX_DIR), force_language=language)
        async with PagefindIndex(config=config) as index:
            await index.add_directory(str(site))

    started = time.perf_counter()
    try:
        asyncio.run(run())
        entry = json.loads((site / INDEX_DIR / "pagefind-entry.json").read_text())
    except Exception as exc:  # the pagefind service failed: the build says so, in one line
        raise KnowrepoError(site, f"search indexing failed: {type(exc).__name__}: {exc}") from exc
    pages = sum(lang.get("page_count", 0) for lang in entry.get("languages", {}).values())
    return pages, time.perf_counter() - started
