"""A run as a self-contained task for a worker on another machine.

Workers share no filesystem with the repository: a task carries the notebook, its resolved
parameters and the files its front matter `inputs:` declares; it runs them in a temp folder laid
out like the repository (so relative paths in the notebook hold) and brings back the run
folder's files. The run store stays on the machine that owns the repository, which commits
each returned run there: a task that dies or is cancelled leaves nothing behind.

What a worker returns is not trusted: the run's identity (its id, report, variant, parameters,
keys, origin) is the request's; only the two files a run folder holds are written, into the
run's own temp folder, private values masked again; the fields the site shows are checked as a
run.json on disk is. A result that fails a check is a failed run, and nothing of it is kept.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from knowrepo.errors import KnowrepoError, one_line
from knowrepo.model import KERNEL_LOG, NOTEBOOK_FILE, RUN_FAILED, RUN_OK, Run, RunError
from knowrepo.pipeline.execute.run import (
    RunRequest,
    _git,
    _keep_notebook,
    _safe_execute,
    _unstored,
)
from knowrepo.pipeline.execute.runstore import RUN_FILE, RunStore, new_run_id, record_problem
from knowrepo.pipeline.textnotebook import notebook_file
from knowrepo.support.secrets import masked, scrub
from knowrepo.support.yamltext import plain_problem

RETURNED_FILES = (KERNEL_LOG, NOTEBOOK_FILE)  # what a run folder holds besides run.json
MAX_FILE_BYTES = 512 << 20  # a returned notebook larger than this is not a report's
MAX_RECORD_BYTES = 4 << 20  # a run record (metrics, error) larger than this is not one either
STARTED = "%Y-%m-%dT%H:%M:%SZ"  # how execute_run writes a run's start


@dataclass(frozen=True)
class RemoteRun:
    request: RunRequest  # its root is the owner's path: unused on the worker
    files: dict[str, bytes]  # path relative to the repository -> content


@dataclass(frozen=True)
class RemoteResult:
    record: dict[str, Any]  # the run.json record
    files: dict[str, bytes]  # the run folder's other files: notebook.ipynb, kernel.log
    worker: str  # host:pid that ran it


def bundle(request: RunRequest) -> RemoteRun:
    """The task for `request`: the source, its converted notebook for a text notebook, and the
    declared input files (their hashes are already in the request's cache key). Each task gets
    a new run id here, so the store's owner, not the worker, names the run's folder."""
    root = Path(request.root)
    notebook = notebook_file(root, request.source, request.source_hash).resolve()
    paths = {request.source, notebook.relative_to(root.resolve()).as_posix(), *request.inputs}
    files = {rel: (root / rel).read_bytes() for rel in sorted(paths)}
    return RemoteRun(replace(request, run_id=new_run_id()), files)


# One kernel at a time per worker process: papermill's cwd= is an os.chdir, which threads of one
# process share (a worker started with --nthreads 4 runs its tasks one after the other).
_ONE_KERNEL = threading.Lock()


def execute_remote(task: RemoteRun) -> RemoteResult:
    """On the worker: write the task's files into a temp repository, run, return the run."""
    with _ONE_KERNEL, tempfile.TemporaryDirectory(prefix="knowrepo-task-") as tmp:
        for rel, data in task.files.items():
            target = Path(tmp, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        run = _safe_execute(replace(task.request, root=tmp))
        files = {}
        if run.folder is not None:
            files = {p.name: p.read_bytes() for p in run.folder.iterdir() if p.name != RUN_FILE}
        return RemoteResult(run.to_json(), files, f"{socket.gethostname()}:{os.getpid()}")


def commit_remote(request: RunRequest, result: Any) -> Run:
    """The returned run, committed to this repository's run store (a run that never reached
    the worker's store comes back as a failed run and is not stored); a result that fails a
    check is a failed run, and nothing of it is kept."""
    if problem := result_problem(request, result):
        return _unstored(request, "BadResult", f"{_who(result)} returned {problem}; nothing of it was kept")
    secrets = request.all_secrets()
    record = scrub(result.record, secrets)  # (a worker that did not mask them: an older knowrepo)
    if not record["id"]:
        error = RunError.from_json(record.get("error")) or RunError("TaskFailed", "")
        return _unstored(request, error.ename, error.evalue)
    root = Path(request.root)
    store = RunStore(root)
    staging = store.staging(request.slug, request.variant, request.run_id)
    try:
        _write_files(staging, result.files, request.private, secrets)
        return store.commit(staging, replace(_run_of(request, record), git=_git(root, request.source)))
    except _UNKEEPABLE as exc:
        shutil.rmtree(staging, ignore_errors=True)
        reason = f"{type(exc).__name__}: {one_line(str(exc))[:300]}"
        return _unstored(
            request, "BadResult", f"{_who(result)} returned a run that could not be kept ({reason})"
        )


# A full disk; a notebook that is not JSON (KnowrepoError from _keep_notebook), or JSON of
# another shape (masking it walks its cells)
_UNKEEPABLE = (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, KnowrepoError)


def _run_of(request: RunRequest, record: dict[str, Any]) -> Run:
    """The run: who it is from the request; what happened (status, times, error, metrics,
    versions) from the worker's record, checked."""
    return Run(
        folder=None,
        id=request.run_id,
        slug=request.slug,
        variant=request.variant,
        source=request.source,
        status=record["status"],
        params=masked(request.params, request.private),
        private_params=request.private,
        started=record.get("started") or "",
        duration=float(record.get("duration") or 0.0),
        cells=tuple(record.get("cells") or ()),
        kernel=request.kernel,
        versions=dict(record.get("versions") or {}),
        packages=dict(record.get("packages") or {}),
        source_hash=request.source_hash,
        cache_key=request.cache_key,
        declared_key=request.declared_key or request.cache_key,
        error=RunError.from_json(record.get("error")),
        metrics=dict(record.get("metrics") or {}),
        metric_styles=dict(record.get("metric_styles") or {}),
        origin=request.origin,
        inputs=request.inputs,
        period=request.period,
    )


def _write_files(
    staging: Path, files: dict[str, bytes], private: tuple[str, ...], secrets: list[str]
) -> None:
    """The returned files (names already checked) into the run's temp folder, masked again."""
    for name, data in files.items():
        if name == KERNEL_LOG:
            data = scrub(data.decode(errors="replace"), secrets).encode()
        (staging / name).write_bytes(data)
    if NOTEBOOK_FILE in files:
        _keep_notebook(staging / NOTEBOOK_FILE, private, secrets)


def result_problem(request: RunRequest, result: Any, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """What makes `result` not the run `request` asked for (None: nothing), as 'returned ...'
    says it."""
    if not (
        isinstance(result, RemoteResult)
        and isinstance(result.record, dict)
        and isinstance(result.files, dict)
    ):
        return f"something that is not a knowrepo run result (a {type(result).__name__})"
    record = result.record
    return (
        _identity_problem(request, record)
        or _record_problem(record, bool(result.files), NOTEBOOK_FILE in result.files)
        or _files_problem(result.files, max_bytes)
    )


def _identity_problem(request: RunRequest, record: dict[str, Any]) -> str | None:
    """The record must be of the run asked for (its id "" when the worker stored nothing)."""
    asked = {"id": request.run_id, "slug": request.slug, "variant": request.variant, "source": request.source}
    for key, value in asked.items():
        given = record.get(key)
        if given != value and not (key == "id" and given == ""):
            return f"a run of {key} {_shown(given)}, not {value!r}"
    return None


def _record_problem(record: dict[str, Any], has_files: bool, has_notebook: bool) -> str | None:
    """The record's fields that the site shows, checked as a run.json on disk is, and more
    (a stored record was written by knowrepo; this one by whatever ran on the worker)."""
    if problem := record_problem(record, record["id"]):
        return f"a record that is not a run's ({problem})"
    if not record["id"] and (record["status"] != RUN_FAILED or has_files):
        return "a run it did not store (no id) that is not a failure"
    if record["status"] == RUN_OK and not has_notebook:
        return f"a successful run without its {NOTEBOOK_FILE}"
    if problem := plain_problem({k: v for k, v in record.items() if k != "metrics"}, "the record"):
        return f"a record where {problem}"
    return _shown_fields_problem(record)


def _shown_fields_problem(record: dict[str, Any]) -> str | None:
    """What run.json's check leaves to knowrepo having written it: seconds that are seconds,
    a start time the staleness check can read, versions as texts, a sane size."""
    cells, versions, started = record.get("cells", []), record.get("versions", {}), record.get("started", "")
    if (
        not isinstance(cells, list)
        or not all(_seconds(c) for c in cells)
        or not _seconds(record.get("duration", 0))
    ):
        return "a record whose 'cells' or 'duration' are not seconds"
    if not isinstance(versions, dict) or not all(isinstance(v, str) for v in versions.values()):
        return "a record whose 'versions' is not an object of texts"
    if started and not _is_time(started):
        return f"a record whose 'started' {_shown(started)} is not a time like 2026-01-31T06:00:00Z"
    try:
        size = len(json.dumps(record, default=str))
    except (ValueError, RecursionError) as exc:
        return f"a record that is not JSON ({type(exc).__name__})"
    if size > MAX_RECORD_BYTES:
        return f"a record of {size >> 20} MB (at most {MAX_RECORD_BYTES >> 20} MB)"
    return None


def _files_problem(files: dict[Any, Any], max_bytes: int) -> str | None:
    """Only the files a run folder holds, by their plain names, as bytes of a sane size."""
    for name, data in files.items():
        if name not in RETURNED_FILES:
            return f"a file named {_shown(name)} (a run folder holds only {' and '.join(RETURNED_FILES)})"
        if not isinstance(data, bytes):
            return f"a {name} that is not bytes (a {type(data).__name__})"
        if len(data) > max_bytes:
            return f"a {name} of {len(data) >> 20} MB (at most {max_bytes >> 20} MB)"
    return None


def _seconds(value: Any) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )


def _is_time(value: Any) -> bool:
    try:
        dt.datetime.strptime(value, STARTED)
    except (TypeError, ValueError):
        return False
    return True


def _shown(value: Any) -> str:
    """A value a worker sent, for a message: quoted, escaped, short."""
    return repr(value[:60]) if isinstance(value, str) else f"of type {type(value).__name__}"


_WORKER = re.compile(r"[\w.:@\[\]-]{1,100}")


def _who(result: Any) -> str:
    """'its worker host:pid', as the result names it when that is a plain name."""
    worker = getattr(result, "worker", None) if isinstance(result, RemoteResult) else None
    return f"its worker {worker}" if isinstance(worker, str) and _WORKER.fullmatch(worker) else "its worker"
