"""Full-text search: Pagefind indexes the staged site before it is published.

Pages opt in with data-pagefind-body (the latest page of each listed report and its other
variants), so listings, run history and old runs never flood results; code inputs carry
data-pagefind-ignore unless [site] index_code is set. Each result's image is set explicitly to
the report's small thumbnail, never left for the indexer to pick from the page.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from .errors import KnowrepoError

INDEX_DIR = "pagefind"


def index_site(site: Path, pages: list[str], language: str = "en") -> tuple[int, float]:
    """Index the given pages of the site folder (writes site/pagefind/).
    Returns (pages indexed, seconds).

    Pagefind crawls a folder fastest, but crawling the site would parse every listing and run
    page only to drop them (at 10k reports the listings alone are tens of MB of HTML), and
    handing pages over one by one through its service was 18x slower (measured). So the pages
    to index are hard-linked into a scratch folder, with the same paths, and that is crawled."""
    from pagefind.index import IndexConfig, PagefindIndex

    scratch = Path(tempfile.mkdtemp(prefix=".search-", dir=site.parent))

    async def run() -> None:
        config = IndexConfig(output_path=str(site / INDEX_DIR), force_language=language)
        async with PagefindIndex(config=config) as index:
            await index.add_directory(str(scratch))

    started = time.perf_counter()
    try:
        for page in pages:
            target = scratch / page
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(site / page, target)
            except OSError:
                shutil.copyfile(site / page, target)
        asyncio.run(run())
        entry = json.loads((site / INDEX_DIR / "pagefind-entry.json").read_text())
    except Exception as exc:  # the pagefind service failed: the build says so, in one line
        raise KnowrepoError(site, f"search indexing failed: {type(exc).__name__}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    indexed = sum(lang.get("page_count", 0) for lang in entry.get("languages", {}).values())
    return indexed, time.perf_counter() - started
