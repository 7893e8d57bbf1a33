"""The run store: runs/<slug>/<variant>/<run id>/ with run.json and the executed notebook.

A run is immutable once written. It is executed into a hidden temp folder beside its final
place and renamed into place only when complete, so a killed run never looks like a run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from knowrepo.errors import KnowrepoError
from knowrepo.model import RUN_STATUSES, Run, shown_run
from knowrepo.support.yamltext import plain_problem, repair_text

RUN_FILE = "run.json"


def new_run_id(now: dt.datetime | None = None) -> str:
    """UTC time with milliseconds plus a random suffix: sorts by time, never collides."""
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


RUN_ID = re.compile(r"\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}")


def record_problem(record: Any, folder_name: str) -> str | None:
    """What makes a parsed run.json not a run record this folder can hold (None: nothing)."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("id") != folder_name:
        return f"its id {str(record.get('id'))[:40]!r} is not its folder's name"
    if record.get("status") not in RUN_STATUSES:
        return f"status must be ok or failed, not {str(record.get('status'))[:20]!r}"
    for key, kind in (("params", dict), ("metrics", dict), ("started", str), ("variant", str)):
        if key in record and not isinstance(record[key], kind):
            return f"'{key}' must be {'an object' if kind is dict else 'text'}"
    if not isinstance(record.get("error") or {}, dict):
        return "'error' must be an object"
    if not isinstance(record.get("duration", 0), int | float):
        return "'duration' must be a number"
    return _date_problem(record) or plain_problem(record.get("params", {}), "'params'")


# The record's dates, each parsed by what reads it: when it started, and the schedule's (origin).
_DATES = (("started", False), ("run_date", True), ("due", False))


def _date_problem(record: dict[str, Any]) -> str | None:
    """Which of the record's dates is no date (schedules and staleness compute with them)."""
    import datetime as dt

    origin = record.get("origin") if isinstance(record.get("origin"), dict) else {}
    for key, day in _DATES:
        value = record.get(key) if key == "started" else origin.get(key)
        if value in (None, ""):
            continue
        try:
            (dt.date if day else dt.datetime).fromisoformat(str(value).replace("Z", "+00:00"))
            if not isinstance(value, str):
                raise ValueError(value)
        except ValueError:
            name = key if key == "started" else f"origin.{key}"
            return f"'{name}' must be an ISO date{'' if day else '-time'}, not {str(value)[:40]!r}"
    return None


def _plain_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics as stored for the site: a value that is not plain data (a huge integer, NaN)
    is kept as its text."""
    return {
        repair_text(str(name)): value if plain_problem(value, "") is None else repair_text(str(value))[:200]
        for name, value in metrics.items()
    }


def read_run(folder: Path) -> Run:
    """The run in `folder`, checked; a one-line error naming its run.json otherwise."""
    path = folder / RUN_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not JSON"
        raise KnowrepoError(path, f"invalid run record ({reason}); move this run's folder away") from None
    if problem := record_problem(record, folder.name):
        raise KnowrepoError(path, f"invalid run record: {problem}; move this run's folder away")
    record["metrics"] = _plain_metrics(record.get("metrics") or {})
    return Run.from_json(folder, record)


class RunStore:
    def __init__(self, root: Path) -> None:
        self.root = root / "runs"

    def variant_dir(self, slug: str, variant: str) -> Path:
        return self.root / slug / variant

    def staging(self, slug: str, variant: str, run_id: str) -> Path:
        """A hidden folder to execute into; its name records the pid that owns it."""
        folder = self.variant_dir(slug, variant) / f".tmp-{run_id}-{os.getpid()}"
        folder.mkdir(parents=True)
        return folder

    def commit(self, staging: Path, run: Run) -> Run:
        """Write run.json and rename the folder into place: the run now exists, complete."""
        (staging / RUN_FILE).write_text(json.dumps(run.to_json(), indent=1, default=str) + "\n")
        final = staging.parent / run.id
        os.rename(staging, final)
        return replace(run, folder=final)

    def runs(self, slug: str, variant: str) -> list[Run]:
        """Every complete run of a variant, oldest first (run ids sort by time)."""
        folder = self.variant_dir(slug, variant)
        if not folder.is_dir():
            return []
        between = [p for p in folder.parents if p.is_relative_to(self.root) and p != self.root]
        for child in [*between, folder, *folder.iterdir()]:
            if child.is_symlink():  # (runs/ itself may be a link to a shared folder)
                raise KnowrepoError(child, "is a symlink: the folders in runs/ must be real folders")
        return [
            read_run(child)
            for child in sorted(folder.iterdir())
            if not child.name.startswith(".") and (child / RUN_FILE).is_file()
        ]

    def variants(self, slug: str) -> list[str]:
        folder = self.root / slug
        if not folder.is_dir():
            return []
        return sorted(c.name for c in folder.iterdir() if c.is_dir() and not c.name.startswith("."))

    def find(self, run_id: str) -> Run:
        """A run by its id, anywhere in the store."""
        if not RUN_ID.fullmatch(run_id):
            raise KnowrepoError(None, f"{run_id!r} is not a run id (see `knowrepo runs`)")
        for path in self.root.glob(f"**/{run_id}/{RUN_FILE}"):
            return read_run(path.parent)
        raise KnowrepoError(self.root, f"no run with id {run_id}")

    def clean_abandoned(self, slug: str, variant: str) -> None:
        """Remove temp folders of runs whose process is gone (killed mid-run)."""
        folder = self.variant_dir(slug, variant)
        if not folder.is_dir():
            return
        for child in folder.glob(".tmp-*"):
            pid = child.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or not _alive(int(pid)):
                shutil.rmtree(child, ignore_errors=True)

    def prune(self, slug: str, variant: str, keep: int) -> list[Run]:
        """Delete all but the newest `keep` runs; the latest successful run is always kept."""
        runs = self.runs(slug, variant)
        keepers = set(r.id for r in runs[-keep:]) if keep > 0 else set()
        if (shown := shown_run(runs)) is not None and shown.ok:
            keepers.add(shown.id)
        removed = [r for r in runs if r.id not in keepers]
        for run in removed:
            shutil.rmtree(run.folder)  # type: ignore[arg-type]
        return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
