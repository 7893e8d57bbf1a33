"""Run one function over many items in worker processes, with results as they complete.

Processes, not threads: rendering and PDF layout are CPU-bound, and papermill's cwd= is an
os.chdir. One item (or one worker) runs in-process: a pool would only add its start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def run_parallel(
    fn: Callable[[T], Any], items: Sequence[T], workers: int, on_done: Callable[[T, Any], None]
) -> None:
    """Call fn(item) for every item and on_done(item, result) as each completes. fn must not
    raise (return errors as values); on_done may raise to stop early, cancelling the rest."""
    if workers <= 1 or len(items) <= 1:
        for item in items:
            on_done(item, fn(item))
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = {pool.submit(fn, item): item for item in items}
        try:
            for future in as_completed(futures):
                on_done(futures[future], future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise
