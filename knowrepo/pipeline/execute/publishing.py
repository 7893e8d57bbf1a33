"""What `knowrepo publish` does: pin the run a variant shows, or release pins, in
runs/pins.yaml (see pins.py), under the repository's lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowrepo.config import load_config
from knowrepo.errors import KnowrepoError
from knowrepo.model import Run
from knowrepo.pipeline.discover import notebook_reports
from knowrepo.pipeline.execute.pins import pins_path, write_pins
from knowrepo.pipeline.execute.runstore import RUN_ID, RunStore
from knowrepo.plugins import LoadRegistry
from knowrepo.support.lock import repository_lock


@dataclass(frozen=True)
class Pin:
    slug: str
    variant: str
    run_id: str


def list_pins(root: Path) -> list[Pin]:
    """Every pin, in slug and variant order (a damaged pins file: its one-line error)."""
    return [
        Pin(s, v, r) for s, variants in sorted(RunStore(root).pins().items()) for v, r in variants.items()
    ]


def pin(root: Path, run_id: str, load_registry: LoadRegistry) -> tuple[Run, str]:
    """Pin run `run_id` as what its variant shows; (the run, the run id pinned before or "").
    A failed run is refused: a page never shows a failure someone chose. A scratch run may be
    pinned: that is how a scratch run is published."""
    store = RunStore(root)  # (a damaged pins file or run record: its one line, nothing written)
    run = store.find(run_id)
    if not run.ok:
        why = run.error.line() if run.error else "failed"
        raise KnowrepoError(
            None,
            f"run {run.id} of {run.slug} [{run.variant}] failed ({why}): a failed run is never published;"
            f" pin a successful one (`knowrepo runs {run.slug}` lists them)",
        )
    with repository_lock(load_config(root, load_registry).state_dir, "knowrepo publish", lambda _line: None):
        pins = RunStore(root).pins()
        before = pins.get(run.slug, {}).get(run.variant, "")
        pins.setdefault(run.slug, {})[run.variant] = run.id
        write_pins(pins_path(root), pins)
    return run, before


def unpin(root: Path, target: str, variants: tuple[str, ...], load_registry: LoadRegistry) -> list[Pin]:
    """Release pins: the one(s) naming run `target`, or those of report `target` (a slug or
    a path; only `variants` when given). Nothing pinned there is a one-line error."""
    path = pins_path(root)
    with repository_lock(load_config(root, load_registry).state_dir, "knowrepo publish", lambda _line: None):
        pins = RunStore(root).pins()
        released = _addressed(root, pins, target, variants)
        for one in released:
            del pins[one.slug][one.variant]
        write_pins(path, pins)
    return released


def _addressed(
    root: Path, pins: dict[str, dict[str, str]], target: str, variants: tuple[str, ...]
) -> list[Pin]:
    path = pins_path(root)
    if RUN_ID.fullmatch(target):
        if variants:
            raise KnowrepoError(None, "--variant goes with a REPORT; a run id names its variant itself")
        found = [Pin(s, v, r) for s, vs in pins.items() for v, r in vs.items() if r == target]
        if not found:
            raise KnowrepoError(path, f"run {target} is not pinned{_pinned_list(pins)}")
        return found
    slug = _slug(root, pins, target)
    have = pins.get(slug, {})
    missing = [name for name in variants if name not in have]
    if missing or not have:
        which = f" [{missing[0]}]" if missing else ""
        raise KnowrepoError(path, f"{slug}{which} is not pinned{_pinned_list(pins)}")
    return [Pin(slug, name, have[name]) for name in (variants or tuple(have))]


def _slug(root: Path, pins: dict[str, dict[str, str]], target: str) -> str:
    """The slug of report `target` (a slug or a path); a slug that is only in the pins (its
    report removed since) is taken as it is, so that its pin can be released."""
    if target.strip("/") in pins:
        return target.strip("/")
    return notebook_reports(root).find(root, target).slug


def _pinned_list(pins: dict[str, dict[str, str]]) -> str:
    names = [f"{slug} [{variant}]" for slug, vs in sorted(pins.items()) for variant in vs]
    return f"; pinned: {', '.join(names)}" if names else "; nothing is pinned"
