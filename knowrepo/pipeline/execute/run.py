"""Execute: papermill runs a report notebook with one parameter set and records the run.

Runs go over worker processes (papermill's cwd= is an os.chdir, not thread-safe). Each run
executes into a hidden temp folder of the run store and is renamed into place when done.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo import __version__
from knowrepo.errors import KnowrepoError, one_line, write_error
from knowrepo.model import KERNEL_LOG, NOTEBOOK_FILE, RUN_FAILED, RUN_OK, Run, RunError
from knowrepo.pipeline.execute.figures import recorded, style_warnings, styles_of
from knowrepo.pipeline.execute.imported import kernel_version, packages_of, probing_engine, without_answer
from knowrepo.pipeline.execute.runstore import RunStore, new_run_id
from knowrepo.pipeline.masking import mask_notebook
from knowrepo.pipeline.textnotebook import notebook_file
from knowrepo.plugins import Executor
from knowrepo.support.faults import pause_point
from knowrepo.support.paths import outside_reason
from knowrepo.support.secrets import MASK, joined, masked, scrub, secrets_of
from knowrepo.support.tracebacks import error_line, traceback_tail

if TYPE_CHECKING:
    from knowrepo.support.progress import Reporter

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class RunRequest:
    """Everything a worker needs to execute one run (picklable)."""

    root: str
    slug: str
    variant: str
    source: str  # relative to root
    params: dict[str, Any]
    private: tuple[str, ...]
    kernel: str
    timeout: int
    allow_errors: bool
    cache_key: str
    source_hash: str
    declared_key: str = ""  # the key without overrides (what a build compares with)
    inputs: dict[str, str] = field(default_factory=dict)  # declared input files -> content hash
    origin: dict[str, Any] = field(default_factory=dict)  # how it was started (build, run, --from)
    threads: int = 0  # BLAS/OpenMP threads the kernel may use (0: as the environment says)
    run_id: str = ""  # given by the owner of the run store to a remote run; "": made when it starts
    # The report's other private values (its front matter's, every variant's): the source
    # holds them, so the executed notebook does too until masked.
    secrets: tuple[str, ...] = ()
    period: str = ""  # the period its data covers (front matter `period`, a schedule's date), if known

    def all_secrets(self) -> list[str]:
        """Every text to mask in what this run writes or says."""
        return joined(secrets_of(self.params, self.private), self.secrets)


def code_cells(nb: dict[str, Any]) -> list[str]:
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
    ]


def input_files(root: Path, source: str, globs: tuple[str, ...]) -> list[str]:
    """Files the report declares it reads (globs relative to its folder), relative to root.
    A glob that reaches outside the repository (or into .git/.knowrepo) is an error."""
    base = (root / source).parent
    real_root = root.resolve()
    found: set[str] = set()
    for pattern in globs:
        if Path(pattern).is_absolute():
            raise KnowrepoError(source, f"inputs glob '{pattern}' must be relative to the report's folder")
        try:
            matches = sorted(base.glob(pattern))
        except (ValueError, OSError) as exc:
            raise KnowrepoError(source, f"inputs glob '{pattern}' is invalid: {exc}") from None
        for path in matches:
            if reason := outside_reason(root, path):
                raise KnowrepoError(source, f"inputs glob '{pattern}' matches {path.name}, which {reason}")
            if path.is_file():
                found.add(path.resolve().relative_to(real_root).as_posix())
    return sorted(found)


def unmatched_inputs(root: Path, source: str, globs: tuple[str, ...]) -> list[KnowrepoError]:
    """The report's `inputs:` globs that match no file (a typo, data not fetched yet), each a
    problem to warn of: the report may still run. Invalid globs are left to planning."""
    base = (root / source).parent
    unmatched = []
    for pattern in globs:
        try:
            matched = any(path.is_file() for path in base.glob(pattern))
        except (ValueError, OSError, NotImplementedError):
            continue
        if not matched:
            unmatched.append(KnowrepoError(source, f"inputs glob '{pattern}' matches no file"))
    return unmatched


def code_hash(nb: dict[str, Any]) -> str:
    """The hash of a notebook's code cells: the part of a run's cache key its source decides."""
    return hashlib.sha256(json.dumps(code_cells(nb)).encode()).hexdigest()[:20]


def cache_key(code: str, params: dict[str, Any], kernel: str, root: Path, inputs: list[str]) -> str:
    """What decides a run's outputs: code cells, resolved parameters, kernel, input files."""
    digest = hashlib.sha256()
    digest.update(json.dumps([code, params, kernel], sort_keys=True, default=str).encode())
    for rel in inputs:
        digest.update(rel.encode() + b"\0" + (root / rel).read_bytes())
    return digest.hexdigest()[:20]


def _git(root: Path, source: str) -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", source],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": commit, "dirty": bool(dirty)}


def metrics_of(nb: dict[str, Any]) -> dict[str, Any]:
    """Headline figures the notebook recorded (knowrepo.record or scrapbook's sb.glue)."""
    return {str(p["name"]): p.get("value", p.get("data")) for _n, _mime, p in recorded(nb)}


# Cells papermill adds to the executed notebook (its parameters, its "An Exception was
# encountered" heading): not the author's, so not counted in "cell N".
_PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


def first_error(nb: dict[str, Any]) -> dict[str, Any] | None:
    """The first error output, with its cell's number in the author's notebook (counted from 1
    over all its cells, as knowrepo's other messages count them)."""
    authors = [
        c for c in nb.get("cells", []) if not _PAPERMILL_TAGS & set(c.get("metadata", {}).get("tags", []))
    ]
    for index, cell in enumerate(authors):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "error":
                return {
                    "cell": index + 1,
                    "ename": output.get("ename", ""),
                    "evalue": output.get("evalue", ""),
                    "traceback": traceback_tail(_ANSI.sub("", "\n".join(output.get("traceback", [])))),
                }
    return None


def _mask_notebook(nb: dict[str, Any], private: tuple[str, ...]) -> None:
    """Private values never reach the stored notebook: rewrite papermill's injected cell."""
    if not private:
        return
    recorded = nb.get("metadata", {}).get("papermill", {}).get("parameters", {})
    for name in private:
        if name in recorded:
            recorded[name] = MASK
    for cell in nb.get("cells", []):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for name in private:
                source = re.sub(rf"^({re.escape(name)}\s*=\s*).*$", rf'\g<1>"{MASK}"', source, flags=re.M)
            cell["source"] = source


# The thread pools of BLAS and OpenMP libraries size themselves to every core of the machine:
# N kernels at once would each start that many threads and fight over the cores.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)  # fmt: skip


def _quiet_kernel_manager(log: Path, threads: int = 0) -> type:
    """A kernel manager on IPC sockets in a temp folder: no 'running over TCP without
    encryption' warning on the user's terminal, and no socket files beside the notebook. With
    `threads`, the kernel's BLAS/OpenMP thread pools are capped to it."""
    from jupyter_client.manager import AsyncKernelManager  # (papermill's: only where a notebook runs)

    class QuietKernelManager(AsyncKernelManager):
        stderr_path: str | None = None  # the kernel's own log, kept with the run

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = os.path.join(tempfile.gettempdir(), f"knowrepo-kernel-{uuid.uuid4().hex[:12]}")

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            # The kernel's stderr ("KeyboardInterrupt caught in kernel" at shutdown and the
            # like) goes to kernel.log in the run folder instead of the user's terminal.
            if self.stderr_path:
                kw["stderr"] = open(self.stderr_path, "ab")  # noqa: SIM115 - owned by the kernel process
            if threads:
                kw["env"] = {**(kw.get("env") or os.environ), **dict.fromkeys(THREAD_VARIABLES, str(threads))}
            await super()._async_launch_kernel(kernel_cmd, **kw)

    QuietKernelManager.stderr_path = str(log)
    return QuietKernelManager


def execute_run(request: RunRequest) -> Run:
    """Execute one run into a hidden folder of the run store and commit it there."""
    root = Path(request.root)
    store = RunStore(root)
    store.clean_abandoned(request.slug, request.variant)
    run_id = request.run_id or new_run_id()
    staging = store.staging(request.slug, request.variant, run_id)
    try:
        return store.commit(staging, _execute_into(request, root, staging, run_id))
    except BaseException:  # a full disk, Ctrl-C: the half-made run is this process's to remove
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _execute_into(request: RunRequest, root: Path, staging: Path, run_id: str) -> Run:
    """Run papermill into `staging` and keep its notebook and kernel log there: the run's record."""
    pause_point("run", root / ".knowrepo")
    started = time.time()
    error = _papermill(request, staging, _kernel_log(request, run_id))
    duration = time.time() - started
    secrets = request.all_secrets()
    final = (staging.parent / run_id / NOTEBOOK_FILE).relative_to(root).as_posix()
    nb = _keep_notebook(staging / NOTEBOOK_FILE, request.private, secrets, (request.source, final))
    if error is not None and nb:
        error = {**error, **(first_error(nb) or {})}
    _keep_kernel_log(_kernel_log(request, run_id), staging / KERNEL_LOG, secrets)
    return Run(
        folder=None,
        id=run_id,
        slug=request.slug,
        variant=request.variant,
        source=request.source,
        status=RUN_OK if error is None else RUN_FAILED,
        params=masked(request.params, request.private),
        private_params=request.private,
        started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        duration=round(duration, 3),
        cells=tuple(
            round(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0, 4)
            for c in nb.get("cells", [])
            if c.get("cell_type") == "code"
        ),
        kernel=request.kernel,
        versions={**_versions(), **kernel_version(nb)},
        packages=packages_of(nb),
        source_hash=request.source_hash,
        cache_key=request.cache_key,
        declared_key=request.declared_key or request.cache_key,
        git=_git(root, request.source),
        error=RunError.from_json(scrub(error, secrets)),
        metrics=metrics_of(nb),
        metric_styles=styles_of(nb),
        origin=request.origin,
        inputs=request.inputs,
        period=request.period,
    )


def _versions() -> dict[str, str]:
    import papermill  # (papermill: only where a notebook runs)

    return {"python": platform.python_version(), "knowrepo": __version__, "papermill": papermill.__version__}


def _kernel_log(request: RunRequest, run_id: str) -> Path:
    """Where the kernel's stderr goes while it runs: outside runs/ (which is committed or
    shared), so that a run killed before its private values are masked leaves them nowhere."""
    folder = Path(request.root) / ".knowrepo" / "kernel-logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{run_id}.log"


def _keep_kernel_log(log: Path, kept: Path, secrets: list[str]) -> None:
    """The kernel's stderr into the run folder, private values masked."""
    if log.exists():
        kept.write_text(scrub(log.read_text(errors="replace"), secrets))
        log.unlink()


def _papermill(request: RunRequest, staging: Path, log: Path) -> dict[str, Any] | None:
    """Run papermill into `staging`; the error of a failed run (as run.json has it), or None.
    A kernel that fails to start is started once more: kernels started at once race for ports
    and sockets (papermill#239, #511)."""
    from papermill.exceptions import PapermillExecutionError

    for attempt in (1, 2):
        try:
            _execute_notebook(request, staging, log)
        except PapermillExecutionError as exc:
            if request.allow_errors:
                return None
            trace = traceback_tail(_ANSI.sub("", "\n".join(exc.traceback)))
            return {"cell": None, "ename": exc.ename, "evalue": exc.evalue, "traceback": trace}
        except Exception as exc:  # timeout, dead kernel, missing kernel: a failed run, never a crash
            if write_error(exc):  # a full disk is the machine's fault, not the notebook's
                raise
            if attempt == 1 and kernel_did_not_start(exc):
                continue
            kind = type(exc).__name__
            message = " ".join(str(exc).split())[:500]
            if "Timeout" in kind:
                message = f"a cell ran longer than the {request.timeout} s timeout"
            return {"cell": None, "ename": kind, "evalue": message, "traceback": ""}
        return None
    return None  # (not reached: the second attempt returns)


def kernel_did_not_start(exc: BaseException) -> bool:
    """Whether papermill failed because the kernel never came up (not because a cell failed)."""
    text = str(exc)
    signs = ("Kernel died before replying to kernel_info", "Kernel didn't respond", "Address already in use")
    return type(exc).__name__ == "ZMQError" or any(s in text for s in signs)


def _execute_notebook(request: RunRequest, staging: Path, log: Path) -> None:

    import papermill  # (papermill: only where a notebook runs)
    from papermill.engines import papermill_engines  # (and its engines)

    papermill_engines.register("knowrepo", probing_engine())
    logging.getLogger("papermill").setLevel(logging.CRITICAL)
    source = Path(request.root) / request.source
    with warnings.catch_warnings():  # nbformat's, about cell ids and the like: not for the user here
        warnings.simplefilter("ignore")
        papermill.execute_notebook(
            str(notebook_file(Path(request.root), request.source, request.source_hash)),
            str(staging / NOTEBOOK_FILE),
            parameters=request.params,
            kernel_name=request.kernel,
            engine_name="knowrepo",  # papermill's, asking the kernel what the notebook imported
            cwd=str(source.parent),
            request_save_on_cell_execute=False,
            autosave_cell_every=60,
            progress_bar=False,
            log_output=False,
            execution_timeout=request.timeout,
            allow_errors=request.allow_errors,
            kernel_manager_class=_quiet_kernel_manager(log, request.threads),
            # The notebook is complete when the last cell returns: a graceful shutdown only
            # waits (~0.4 s a run, measured), so the kernel is stopped at once.
            shutdown_kernel="immediate",
        )


def _keep_notebook(
    output: Path, private: tuple[str, ...], secrets: list[str], paths: tuple[str, str] = ("", "")
) -> dict[str, Any]:
    """The executed notebook as stored: private values masked in it ({} if none was written);
    papermill's input and output paths as `paths` (repository-relative: the absolute ones name
    the machine's folders and the run's temp folder, and the notebook is published)."""
    if not output.exists():
        return {}
    try:
        nb: dict[str, Any] = json.loads(output.read_text())
    except (ValueError, RecursionError) as exc:  # (papermill writes it whole, or raises)
        raise KnowrepoError(
            output, f"the executed notebook is not JSON ({exc}); the run is not recorded"
        ) from None
    _mask_notebook(nb, private)
    recorded = nb.get("metadata", {}).get("papermill")
    if isinstance(recorded, dict) and all(paths):
        recorded["input_path"], recorded["output_path"] = paths
    nb = scrub(mask_notebook(nb), secrets)  # outputs and tracebacks that print a private value
    output.write_text(json.dumps(without_answer(nb), indent=1))
    return nb


def _unstored(request: RunRequest, ename: str, evalue: str) -> Run:
    """A failed run that never reached the store."""
    return Run(
        None, "", request.slug, request.variant, request.source, RUN_FAILED, error=RunError(ename, evalue)
    )


def _safe_execute(request: RunRequest) -> Run:
    try:
        return execute_run(request)
    except KnowrepoError as exc:
        return _unstored(request, "", scrub(str(exc), request.all_secrets()))
    except Exception as exc:  # noqa: BLE001 - the store or papermill broke: report, don't crash
        if isinstance(exc, OSError) and write_error(exc):  # a full disk: said as such
            return _unwritten(request, exc)
        message = scrub(" ".join(str(exc).split())[:500], request.all_secrets())
        return _unstored(request, type(exc).__name__, message)


def _unwritten(request: RunRequest, exc: OSError) -> Run:
    """A run the machine could not store (a full disk, a read-only run store)."""
    where = Path(request.root) / "runs" / request.slug / request.variant
    return _unstored(request, "", f"cannot write in {where}: {exc.strerror}; the run is not recorded")


def _crashed(request: RunRequest) -> Run:
    """A run whose worker process died at every attempt (nothing was stored)."""
    return _unstored(request, "WorkerDied", "the process running it died (killed, or out of memory)")


def execute_all(requests: list[RunRequest], workers: int, reporter: Reporter, runner: Executor) -> list[Run]:
    """Execute runs on `runner` (a registered executor, made by executors.executor_of), with
    progress; returns the runs."""
    if not requests:
        return []
    runner.check()
    threads = runner.threads_per_run(min(workers, len(requests)))
    requests = [replace(r, threads=threads) for r in requests]
    runs: list[Run] = []
    reporter.phase("Executing", len(requests))

    def done(run: Run) -> None:
        runs.append(run)
        if not run.ok:
            reporter.error(failure_line(run))
        for line in style_warnings(run):
            reporter.warn(line)
        reporter.advance(f"{run.slug} [{run.variant}]")

    try:
        runner.run(requests, workers, done, reporter.warn)
    finally:
        reporter.end_phase()
    return runs


def failure_line(run: Run) -> str:
    """`reports/x.ipynb [eu]: cell 4: ValueError: no data (knowrepo runs ID for the traceback)`:
    one line, however long the exception's text; the command that shows the rest."""
    error = error_line(run.error.ename, run.error.evalue, run.error.cell) if run.error else "failed"
    more = f" (knowrepo runs {run.id} for the traceback)" if run.folder is not None and run.id else ""
    return one_line(f"{run.source} [{run.variant}]: {error}{more}")
