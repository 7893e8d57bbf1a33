"""A run as a self-contained task for a worker on another machine.

Workers share no filesystem with the repository: a task carries the notebook, its resolved
parameters and the files its front matter `inputs:` declares; it runs them in a temp folder laid
out like the repository (so relative paths in the notebook hold) and brings back the run
folder's files. The run store stays on the machine that owns the repository, which commits
each returned run there: a task that dies or is cancelled leaves nothing behind.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from knowrepo.model import Run
from knowrepo.pipeline.execute.run import RunRequest, _git, _safe_execute
from knowrepo.pipeline.execute.runstore import RUN_FILE, RunStore


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
    declared input files (their hashes are already in the request's cache key)."""
    from knowrepo.pipeline.textnotebook import notebook_file

    root = Path(request.root)
    notebook = notebook_file(root, request.source, request.source_hash).resolve()
    paths = {request.source, notebook.relative_to(root.resolve()).as_posix(), *request.inputs}
    return RemoteRun(request, {rel: (root / rel).read_bytes() for rel in sorted(paths)})


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


def commit_remote(root: Path, result: RemoteResult) -> Run:
    """The returned run, committed to this repository's run store (a run that never reached
    the worker's store comes back as a failed run and is not stored)."""
    run = Run.from_json(None, result.record)
    if not result.files:
        return run
    store = RunStore(root)
    staging = store.staging(run.slug, run.variant, run.id)
    for name, data in result.files.items():
        (staging / name).write_bytes(data)
    return store.commit(staging, replace(run, git=_git(root, run.source)))
