"""Pins: the run a person chose for a variant to show (`knowrepo publish RUN_ID`).

They live in the repository, in one small file beside the runs, `runs/pins.yaml` (report
slug -> variant -> run id), written whole or not at all, so that review and git history see
who published what. A damaged file, or a pin that names no run the variant can show, is one
line naming the file and the key; the variant then shows what the unpinned rule picks
(model.shown_run).
"""

from __future__ import annotations

import re
from pathlib import Path

from knowrepo.errors import KnowrepoError
from knowrepo.model import VARIANT_NAME, Run
from knowrepo.support.atomic import write_atomic
from knowrepo.support.yamltext import YamlProblem, load_yaml

PINS_FILE = "pins.yaml"
Pins = dict[str, dict[str, str]]  # slug -> variant -> run id

_HEADER = (
    "# The run each variant shows, chosen with `knowrepo publish RUN_ID`\n"
    "# (`knowrepo publish --unpin ...` releases one). Report slug -> variant -> run id.\n"
)


def pins_path(root: Path) -> Path:
    return root / "runs" / PINS_FILE


def read_pins(path: Path, run_id: re.Pattern[str]) -> tuple[Pins, list[KnowrepoError]]:
    """The pins of the file at `path` (none when it does not exist), and one error for each
    part that is not `slug: {variant: run id}` (that part left out; a file that is not YAML:
    no pins). `run_id`: the compiled pattern of a run id."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        return {}, [KnowrepoError(path, f"cannot read the pins ({why}); no run is pinned until it is fixed")]
    try:
        data = load_yaml(text) or {}
    except YamlProblem as exc:
        where = f" at line {exc.line}" if exc.line else ""
        message = f"invalid YAML{where}: {exc.problem}; no run is pinned until it is fixed"
        return {}, [KnowrepoError(path, message)]
    if not isinstance(data, dict):
        return {}, [KnowrepoError(path, "must map report slugs to {variant: run id}; no run is pinned")]
    pins: Pins = {}
    problems = []
    for slug, variants in data.items():
        if not isinstance(slug, str) or not isinstance(variants, dict):
            problems.append(_bad(path, str(slug), "must map variant names to run ids"))
            continue
        for variant, pinned in variants.items():
            key = f"{slug}.{variant}"
            if not isinstance(variant, str) or not VARIANT_NAME.fullmatch(variant):
                problems.append(_bad(path, key, "is not a variant name (letters, digits, - or _)"))
            elif not isinstance(pinned, str) or not run_id.fullmatch(pinned):
                problems.append(_bad(path, key, f"{str(pinned)[:40]!r} is not a run id"))
            else:
                pins.setdefault(slug, {})[variant] = pinned
    return pins, problems


def _bad(path: Path, key: str, what: str) -> KnowrepoError:
    return KnowrepoError(path, f"'{key[:120]}' {what}; that pin is ignored")


def pin_problem(path: Path, slug: str, variant: str, pinned: str, runs: list[Run]) -> KnowrepoError | None:
    """Why the pin of a variant cannot be what it shows (None: it can)."""
    run = next((r for r in runs if r.id == pinned), None)
    if run is None:
        why = f"names run {pinned}, which is not a run of {slug} [{variant}] (moved or pruned?)"
    elif not run.ok:
        why = f"names run {pinned}, which failed: a failed run is never published"
    else:
        return None
    return KnowrepoError(path, f"'{slug}.{variant}' {why}; the variant shows its newest run instead")


def write_pins(path: Path, pins: Pins) -> None:
    """The pins, sorted, as YAML under a comment saying what the file is (whole or not at all;
    no pin left: the file is removed)."""
    import yaml  # (PyYAML: only when a pin changes)

    kept = {slug: dict(sorted(v.items())) for slug, v in sorted(pins.items()) if v}
    if not kept:
        path.unlink(missing_ok=True)
        return
    body = yaml.safe_dump(kept, sort_keys=False, allow_unicode=True, default_flow_style=False)
    write_atomic(path, (_HEADER + body).encode())
