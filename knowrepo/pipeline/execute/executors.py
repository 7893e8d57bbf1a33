"""Where runs execute: `local` worker processes (the default, needs no Dask) or a Dask cluster.

Both are a `concurrent.futures.Executor`. The local one is a process pool (support/pool.py,
which also starts a fresh pool when a worker dies); the Dask one is `distributed.Client(address)
.get_executor()`, the client API that reaches the clusters teams already run (LocalCluster,
the Kubernetes operator, dask-jobqueue, YARN, SSH). Each Dask task is self-contained
(remote.py): the workers need knowrepo, the kernel and the report's libraries, no shared files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from knowrepo.errors import KnowrepoError

DASK_EXTRA = "the dask executor needs Dask: pip install 'knowrepo[dask]'"


@dataclass(frozen=True)
class ExecutorChoice:
    kind: str = "local"  # local | dask
    scheduler: str = ""  # a Dask scheduler's address; "": Dask's config, else a LocalCluster
    retries: int = 1  # submissions again of a run whose worker died
    threads: int = 0  # BLAS/OpenMP threads per run; 0: cores / workers here, 1 on Dask

    def threads_per_run(self, workers: int) -> int:
        if self.threads:
            return self.threads
        return 1 if self.kind == "dask" else max(1, (os.cpu_count() or 1) // max(workers, 1))


def choice_of(execute_config: Any, kind: str | None = None, scheduler: str | None = None) -> ExecutorChoice:
    """The command's --executor/--scheduler over [execute] executor/scheduler."""
    return ExecutorChoice(
        kind=kind or execute_config.executor,
        scheduler=scheduler or execute_config.scheduler,
        retries=execute_config.retries,
        threads=execute_config.threads,
    )


def require_dask() -> None:
    """The one-line error for --executor dask without the extra, before anything starts."""
    import importlib.util

    try:
        found = importlib.util.find_spec("distributed") is not None
    except ValueError:  # (a module set to None in sys.modules)
        found = False
    if not found:
        raise KnowrepoError(None, DASK_EXTRA)


@contextlib.contextmanager
def dask_executor(choice: ExecutorChoice, workers: int) -> Iterator[Executor]:
    """A Dask client's executor: the scheduler named, else Dask's own configuration
    (DASK_SCHEDULER_ADDRESS, ~/.config/dask), else a LocalCluster of `workers` processes of
    one thread each (one kernel per process)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise KnowrepoError(None, DASK_EXTRA) from None
    address = choice.scheduler or dask.config.get("scheduler-address", None)
    with contextlib.ExitStack() as stack:
        if address:
            try:
                client = stack.enter_context(Client(address, timeout="10s"))
            except OSError as exc:
                raise KnowrepoError(None, f"cannot reach the Dask scheduler at {address}: {exc}") from None
        else:
            cluster = stack.enter_context(
                LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
            )
            client = stack.enter_context(Client(cluster))
        yield client.get_executor(pure=False)


def worker_died(exc: BaseException) -> bool:
    """Whether a task failed because its worker process went away (not because of the run)."""
    return type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError") or isinstance(
        exc, ConnectionError | TimeoutError
    )


def run_on(
    executor: Executor,
    requests: list[Any],
    retries: int,
    on_done: Callable[[Any], None],
    warn: Callable[[str], None],
) -> None:
    """Submit a self-contained task per request and commit each run as it returns. A task whose
    worker died is submitted again, at most `retries` times, its failed attempt kept in the
    run's origin; a run whose cell failed is a result, never resubmitted. Ctrl-C (or any error)
    cancels what has not finished; the runs already returned stay committed."""
    from knowrepo.pipeline.execute.remote import bundle, commit_remote, execute_remote
    from knowrepo.pipeline.execute.run import _unstored

    pending: dict[Future, Any] = {executor.submit(execute_remote, bundle(r)): r for r in requests}
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                request = pending.pop(future)
                error = future.exception()
                if error is None:
                    on_done(commit_remote(Path(request.root), future.result()))
                    continue
                why = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
                attempts = [*request.origin.get("failed_attempts", []), why]
                if worker_died(error) and len(attempts) <= retries:
                    warn(f"{request.source} [{request.variant}]: its worker died ({why}); submitted again")
                    again = replace(request, origin={**request.origin, "failed_attempts": attempts})
                    pending[executor.submit(execute_remote, bundle(again))] = again
                else:
                    on_done(_unstored(request, "WorkerDied" if worker_died(error) else "TaskFailed", why))
    finally:
        for future in pending:
            future.cancel()
