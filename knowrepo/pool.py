"""Run one function over many items in worker processes, with results as they complete.

Processes, not threads: rendering and PDF layout are CPU-bound, and papermill's cwd= is an
os.chdir. One item (or one worker) runs in-process: a pool would only add its start-up.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def _die_with_parent() -> None:
    """Worker initializer: if the build is killed (even with SIGKILL), its workers die too,
    rather than waiting forever on a queue nobody writes to (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: they exit with a live parent
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


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

    with ProcessPoolExecutor(max_workers=min(workers, len(items)), initializer=_die_with_parent) as pool:
        futures = {pool.submit(fn, item): item for item in items}
        try:
            for future in as_completed(futures):
                on_done(futures[future], future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise
