"""Run one function over many items in worker processes, with results as they complete.

Processes, not threads: rendering and PDF layout are CPU-bound, and papermill's cwd= is an
os.chdir. One item (or one worker) runs in-process: a pool would only add its start-up.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

T = TypeVar("T")  # an item
R = TypeVar("R")  # what fn makes of one (or on_crash, for an item whose worker died)


def _die_with_parent(parent: int) -> None:
    """Worker initializer: if the build is killed (even with SIGKILL), its workers die too,
    rather than waiting forever on a queue nobody writes to (Linux prctl PR_SET_PDEATHSIG).
    A parent killed between the fork and the prctl sends no signal: then the worker's parent
    is no longer `parent`, and it exits at once."""
    import ctypes  # here, in the worker: the build itself has no use for it
    import os
    import signal

    with contextlib.suppress(OSError, AttributeError):  # not Linux: they exit with a live parent
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _start_worker(parent: int, warm: Callable[[], None] | None) -> None:
    _die_with_parent(parent)
    if warm is not None:
        with contextlib.suppress(Exception):  # a failed warm-up only costs the time it saves
            warm()


def start_pool(workers: int, warm: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """Start `workers` processes now, each running `warm` (imports, first-call set-up) while the
    caller goes on planning: the work they get later starts warm."""
    # (multiprocessing: ~10 ms, only where worker processes start)
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(os.getpid(), warm))
    pool.submit(int)  # the first task starts every worker
    return pool


def run_parallel(
    fn: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    on_done: Callable[[T, R], None],
    pool: ProcessPoolExecutor | None = None,
    meanwhile: Callable[[], None] | None = None,
    on_crash: Callable[[T], R] | None = None,
    attempts: int = 2,
) -> None:
    """Call fn(item) for every item and on_done(item, result) as each completes. fn must not
    raise (return errors as values); on_done may raise to stop early, cancelling the rest.
    With a `pool` (from start_pool) the items go to its workers, however few; the caller
    owns it. `meanwhile` runs in this process once the items are handed out.

    A worker that dies (killed, out of memory) breaks its pool: the items it left undone are
    handed to a fresh pool, up to `attempts` pools in all, and if the last breaks too, on_done
    gets on_crash(item) for each (without `on_crash`, BrokenProcessPool is raised)."""
    if pool is None and (workers <= 1 or len(items) <= 1):
        for item in items:
            on_done(item, fn(item))
        if meanwhile is not None:
            meanwhile()
        return
    pending = list(items)
    for attempt in range(1, max(attempts, 1) + 1):
        pending = _run_in_pool(fn, pending, workers, on_done, pool, meanwhile)
        pool, meanwhile = None, None  # a second attempt gets a pool of its own
        if not pending:
            return
        if on_crash is None:
            # (multiprocessing: ~10 ms, only where worker processes start)
            from concurrent.futures.process import BrokenProcessPool

            raise BrokenProcessPool(f"a worker process died ({len(pending)} items left)")
        if attempt >= attempts:
            for item in pending:
                on_done(item, on_crash(item))


def _run_in_pool(
    fn: Callable[[T], R],
    items: list[T],
    workers: int,
    on_done: Callable[[T, R], None],
    pool: ProcessPoolExecutor | None,
    meanwhile: Callable[[], None] | None,
) -> list[T]:
    """One pass over a pool; returns the items left undone because a worker died."""
    # (multiprocessing: ~10 ms, only where worker processes start)
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    own = pool is None
    if pool is None:
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(items)), initializer=_die_with_parent, initargs=(os.getpid(),)
        )
    futures: dict[Future[R], T] = {}
    reported: set[Future[R]] = set()
    try:
        for item in items:
            futures[pool.submit(fn, item)] = item
        if meanwhile is not None:
            meanwhile()
        for future in as_completed(futures):
            if (error := future.exception()) is not None:
                raise error
            reported.add(future)
            on_done(futures[future], future.result())
    except BrokenProcessPool:
        finished: dict[int, tuple[T, R]] = {}  # done before the pool broke: their results stand
        for future, item in futures.items():
            if future not in reported and future.done() and not future.cancelled() and not future.exception():
                finished[id(item)] = (item, future.result())
        for item, value in finished.values():
            on_done(item, value)
        done = {id(futures[f]) for f in reported} | set(finished)
        return [item for item in items if id(item) not in done]
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return []
