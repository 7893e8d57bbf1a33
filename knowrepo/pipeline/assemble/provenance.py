"""Where a run came from, as its pages show it: how it was started (a schedule and its due time,
by hand and the command typed, a build, a rerun of which run), the git commit, the kernel and
the packages its notebook imported. A run recorded before a field existed shows without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from knowrepo.model import Run
from knowrepo.pipeline.assemble.links import rel

# Each way a run is started, by what its record's origin says, and the words a page uses for it.
ORIGIN_LABELS = {"schedule": "schedule", "hand": "by hand", "build": "build", "rerun": "rerun"}
SHORT_COMMIT = 7  # characters of a commit shown (git's own short form)


def origin_kind(origin: dict[str, Any]) -> str:
    """`schedule`, `hand`, `build`, `rerun` ("" when the record does not say). A value another
    version or part records (`scratch`) is its own kind."""
    by = str(origin.get("by") or "")
    if by == "run":
        return "rerun" if origin.get("from") else "hand"
    return by[:40]


def origin_label(kind: str) -> str:
    return ORIGIN_LABELS.get(kind, kind)


def due_text(origin: dict[str, Any]) -> str:
    """A scheduled run's due time in UTC (`2026-11-02 06:00 UTC`), "" when it has none."""
    try:
        due = dt.datetime.fromisoformat(str(origin.get("due") or ""))
    except ValueError:
        return ""
    if due.tzinfo is not None:
        due = due.astimezone(dt.UTC)
    return due.strftime("%Y-%m-%d %H:%M UTC")


def provenance(run: Run, href_of: Callable[[str], str]) -> dict[str, Any]:
    """What a page says of where `run` came from. `href_of`: the link to a run's page by its id
    ("" for a run the site does not have: pruned, it shows as its id alone)."""
    origin, kind = run.origin, origin_kind(run.origin)
    commit = str(run.git.get("commit") or "")
    return {
        "kind": kind,
        "label": origin_label(kind),
        "due": due_text(origin) if kind == "schedule" else "",
        "command": str(origin.get("command") or ""),
        "scratch": origin.get("scratch") is True,  # (knowrepo run --scratch: never published unless pinned)
        "from": _run_link(origin.get("from"), href_of),
        "kept_from": _run_link(origin.get("kept_from"), href_of),
        "commit": commit[:SHORT_COMMIT],
        "dirty": bool(run.git.get("dirty")) if commit else False,
        "kernel": " · ".join(p for p in (run.kernel, run.versions.get("kernel", "")) if p),
        "packages": sorted(run.packages.items(), key=lambda item: item[0].lower()),
    }


def _run_link(run_id: Any, href_of: Callable[[str], str]) -> dict[str, str] | None:
    if not isinstance(run_id, str) or not run_id:
        return None
    return {"id": run_id, "href": href_of(run_id)}


def origin_choices(runs: list[Run]) -> list[dict[str, str]]:
    """The history's filter by origin: the kinds its runs have, in the order of ORIGIN_LABELS."""
    kinds = {origin_kind(run.origin) for run in runs} - {""}
    ordered = [k for k in ORIGIN_LABELS if k in kinds] + sorted(kinds - set(ORIGIN_LABELS))
    return [{"value": kind, "label": origin_label(kind)} for kind in ordered]


def run_linker(path: str, slug: str, ids: frozenset[str]) -> Callable[[str], str]:
    """href_of for the pages of report `slug` at `path`: the link to each of `ids`' run pages."""
    return lambda run_id: rel(path, f"{slug}/runs/{run_id}/") if run_id in ids else ""
