"""Whether the code a page shows is still the report's: when the notebook's code cells or its
kernel changed since the run the page shows (a build with `--execute never`, `serve`'s
preview), the page and card say so, as they do when its inputs changed. Prose and outputs
edited in the source are no change of code: only what `code_hash` covers is compared."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from knowrepo.model import Run
from knowrepo.pipeline.execute.run import code_hash
from knowrepo.support.atomic import write_atomic
from knowrepo.support.caches import Caches

if TYPE_CHECKING:
    from knowrepo.pipeline.execute.plan import ReportPlan

CODE_CHANGED = "Code changed since this run"
INJECTED = "injected-parameters"  # the tag of the cell papermill adds with a run's parameters


def ran_code(nb: dict[str, Any]) -> str:
    """The hash of the code cells an executed notebook ran, as the source had them: without
    the cell papermill injected."""
    cells = [c for c in nb.get("cells", []) if INJECTED not in (c.get("metadata", {}).get("tags") or [])]
    return code_hash({"cells": cells})


def run_code(run: Run, caches: Caches) -> str | None:
    """`ran_code` of a run's notebook (None when it has none, or it cannot be read), kept in
    the cache by run id: a run never changes, and its notebook may be megabytes of outputs."""
    if not run.has_notebook:
        return None
    cached = caches.run_code(run.id)
    try:
        known = cached.read_text()
    except OSError:
        known = ""
    if len(known) == 20:  # (code_hash's length: anything else is a damaged entry)
        return known
    try:
        nb = json.loads(run.notebook.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(nb, dict):
        return None
    code = ran_code(nb)
    write_atomic(cached, code.encode())
    return code


def code_change(plan: ReportPlan, run: Run | None, caches: Caches) -> str:
    """What a page showing `run` says of its code ("" when it is the source's): the code
    cells differ from the source's, or the kernel does."""
    if run is None or run.source_hash == plan.report.source_hash:
        return ""  # (the same bytes: the same code)
    ran = run_code(run, caches)
    code = ran is not None and ran != plan.code
    kernel = bool(run.kernel) and run.kernel != plan.kernel
    if not code and not kernel:
        return ""
    was = f"was {run.kernel}, now {plan.kernel}"
    if code and kernel:
        return f"Code and kernel changed since this run (kernel {was})"
    return CODE_CHANGED if code else f"Kernel changed since this run ({was})"
