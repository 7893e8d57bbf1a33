"""The site's search index: Pagefind over the listed pages of a staged site (the build's index
stage, stages/index.py, decides whether to make one anew).

Pages opt in with data-pagefind-body (the latest page of each listed report and its other
variants), so listings, run history and old runs never flood results; code inputs carry
data-pagefind-ignore unless [site] index_code is set. Each result's image is set explicitly to
the report's small thumbnail, never left for the indexer to pick from the page.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.versions import place_file
from knowrepo.support.shapes import fits

INDEX_DIR = "pagefind"


def pagefind_executable() -> Path:
    """The binary that the `pagefind[bin]` wheel ships (no network, no npm)."""
    try:
        from pagefind_bin import get_executable  # (the pagefind[bin] wheel: looked for when indexing)
    except ImportError:
        message = "search needs the pagefind binary: pip install 'pagefind[bin]'"
        raise KnowrepoError("pagefind", message) from None
    executable: Path = get_executable()  # (pagefind_bin ships no types)
    return executable


def split_parts(pages: list[str], part_size: int) -> list[list[str]]:
    """Pages (oldest first) cut into contiguous parts of about equal size, newest part first:
    a date sort across parts is then their results one part after the other."""
    count = max(1, -(-len(pages) // max(1, part_size)))
    cuts = [len(pages) * i // count for i in range(count + 1)]
    return [pages[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a][::-1]


def index_site(
    site: Path,
    pages: list[str],
    language: str = "en",
    part_size: int = 5000,
    scratch_root: Path | None = None,
) -> tuple[int, float]:
    """Index the given pages of the site folder, oldest first (site/pagefind/ is replaced).
    Returns (pages indexed, seconds).

    Pagefind crawls a folder fastest, but crawling the site would parse every listing and run
    page only to drop them (at 10k reports the listings alone are tens of MB of HTML). So the
    pages to index are hard-linked into a scratch folder, with the same paths, and the
    `pagefind` binary crawls that. Its Python service was 1.5x slower at 10k pages (measured:
    it hands every output file back over a pipe) and one by one 18x slower at 1k. The scratch
    folders live on in `scratch_root` between builds and are brought up to date: making and
    deleting a folder per page cost 0.8 s per 1,000 pages here (a temporary folder without it).

    Pagefind uses little more than one core (it gzips its whole output on one thread), so
    more than `part_size` pages are cut by date into parts indexed side by side, each a
    Pagefind bundle of its own; search.js queries them all and merges the results (Pagefind's
    own multisite way: scores add up the same way, filters are summed). parts.json lists the
    parts, newest first."""
    started = time.perf_counter()
    shutil.rmtree(site / INDEX_DIR, ignore_errors=True)  # a recycled version's old index
    if not pages:  # nothing listed: no index (Pagefind refuses an empty site); search says so
        return 0, 0.0
    parts = split_parts(pages, part_size)
    names = [f"part-{i}/" if i else "" for i in range(len(parts))]  # part 0: pagefind/ itself
    outputs = [site / INDEX_DIR / name for name in names]
    temporary = scratch_root is None
    if scratch_root is None:
        scratch_root = Path(tempfile.mkdtemp(prefix=".search-", dir=site.parent))
    scratches = [scratch_root / f"part-{i}" for i in range(len(parts))]
    try:
        for extra in scratch_root.glob("part-*"):
            if extra not in scratches:
                shutil.rmtree(extra)
        for part, scratch in zip(parts, scratches, strict=True):
            _sync_scratch(scratch, site, part)
        indexed = _run_pagefind(site, list(zip(scratches, outputs, strict=True)), language)
        (site / INDEX_DIR / "parts.json").write_text(json.dumps({"parts": names}))
    except OSError as exc:
        raise KnowrepoError(site, f"search indexing failed: {exc}") from exc
    finally:
        if temporary:
            shutil.rmtree(scratch_root, ignore_errors=True)
    return indexed, time.perf_counter() - started


def _sync_scratch(scratch: Path, site: Path, pages: list[str]) -> None:
    """Make `scratch` hold exactly `pages` of the site, as hard links (copies across file
    systems). pages.json lists what it may hold: written before any change (old and new
    together), so a build killed midway leaves nothing the next one does not know to remove."""
    listing = scratch / "pages.json"
    try:
        listed = json.loads(listing.read_bytes())
    except (OSError, ValueError, RecursionError):
        listed = None
    if not fits(listed, list[str]):  # (missing, damaged, or another shape: start the folder over)
        shutil.rmtree(scratch, ignore_errors=True)
        listed = []
    before = set(listed)
    scratch.mkdir(parents=True, exist_ok=True)
    listing.write_text(json.dumps(sorted(before | set(pages))))
    base, there = str(scratch), str(site)
    made: set[str] = set()
    for page in pages:
        target = os.path.join(base, page)
        if (folder := os.path.dirname(target)) not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        place_file(target, os.path.join(there, page), replace=True)
    for page in before - set(pages):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(base, page))
        folder = os.path.dirname(os.path.join(base, page))
        while folder != base:
            try:
                os.rmdir(folder)
            except OSError:  # not empty
                break
            folder = os.path.dirname(folder)
    listing.write_text(json.dumps(sorted(pages)))


def _run_pagefind(site: Path, jobs: list[tuple[Path, Path]], language: str) -> int:
    """Run the pagefind binary on each (scratch folder, output folder), as many at a time as
    there are cores; returns the pages indexed."""
    executable = str(pagefind_executable())
    # A killed build takes its indexers with it (as its render workers): util-linux's setpriv
    # sets the parent-death signal (preexec_fn cannot be used from these threads).
    dies_with_build = ["setpriv", "--pdeathsig", "KILL"] if shutil.which("setpriv") else []

    def run(job: tuple[Path, Path]) -> int:
        scratch, output = job
        command = [*dies_with_build, executable, "--site", str(scratch), "--output-path", str(output)]
        command += ["--force-language", language, "--quiet"]
        # cwd: the scratch folder, so that no pagefind.yml of the user's changes the index.
        proc = subprocess.run(command, cwd=scratch, capture_output=True, text=True)
        if proc.returncode != 0:
            lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
            raise KnowrepoError(site, f"search indexing failed: {lines[-1] if lines else proc.returncode}")
        entry = json.loads((output / "pagefind-entry.json").read_text())
        return sum(lang.get("page_count", 0) for lang in entry.get("languages", {}).values())

    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        return sum(pool.map(run, jobs))
