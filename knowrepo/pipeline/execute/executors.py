"""Where runs execute: `local` worker processes (the default, needs no Dask) or a Dask cluster.

The local one is a process pool (support/pool.py, which also starts a fresh pool when a worker
dies); the Dask one is a `distributed.Client(address)`, the client API that reaches the clusters
teams already run (LocalCluster, the Kubernetes operator, dask-jobqueue, YARN, SSH), over TLS
with Dask's own settings. Each Dask task is self-contained (remote.py): the workers need
knowrepo, the kernel and the report's libraries, no shared files. What a worker sends back is
read defensively (an error or result it cannot read is the run's failure, never a wait) and
checked before anything of it is written (remote.py).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, cast

from knowrepo.errors import KnowrepoError, one_line
from knowrepo.model import Run
from knowrepo.pipeline.execute.remote import bundle, commit_remote, execute_remote
from knowrepo.pipeline.execute.run import RunRequest, _crashed, _safe_execute, _unstored
from knowrepo.plugins import Executor, Registry
from knowrepo.support.pool import run_parallel
from knowrepo.support.quiet import quiet_dask
from knowrepo.support.secrets import scrub

if TYPE_CHECKING:
    from distributed import Client, Future
    from distributed.security import Security

    from knowrepo.config import ExecuteConfig
    from knowrepo.model import Run
    from knowrepo.pipeline.execute.remote import RemoteResult
    from knowrepo.pipeline.execute.run import RunRequest

DASK_EXTRA = "the dask executor needs Dask: pip install 'knowrepo[dask]'"


@dataclass(frozen=True)
class ExecutorChoice:
    kind: str = "local"  # a registered executor's name (knowrepo's own: local, dask)
    scheduler: str = ""  # a Dask scheduler's address; "": Dask's config, else a LocalCluster
    scheduler_from: str = "knowrepo.toml: [execute] scheduler"  # where it was set (for errors)
    retries: int = 1  # submissions again of a run whose worker died
    threads: int = 0  # BLAS/OpenMP threads per run; 0: the executor's own choice


def choice_of(
    execute_config: ExecuteConfig, kind: str | None = None, scheduler: str | None = None
) -> ExecutorChoice:
    """The command's --executor/--scheduler over [execute] executor/scheduler."""
    return ExecutorChoice(
        kind=kind or execute_config.executor,
        scheduler=scheduler or execute_config.scheduler,
        scheduler_from="--scheduler" if scheduler else ExecutorChoice.scheduler_from,
        retries=execute_config.retries,
        threads=execute_config.threads,
    )


def executor_of(choice: ExecutorChoice, registry: Registry) -> Executor:
    """The registered executor `choice.kind` names, made for `choice` (an unknown name is a
    one-line error listing the registered ones)."""
    return registry.executor(choice.kind)(choice)


class LocalExecutor:
    """The `local` executor: worker processes here (support/pool.py starts a fresh pool when
    a worker dies, and a run is tried again `retries` times)."""

    def __init__(self, choice: ExecutorChoice) -> None:
        self.choice = choice

    def check(self) -> None:
        """Nothing to check: processes here need nothing more."""

    def threads_per_run(self, workers: int) -> int:
        return self.choice.threads or max(1, (os.cpu_count() or 1) // max(workers, 1))

    def run(
        self,
        requests: list[RunRequest],
        workers: int,
        done: Callable[[Run], None],
        warn: Callable[[str], None],
    ) -> None:
        run_parallel(
            _safe_execute, requests, workers, lambda _request, run: done(run), on_crash=_crashed,
            attempts=1 + self.choice.retries,
        )  # fmt: skip


def require_dask() -> None:
    """The one-line error for --executor dask without the extra, before anything starts."""
    try:
        found = importlib.util.find_spec("distributed") is not None
    except ValueError:  # (a module set to None in sys.modules)
        found = False
    if not found:
        raise KnowrepoError(None, DASK_EXTRA)


class DaskExecutor:
    """The `dask` executor: each run a self-contained task on a Dask cluster (remote.py)."""

    def __init__(self, choice: ExecutorChoice) -> None:
        self.choice = choice

    def check(self) -> None:
        """Dask missing, a malformed scheduler address, TLS settings missing: one line each."""
        require_dask()
        address, where = scheduler_of(self.choice)
        if address:
            dask_security(address, where)

    def threads_per_run(self, workers: int) -> int:
        return self.choice.threads or 1  # (a worker's cores are the cluster's to share out)

    def run(
        self,
        requests: list[RunRequest],
        workers: int,
        done: Callable[[Run], None],
        warn: Callable[[str], None],
    ) -> None:
        with dask_client(self.choice, workers) as client:
            run_on(client, requests, self.choice.retries, done, warn)


@contextlib.contextmanager
def dask_client(choice: ExecutorChoice, workers: int) -> Iterator[Client]:
    """A Dask client: of the scheduler named (checked, and over TLS with Dask's own settings),
    else of Dask's own configuration (DASK_SCHEDULER_ADDRESS, ~/.config/dask), else of a
    LocalCluster of `workers` processes of one thread each (one kernel per process)."""
    try:
        from distributed import LocalCluster  # (Dask: an extra, for the dask executor only)
    except ImportError:
        raise KnowrepoError(None, DASK_EXTRA) from None

    quiet_dask()
    address, where = scheduler_of(choice)
    client_class = _reading_client()
    with contextlib.ExitStack() as stack:
        if address:
            security = dask_security(address, where)
            try:
                client = stack.enter_context(client_class(address, timeout="10s", security=security))
            except (OSError, TypeError, ValueError, RuntimeError) as exc:
                raise KnowrepoError(
                    None, f"cannot reach the Dask scheduler at {address}: {_line(exc)}"
                ) from None
        else:
            cluster = stack.enter_context(
                LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
            )
            client = stack.enter_context(client_class(cluster))
        yield client


def scheduler_of(choice: ExecutorChoice) -> tuple[str, str]:
    """The scheduler's address ("": none, start a LocalCluster) and where it was set (for
    errors), checked: a malformed address is a one-line error before anything runs."""
    import dask  # (Dask: an extra, for the dask executor only)

    address, where = choice.scheduler, choice.scheduler_from
    if not address:
        address = str(dask.config.get("scheduler-address", None) or "")
        where = "Dask's config scheduler-address"
    if address and (problem := address_problem(address)):
        raise KnowrepoError(f"{where} {address!r}", problem)
    return address, where


def address_problem(address: str) -> str | None:
    """Why `address` is not a Dask scheduler's address (None: it is one), as Dask parses it."""
    # (Dask: an extra, for the dask executor only)
    from distributed.comm import get_address_host_port, parse_address
    from distributed.comm.registry import get_backend

    try:
        scheme, _ = parse_address(address)
        get_backend(scheme)
        _, port = get_address_host_port(address)
    except (ValueError, TypeError) as exc:
        return _line(exc)
    if not 0 < port < 65536:
        return f"the port must be 1 to 65535, not {port}"
    return None


TLS_SETTINGS = (
    "distributed.comm.tls.ca-file, .client.cert and .client.key (in the environment: "
    "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ...__CLIENT__CERT, ...__CLIENT__KEY)"
)
REQUIRED = "distributed.comm.require-encryption"


class _TlsSettings(Protocol):
    """What distributed's Security holds of Dask's TLS config (its class declares them only
    as __slots__, which its type hints do not name)."""

    require_encryption: bool
    tls_ca_file: str | None
    tls_client_cert: str | None
    tls_client_key: str | None


def dask_security(address: str, where: str) -> Security:
    """Dask's own TLS settings (distributed.comm.tls.*, DASK_DISTRIBUTED__COMM__TLS__* in the
    environment) for `address`, checked: what is missing or unreadable is a one-line error
    instead of Dask's TypeError or a bare 'No such file'."""
    from distributed.comm import parse_address  # (Dask: an extra, for the dask executor only)
    from distributed.security import Security

    security, scheme = Security(), parse_address(address)[0]
    tls = cast(_TlsSettings, security)
    encrypted = scheme in ("tls", "wss")
    if tls.require_encryption and not encrypted:
        raise KnowrepoError(
            f"{where} {address!r}", f"Dask's config requires encryption ({REQUIRED}): use tls://"
        )
    if encrypted and not (tls.tls_ca_file and tls.tls_client_cert):
        raise KnowrepoError(
            f"{where} {address!r}", f"a {scheme}:// scheduler needs Dask's TLS settings {TLS_SETTINGS}"
        )
    files = {"ca-file": tls.tls_ca_file, "client.cert": tls.tls_client_cert,
             "client.key": tls.tls_client_key}  # fmt: skip
    for key, path in files.items():
        if encrypted and path and "\n" not in path and not os.path.isfile(path):  # (PEM text has lines)
            raise KnowrepoError(path, f"Dask's TLS setting distributed.comm.tls.{key} names no readable file")
    return security


class UnreadableError(Exception):
    """What a worker sent that cannot be read here (a class only the worker has, say)."""


def readable_error(sent: object) -> BaseException:
    """A task's error as the scheduler relays it (the worker pickled it) made safe to raise
    here. Dask's own reading raises inside its event loop when the pickle names a class this
    machine lacks, or loads as something that is not an exception, and the task's future then
    never completes: `run --executor dask` waited forever."""
    from distributed.protocol import pickle  # (Dask: an extra, for the dask executor only)

    if isinstance(sent, bytes | bytearray | memoryview):
        try:
            sent = pickle.loads(sent)
        except BaseException as exc:  # noqa: BLE001 - whatever the worker's pickle raises here
            return UnreadableError(f"its error cannot be read here ({type(exc).__name__}: {_line(exc)})")
    if isinstance(sent, BaseException):
        return sent
    return UnreadableError(f"its error cannot be read here (a {type(sent).__name__}, not an exception)")


def _line(exc: BaseException) -> str:
    return one_line(str(exc))[:300]


def _why(error: BaseException) -> str:
    """A task's error as a run's failure says it (one line)."""
    return _line(error) if isinstance(error, UnreadableError) else f"{type(error).__name__}: {_line(error)}"


@functools.cache
def _reading_client() -> type[Client]:
    """distributed.Client, reading each task's error with `readable_error` (Dask has no public
    hook for it: this overrides the stream handler its client registers for 'task-erred')."""
    from distributed import Client  # (Dask: an extra, for the dask executor only)

    class ReadingClient(Client):
        def _handle_task_erred(self, key: Any = None, exception: Any = None, traceback: Any = None) -> None:
            handle = super()._handle_task_erred  # (distributed's own handler is not annotated)
            handle(key=key, exception=readable_error(exception), traceback=None)  # type: ignore[no-untyped-call]

    return ReadingClient


def worker_died(exc: BaseException) -> bool:
    """Whether a task failed because its worker process went away (not because of the run)."""
    return type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError") or isinstance(
        exc, ConnectionError | TimeoutError
    )


def outcome(future: Future[RemoteResult]) -> tuple[RemoteResult | None, BaseException | None]:
    """A finished task's result, or why it has none; never raises. A result that cannot be
    read here (its worker pickled a class this machine lacks) is the run's failure."""
    if future.status == "error":
        return None, future.exception() or UnreadableError("its task failed without an error")
    try:
        return future.result(), None
    except Exception as exc:  # noqa: BLE001 - whatever reading the worker's pickle raises here
        if worker_died(exc):
            return None, exc
        return None, UnreadableError(
            f"what its worker returned cannot be read here ({type(exc).__name__}: {_line(exc)})"
        )


def run_on(
    client: Client,
    requests: list[RunRequest],
    retries: int,
    on_done: Callable[[Run], None],
    warn: Callable[[str], None],
) -> None:
    """Submit a self-contained task per request and commit each run as it returns. A task whose
    worker died is submitted again, at most `retries` times, its failed attempt kept in the
    run's origin; a run whose cell failed, or whose result fails the checks, is a result, never
    resubmitted. Ctrl-C (or any error) cancels what has not finished; the runs already returned
    stay committed."""
    from distributed import wait as wait_for  # (Dask: an extra, for the dask executor only)

    pending = dict(_submit(client, r) for r in requests)
    try:
        while pending:
            for future in wait_for(list(pending), return_when="FIRST_COMPLETED").done:
                request = pending.pop(future)
                result, error = outcome(future)
                if error is None:
                    on_done(commit_remote(request, result))
                    continue
                why = scrub(_why(error), request.all_secrets())
                attempts = [*request.origin.get("failed_attempts", []), why]
                if worker_died(error) and len(attempts) <= retries:
                    warn(f"{request.source} [{request.variant}]: its worker died ({why}); submitted again")
                    again = replace(request, origin={**request.origin, "failed_attempts": attempts})
                    pending.update([_submit(client, again)])
                else:
                    on_done(_unstored(request, "WorkerDied" if worker_died(error) else "TaskFailed", why))
    finally:
        if pending:
            with contextlib.suppress(Exception):  # (a client that lost its scheduler: nothing to cancel)
                client.cancel(list(pending))


def _submit(client: Client, request: RunRequest) -> tuple[Future[RemoteResult], RunRequest]:
    """(the task's future, its request as sent: with the run id the task carries)."""
    task = bundle(request)
    return client.submit(execute_remote, task, pure=False), task.request
