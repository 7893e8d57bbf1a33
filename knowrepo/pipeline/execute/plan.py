"""Plan runs: for each notebook report, its variants, their resolved parameters and cache keys,
and which of them must execute. Pure but for reading sources and the run store."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowrepo.config import Config
from knowrepo.errors import KnowrepoError, did_you_mean
from knowrepo.model import Report, Run, shown_run
from knowrepo.pipeline.execute.params import TYPES, Param, declared_params, resolve
from knowrepo.pipeline.execute.run import RunRequest, cache_key, code_hash, input_files
from knowrepo.pipeline.execute.runstore import RunStore
from knowrepo.pipeline.frontmatter import age_seconds
from knowrepo.pipeline.private import report_secrets
from knowrepo.pipeline.schedule import is_template, render_params, render_period, run_date
from knowrepo.pipeline.textnotebook import load_notebook, notebook_file
from knowrepo.support import clock
from knowrepo.support.atomic import write_atomic
from knowrepo.support.caches import Caches
from knowrepo.support.hashing import file_hash
from knowrepo.support.secrets import masked
from knowrepo.support.shapes import fits

DEFAULT_VARIANT = "default"


@dataclass
class NotebookFacts:
    """What planning needs to know of a notebook source (cached by its content hash)."""

    params: dict[str, tuple[str | None, Any, str]]  # name -> (type name, default, default source)
    has_outputs: bool
    code: str  # hash of the code cells
    kernel: str | None  # the kernelspec the notebook names, if any

    def declared(self) -> dict[str, Param]:

        return {
            name: Param(name, TYPES.get(kind) if kind else None, default, source)
            for name, (kind, default, source) in self.params.items()
        }


def _cached_facts(path: Path) -> NotebookFacts | None:
    """The facts cached at `path`, unless missing, damaged or of another shape (then they are
    found again: a cache never fails a build)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not fits(data, NotebookFacts):
        return None
    params = {k: tuple(v) for k, v in data["params"].items()}
    return NotebookFacts(params, data["has_outputs"], data["code"], data["kernel"])


def notebook_facts(root: Path, report: Report, caches: Caches) -> NotebookFacts:
    cached = caches.facts(report.source_hash)
    if (known := _cached_facts(cached)) is not None:
        return known

    nb = load_notebook(root / report.source)
    cells = nb.get("cells", [])
    tagged = any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells)
    declared = declared_params(notebook_file(root, report.source, report.source_hash)) if tagged else {}
    params = {
        name: (
            p.type.__name__ if p.type else None,
            p.default if _jsonable(p.default) else None,
            p.default_source,
        )
        for name, p in declared.items()
    }
    has_outputs = any(c.get("outputs") for c in cells if c.get("cell_type") == "code")
    code = code_hash(nb)
    spec = nb.get("metadata", {}).get("kernelspec")
    kernel = spec.get("name") if isinstance(spec, dict) and isinstance(spec.get("name"), str) else None
    facts = {"params": params, "has_outputs": has_outputs, "code": code, "kernel": kernel or None}
    write_atomic(cached, json.dumps(facts).encode())
    return NotebookFacts(params, has_outputs, code, kernel or None)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


@dataclass
class VariantPlan:
    name: str
    params: dict[str, Any]  # resolved, unmasked (private values included)
    key: str  # of the run this plan would make (overrides included)
    runs: list[Run] = field(default_factory=list)
    declared_key: str = ""  # of what the author declared: code, kernel, front-matter params, inputs
    overrides: tuple[str, ...] = ()  # the parameters set beyond the front matter (-p, an earlier rerun)
    stale: str = ""  # why the run its page shows is stale (see staleness), once runs are known
    code_changed: str = ""  # what changed of its code since the run its page shows (codechange.py)
    run_date: str = ""  # the date its date-templated parameters were evaluated for (ISO), if any
    pinned: str = ""  # the run id `knowrepo publish` pinned for it (runs/pins.yaml), if any

    @property
    def latest(self) -> Run | None:
        """Its latest run that counts for publishing (a scratch run does not, unless pinned)."""
        return next((r for r in reversed(self.runs) if not r.scratch), None) or self.shown

    @property
    def shown(self) -> Run | None:
        """The run its page shows (see model.shown_run)."""
        return shown_run(self.runs, self.pinned)


@dataclass
class ReportPlan:
    report: Report
    variants: list[VariantPlan]
    executes: bool  # False: a notebook committed with outputs and no parameters, shown as it is
    inputs: list[str]
    kernel: str  # the notebook's kernelspec, else [execute] kernel
    declared: dict[str, Param] = field(default_factory=dict)  # the parameters cell
    code: str = ""  # hash of the code cells

    def key_for(self, params: dict[str, Any], root: Path) -> str:
        # Private values (credentials) stay out of the key: a key is published, and a short
        # secret could be found from it by trying every value.
        masked_params = masked(params, self.report.meta.private_params)
        return cache_key(self.code, masked_params, self.kernel, root, self.inputs)

    def with_overrides(self, variant: VariantPlan, values: dict[str, Any], root: Path) -> VariantPlan:
        """The variant with `values` (already typed, e.g. an earlier run's) set on top."""
        meta = self.report.meta
        params = resolve(self.report.source, self.declared, (variant.params, False), (values, False),
                         private=meta.private_params)  # fmt: skip
        overrides = tuple(sorted({*variant.overrides, *values}))
        planned = VariantPlan(
            variant.name, params, self.key_for(params, root), variant.runs, variant.declared_key
        )
        planned.overrides, planned.run_date, planned.pinned = overrides, variant.run_date, variant.pinned
        return planned


def plan_report(
    root: Path,
    config: Config,
    report: Report,
    store: RunStore,
    overrides: list[tuple[dict[str, Any], bool]] | None = None,
    run_date: dt.date | None = None,
) -> ReportPlan:
    """Variants with resolved parameters and cache keys, and the runs already recorded."""
    facts = notebook_facts(root, report, config.caches)
    meta = report.meta
    declared = facts.declared()
    executes = bool(declared or meta.variants or meta.params or not facts.has_outputs)
    variants_spec = meta.variants or {DEFAULT_VARIANT: {}}
    inputs = input_files(root, report.source, meta.inputs)
    kernel = facts.kernel or config.execute.kernel
    if len(variants_spec) > config.execute.max_variants:
        raise KnowrepoError(
            report.source,
            f"has {len(variants_spec)} variants, more than [execute] max_variants"
            f" ({config.execute.max_variants}); narrow the matrix or raise the limit in knowrepo.toml",
        )
    plan = ReportPlan(report, [], executes, inputs, kernel, declared, facts.code)
    overridden = sorted({name for values, _text in overrides or [] for name in values})
    for name, values in variants_spec.items():
        runs = store.runs(report.slug, name)
        pinned = store.pinned(report.slug, name, runs)
        date = _date_for(report, values, shown_run(runs, pinned), run_date)
        front = [(_dated(report, meta.params, date), False), (_dated(report, values, date), False)]
        base = _resolved(report, declared, front)
        params = _resolved(report, declared, [*front, *(overrides or [])]) if overrides else base
        key, declared_key = plan.key_for(params, root), plan.key_for(base, root)
        variant = VariantPlan(name, params, key, runs, declared_key, tuple(overridden))
        variant.run_date, variant.pinned = date.isoformat() if date else "", pinned
        plan.variants.append(variant)
    return plan


def _date_for(
    report: Report, values: dict[str, Any], shown: Run | None, given: dt.date | None
) -> dt.date | None:
    """The date that date-templated parameters are evaluated for (None: there are none): the
    given one (a scheduled or explicit run); else the one the published run was for, so that a
    build never reruns a report because the month turned; else today."""
    if not any(is_template(v) for v in [*report.meta.params.values(), *values.values()]):
        return None
    if given is not None:
        return given
    if shown is not None and shown.origin.get("run_date"):
        return dt.date.fromisoformat(shown.origin["run_date"])
    return run_date(report.source, report.meta.schedule, clock.now())


def _dated(report: Report, values: dict[str, Any], date: dt.date | None) -> dict[str, Any]:

    return render_params(report.source, values, date, report.meta.private_params) if date else values


def _resolved(
    report: Report, declared: dict[str, Param], layers: list[tuple[dict[str, Any], bool]]
) -> dict[str, Any]:
    if not declared and not any(values for values, _text in layers):
        return {}
    return resolve(report.source, declared, *layers, private=report.meta.private_params)


def needs_run(variant: VariantPlan, mode: str) -> bool:
    """`always` runs everything; `never` nothing; `auto` runs a variant that has no run for
    what its author declared (code, kernel, front-matter parameters, inputs): a run made with
    -p overrides of the same declaration counts, so a build never undoes a deliberate rerun,
    and a failed run is not retried until the declaration changes."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    return not any(run.declared == variant.declared_key and not run.scratch for run in variant.runs)


def run_request(
    root: Path,
    config: Config,
    plan: ReportPlan,
    variant: VariantPlan,
    origin: dict[str, Any],
    timeout: int | None = None,
) -> RunRequest:
    meta = plan.report.meta
    if config.execute.executor == "local":  # (a Dask worker has kernels of its own)
        require_kernel(plan.report.source, plan.kernel)
    if variant.run_date:
        origin = {**origin, "run_date": variant.run_date}
    return RunRequest(
        root=str(root),
        slug=plan.report.slug,
        variant=variant.name,
        source=plan.report.source,
        params=variant.params,
        private=meta.private_params,
        kernel=plan.kernel,
        timeout=timeout or meta.timeout or config.execute.timeout,
        allow_errors=meta.allow_errors if meta.allow_errors is not None else config.execute.allow_errors,
        cache_key=variant.key,
        declared_key=variant.declared_key,
        inputs={rel: file_hash(root / rel) or "" for rel in plan.inputs},
        source_hash=plan.report.source_hash,
        origin=origin,
        secrets=tuple(report_secrets(meta)),  # (a default in the notebook's code is code, shown as such)
        period=run_period(plan.report, variant.params, origin),
    )


def run_period(report: Report, params: dict[str, Any], origin: dict[str, Any]) -> str:
    """The period a run covers: front matter `period` evaluated with the run's parameters
    (private values masked) and date; else a scheduled run's date; else "" (it says none)."""
    meta = report.meta
    date_text = str(origin.get("run_date") or "")
    if meta.period:
        date = (
            dt.date.fromisoformat(date_text)
            if date_text
            else run_date(report.source, meta.schedule, clock.now())
        )
        return render_period(report.source, meta.period, date, masked(params, meta.private_params))
    return date_text if origin.get("by") == "schedule" else ""


_installed_kernels: set[str] | None = None


def require_kernel(source: str, kernel: str) -> None:
    """A one-line error before any kernel starts if `kernel` is not installed here (a notebook
    written in R must not 'succeed' on python3)."""
    global _installed_kernels
    if _installed_kernels is None:
        from jupyter_client.kernelspec import KernelSpecManager  # only a build that executes pays

        _installed_kernels = set(KernelSpecManager().find_kernel_specs())
    if kernel not in _installed_kernels:
        installed = ", ".join(sorted(_installed_kernels)) or "none"
        raise KnowrepoError(
            source,
            f"its kernel '{kernel}' (from the notebook's kernelspec) is not installed here;"
            f" installed kernels: {installed}",
        )


def require_known(plan: ReportPlan, names: list[str]) -> list[VariantPlan]:
    """The variants named with --variant (all when none is named)."""
    if not names:
        return plan.variants
    known = {v.name: v for v in plan.variants}
    missing = [n for n in names if n not in known]
    if missing:
        hint = did_you_mean(missing[0], list(known))
        raise KnowrepoError(
            plan.report.source, f"no variant '{missing[0]}'{hint}; variants: {', '.join(known)}"
        )
    return [known[n] for n in names]


def staleness(root: Path, plan: ReportPlan, run: Run | None, now: dt.datetime) -> str:
    """Why the run a page shows is stale ("" if it is not): a declared input changed since it
    ran (until a rerun), or it is older than the report's max_age."""
    if run is None or run.folder is None:
        return ""
    if run.inputs:
        now_hash = {rel: file_hash(root / rel) or "" for rel in sorted({*plan.inputs, *run.inputs})}
        changed = [rel for rel, digest in now_hash.items() if digest != run.inputs.get(rel, "")]
        if changed:
            more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
            return f"inputs changed since this run ({changed[0]}{more})"
    limit = age_seconds(plan.report.meta.max_age) if plan.report.meta.max_age else None
    if limit and run.started:
        started = dt.datetime.fromisoformat(run.started.replace("Z", "+00:00"))
        age = (now - started).total_seconds()
        if age > limit:
            return f"this run is {int(age // 86400)} days old (max_age {plan.report.meta.max_age})"
    return ""
