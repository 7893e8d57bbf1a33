"""Execute: papermill runs a report notebook with one parameter set and records the run.

Runs go over worker processes (papermill's cwd= is an os.chdir, not thread-safe). Each run
executes into a hidden temp folder of the run store and is renamed into place when done.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowrepo import METRIC_MIME, __version__
from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.execute.runstore import NOTEBOOK_FILE, Run, RunStore, new_run_id
from knowrepo.support.faults import pause_point
from knowrepo.support.paths import outside_reason
from knowrepo.support.pool import run_parallel

SCRAP_MIME = "application/scrapbook.scrap.json+json"
MASK = "***"
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
    origin: dict[str, Any] = field(default_factory=dict)  # how it was started (build, run, --from)


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


def masked(params: dict[str, Any], private: tuple[str, ...]) -> dict[str, Any]:
    return {k: (MASK if k in private else v) for k, v in params.items()}


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
    found: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in (METRIC_MIME, SCRAP_MIME):
                payload = data.get(mime)
                if isinstance(payload, dict) and "name" in payload:
                    found[str(payload["name"])] = payload.get("value", payload.get("data"))
    return found


def first_error(nb: dict[str, Any]) -> dict[str, Any] | None:
    for index, cell in enumerate(c for c in nb.get("cells", []) if c.get("cell_type") == "code"):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return {
                    "cell": index + 1,
                    "ename": output.get("ename", ""),
                    "evalue": output.get("evalue", ""),
                    "traceback": _ANSI.sub("", "\n".join(output.get("traceback", [])))[-4000:],
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


MIN_SCRUBBED = 4  # shorter private values are not searched for in outputs (they would mask everything)


def secrets_of(params: dict[str, Any], private: tuple[str, ...]) -> list[str]:
    """The texts of the private parameter values, longest first, as outputs would show them."""
    found = {str(params[name]) for name in private if name in params and params[name] is not None}
    return sorted((v for v in found if len(v) >= MIN_SCRUBBED), key=len, reverse=True)


def scrub(value: Any, secrets: list[str]) -> Any:
    """`value` (text, or lists and mappings of it) with every secret replaced by ***."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: scrub(item, secrets) for key, item in value.items()}
    return value


def _quiet_kernel_manager(log: Path) -> type:
    """A kernel manager on IPC sockets in a temp folder: no 'running over TCP without
    encryption' warning on the user's terminal, and no socket files beside the notebook."""
    from jupyter_client.manager import AsyncKernelManager

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
            await super()._async_launch_kernel(kernel_cmd, **kw)

    QuietKernelManager.stderr_path = str(log)
    return QuietKernelManager


def execute_run(request: RunRequest) -> dict[str, Any]:
    """Execute one run and commit it to the store; returns its run.json record."""
    import logging

    import papermill
    from papermill.exceptions import PapermillExecutionError

    logging.getLogger("papermill").setLevel(logging.CRITICAL)
    root = Path(request.root)
    store = RunStore(root)
    store.clean_abandoned(request.slug, request.variant)
    run_id = new_run_id()
    staging = store.staging(request.slug, request.variant, run_id)
    pause_point("run", root / ".knowrepo")
    output = staging / NOTEBOOK_FILE
    source = root / request.source
    started = time.time()
    status, error = "ok", None
    secrets = secrets_of(request.params, request.private)
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=request.params,
            kernel_name=request.kernel,
            cwd=str(source.parent),
            request_save_on_cell_execute=False,
            autosave_cell_every=60,
            progress_bar=False,
            log_output=False,
            execution_timeout=request.timeout,
            allow_errors=request.allow_errors,
            kernel_manager_class=_quiet_kernel_manager(staging / "kernel.log"),
            # The notebook is complete when the last cell returns: a graceful shutdown only
            # waits (~0.4 s a run, measured), so the kernel is stopped at once.
            shutdown_kernel="immediate",
        )
    except PapermillExecutionError as exc:
        if not request.allow_errors:
            status = "failed"
            error = {
                "cell": None,
                "ename": exc.ename,
                "evalue": exc.evalue,
                "traceback": _ANSI.sub("", "\n".join(exc.traceback))[-4000:],
            }
    except Exception as exc:  # timeout, dead kernel, missing kernel: a failed run, never a crash
        status = "failed"
        kind = type(exc).__name__
        message = " ".join(str(exc).split())[:500]
        if "Timeout" in kind:
            message = f"a cell ran longer than the {request.timeout} s timeout"
        error = {"cell": None, "ename": kind, "evalue": message, "traceback": ""}
    duration = time.time() - started
    nb: dict[str, Any] = {}
    if output.exists():
        nb = json.loads(output.read_text())
        _mask_notebook(nb, request.private)
        nb = scrub(nb, secrets)  # outputs and tracebacks that print a private value
        output.write_text(json.dumps(nb, indent=1))
        if status == "failed":
            error = {**(error or {}), **(first_error(nb) or {})}
    error = scrub(error, secrets)
    log = staging / "kernel.log"
    if secrets and log.exists():
        log.write_text(scrub(log.read_text(errors="replace"), secrets))
    import papermill as pm

    record = {
        "id": run_id,
        "slug": request.slug,
        "variant": request.variant,
        "source": request.source,
        "params": masked(request.params, request.private),
        "private_params": list(request.private),
        "status": status,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration": round(duration, 3),
        "cells": [
            round(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0, 4)
            for c in nb.get("cells", [])
            if c.get("cell_type") == "code"
        ],
        "kernel": request.kernel,
        "versions": {
            "python": platform.python_version(),
            "knowrepo": __version__,
            "papermill": pm.__version__,
        },
        "source_hash": request.source_hash,
        "cache_key": request.cache_key,
        "git": _git(root, request.source),
        "error": error,
        "metrics": metrics_of(nb),
        "origin": request.origin,
    }
    run: Run = store.commit(staging, record)
    return run.record


def _safe_execute(request: RunRequest) -> dict[str, Any]:
    try:
        return execute_run(request)
    except Exception as exc:  # noqa: BLE001 - the store or papermill broke: report, don't crash
        message = scrub(" ".join(str(exc).split())[:500], secrets_of(request.params, request.private))
        return {
            "id": None,
            "slug": request.slug,
            "variant": request.variant,
            "status": "failed",
            "error": {"ename": type(exc).__name__, "evalue": message},
            "source": request.source,
        }


def _crashed(request: RunRequest) -> dict[str, Any]:
    """The record of a run whose worker process died twice (nothing was stored)."""
    error = {"ename": "WorkerDied", "evalue": "the process running it died twice (killed, or out of memory)"}
    return {
        "id": None,
        "slug": request.slug,
        "variant": request.variant,
        "status": "failed",
        "error": error,
        "source": request.source,
    }


def execute_all(requests: list[RunRequest], workers: int, reporter: Any) -> list[dict[str, Any]]:
    """Execute runs over `workers` processes, with progress; returns their records."""
    if not requests:
        return []
    records: list[dict[str, Any]] = []
    reporter.phase("Executing", len(requests))

    def done(record: dict[str, Any]) -> None:
        records.append(record)
        label = f"{record['slug']} [{record['variant']}]"
        if record["status"] != "ok":
            error = record.get("error") or {}
            reporter.error(
                f"{record['source']}: run of variant '{record['variant']}' failed: "
                f"{error.get('ename', '')}: {error.get('evalue', '')}"
            )
        reporter.advance(label)

    try:
        run_parallel(
            _safe_execute, requests, workers, lambda _request, record: done(record), on_crash=_crashed
        )
    finally:
        reporter.end_phase()
    return records
