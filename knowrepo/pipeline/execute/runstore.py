"""The run store: runs/<slug>/<variant>/<run id>/ with run.json and the executed notebook.

A run is immutable once written. It is executed into a hidden temp folder beside its final
place and renamed into place only when complete, so a killed run never looks like a run.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.errors import KnowrepoError
from knowrepo.model import RUN_STATUSES, VARIANT_NAME, Run, shown_run
from knowrepo.pipeline.execute.pins import Pins, pin_problem, pins_path, read_pins
from knowrepo.support.claims import HOST as _HOST
from knowrepo.support.claims import alive as _alive
from knowrepo.support.yamltext import plain_problem, repair_text, repair_tree

if TYPE_CHECKING:
    from knowrepo.support.progress import Reporter

RUN_FILE = "run.json"


def new_run_id(now: dt.datetime | None = None) -> str:
    """UTC time with milliseconds plus a random suffix: sorts by time, never collides."""
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


RUN_ID = re.compile(r"\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}")
# A folder name a slug's part can have (slugify_path makes lowercase letters of any script,
# digits, '-' and '_'): never a '.', a space or a shell character.
SLUG_PART = re.compile(r"[\w-]+")
_UTC_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")  # as execute_run writes `started`


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(_number(v) for v in value)


def _text_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _styles(value: Any) -> bool:
    """Figures' styles: name -> {"unit": text, "format": text} (whether they fit is the page's
    to see: support/figures.py shows a figure whose style does not fit plainly)."""
    return isinstance(value, dict) and all(
        isinstance(v, dict) and set(v) <= {"unit", "format"} and _text_map(v) for v in value.values()
    )


def _utc(value: Any) -> bool:
    if value == "":
        return True
    return isinstance(value, str) and bool(_UTC_SECOND.fullmatch(value)) and _parses(value[:-1])


def _iso_time(value: Any) -> bool:
    return isinstance(value, str) and _parses(value.replace("Z", "+00:00"))


def _date(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 10 and _parses(value)


def _parses(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _run_id(value: Any) -> bool:
    return isinstance(value, str) and bool(RUN_ID.fullmatch(value))


def _slug(value: Any) -> bool:
    return isinstance(value, str) and all(SLUG_PART.fullmatch(part) for part in value.split("/"))


def _variant(value: Any) -> bool:
    return isinstance(value, str) and bool(VARIANT_NAME.fullmatch(value))


def _inputs(value: Any) -> bool:
    """Declared input files (relative to the repository) -> hash: the staleness check hashes
    these paths, so none may be absolute or lead up and out."""
    return _text_map(value) and all(
        name and not name.startswith("/") and "\0" not in name and ".." not in name.split("/")
        for name in value
    )


def _git(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    return _text(value.get("commit", "")) and isinstance(value.get("dirty", False), bool)


RUN_ERROR_TEXTS = ("ename", "evalue", "traceback")


def _error(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, dict) or not all(_text(value.get(k, "")) for k in RUN_ERROR_TEXTS):
        return False
    cell = value.get("cell")
    return cell is None or isinstance(cell, int) and not isinstance(cell, bool)


Check = tuple[Callable[[Any], bool], str]
_TEXT: Check = (_text, "text")
# Every field a Run reads, and what it must be: a record that breaks one is named and left
# out, never a crash in a page, a listing or a PDF. Hand-written (a table, not jsonschema):
# importing jsonschema would cost a one-report rebuild more than reading its runs.
RUN_FIELDS: dict[str, Check] = {
    "slug": (_slug, "a report's slug"),
    "variant": (_variant, "a variant name (letters, digits, - or _)"),
    "source": _TEXT,
    "params": (lambda v: isinstance(v, dict), "an object"),
    "private_params": (_texts, "a list of text"),
    "started": (_utc, "a UTC time like 2026-11-26T08:28:31Z"),
    "duration": (_number, "a number"),
    "cells": (_numbers, "a list of numbers"),
    "kernel": _TEXT,
    "versions": (_text_map, "an object of text"),
    "source_hash": _TEXT,
    "cache_key": _TEXT,
    "declared_key": _TEXT,
    "git": (_git, "an object with a text 'commit' and a true/false 'dirty'"),
    "error": (_error, "an object of text 'ename', 'evalue', 'traceback' and a whole-number 'cell'"),
    "metrics": (lambda v: isinstance(v, dict), "an object"),
    "origin": (lambda v: isinstance(v, dict), "an object"),
    "inputs": (_inputs, "an object of relative file paths to their hashes"),
    "period": (lambda v: isinstance(v, str) and len(v) <= 40, "text of at most 40 characters"),
    "packages": (_text_map, "an object of text"),
    "metric_styles": (_styles, "an object of figure names to their text 'unit' and 'format'"),
}
ORIGIN_FIELDS: dict[str, Check] = {  # what reading a run's origin relies on
    "by": _TEXT,
    "from": (_run_id, "a run id"),
    "kept_from": (_run_id, "a run id"),
    "overrides": (_texts, "a list of text"),
    "run_date": (_date, "a date like 2026-11-02"),
    "due": (_iso_time, "a date-time like 2026-11-02T06:00:00+00:00"),
    "failed_attempts": (_texts, "a list of text"),
    "scratch": (lambda v: isinstance(v, bool), "true or false"),
    "command": _TEXT,
}


def record_problem(record: Any, folder_name: str) -> str | None:
    """What makes a parsed run.json not a run record this folder can hold (None: nothing)."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("id") != folder_name:
        return f"its id {str(record.get('id'))[:40]!r} is not its folder's name"
    if record.get("status") not in RUN_STATUSES:
        return f"status must be ok or failed, not {str(record.get('status'))[:20]!r}"
    return (
        _fields_problem(record, RUN_FIELDS, "")
        or _fields_problem(record.get("origin", {}), ORIGIN_FIELDS, "origin.")
        or plain_problem(record.get("params", {}), "'params'")
    )


def _fields_problem(record: dict[str, Any], fields: dict[str, Check], prefix: str) -> str | None:
    for key, (check, must_be) in fields.items():
        if key in record and not check(record[key]):
            return f"'{prefix}{key}' must be {must_be}"
    return None


def _plain_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics as stored for the site: a value that is not plain data (a huge integer, NaN)
    is kept as its text."""
    return {
        repair_text(str(name)): value if plain_problem(value, "") is None else repair_text(str(value))[:200]
        for name, value in metrics.items()
    }


def read_run(folder: Path, slug: str | None = None, variant: str | None = None) -> Run:
    """The run in `folder`, checked (a run of report `slug`, variant `variant` when given: the
    folder it sits in); a one-line error naming its run.json otherwise."""
    path = folder / RUN_FILE
    try:
        text = path.read_text(encoding="utf-8")
        record = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not JSON"
        raise KnowrepoError(path, f"invalid run record ({reason}); move this run's folder away") from None
    if "\\ud" in text.lower():  # a lone surrogate (an error message can hold one): no page holds it
        record = repair_tree(record)
    if problem := record_problem(record, folder.name) or _place_problem(record, slug, variant):
        raise KnowrepoError(path, f"invalid run record: {problem}; move this run's folder away")
    record["metrics"] = _plain_metrics(record.get("metrics") or {})
    return Run.from_json(folder, record)


def _place_problem(record: dict[str, Any], slug: str | None, variant: str | None) -> str | None:
    """A run copied into another report's or variant's folder would be shown as one of its runs."""
    if slug is None or (record.get("slug"), record.get("variant")) == (slug, variant):
        return None
    theirs = f"{str(record.get('slug'))[:80]!r} [{str(record.get('variant'))[:40]}]"
    return f"it is a run of {theirs}, not of its folder's {slug!r} [{variant}]"


def near_run_id(given: str, ids: Iterable[str]) -> str:
    """' (did you mean ID?)' for the one run id of `ids` that starts with `given` (as git takes
    a commit's start), else for a near miss of a whole id (a typo), else ''."""
    ids = sorted({i for i in ids if RUN_ID.fullmatch(i)})
    starting = [i for i in ids if given and i.startswith(given)]
    if len(starting) == 1:
        return f" (did you mean '{starting[0]}'?)"
    close = difflib.get_close_matches(given, ids, n=1, cutoff=0.9)  # (ids share their start: 0.9)
    return f" (did you mean '{close[0]}'?)" if close else ""


class RunStore:
    """runs/ of a repository. What is in it that knowrepo did not make (a folder named
    `$(touch x)`, a notes file) is named once to `warn` and skipped; a damaged run record is
    named once to `error` and left out, and the other runs go on (without `error`, the first
    one raises)."""

    def __init__(
        self,
        root: Path,
        warn: Callable[[KnowrepoError], None] | None = None,
        error: Callable[[KnowrepoError], None] | None = None,
    ) -> None:
        self.root = root / "runs"
        self._warn, self._error = warn, error
        self._said: set[str] = set()
        self.damaged: list[KnowrepoError] = []  # the run records left out, each once
        self._pins: Pins | None = None

    @classmethod
    def telling(cls, root: Path, reporter: Reporter, damaged_is_error: bool = False) -> RunStore:
        """A store that tells `reporter` what it skips: a damaged run record as a warning, or
        as an error where the command is about the runs themselves."""

        def warn(exc: KnowrepoError) -> None:
            reporter.warn(str(exc))

        def error(exc: KnowrepoError) -> None:
            reporter.error(str(exc))

        return cls(root, warn=warn, error=error if damaged_is_error else warn)

    def variant_dir(self, slug: str, variant: str) -> Path:
        return self.root / slug / variant

    def staging(self, slug: str, variant: str, run_id: str) -> Path:
        """A hidden folder to execute into; its name records the machine and pid that own it
        (runs/ may be a folder that several machines share)."""
        folder = self.variant_dir(slug, variant) / f".tmp-{run_id}-{_HOST}-{os.getpid()}"
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
        for link in (p for p in [*between, folder] if p.is_symlink()):  # (runs/ itself may be a link)
            raise KnowrepoError(link, "is a symlink: the folders in runs/ must be real folders")
        found = []
        for child in sorted(folder.iterdir()):
            if child.name.startswith("."):  # a run being written (.tmp-*), or hidden
                continue
            if not RUN_ID.fullmatch(child.name):
                self._stray(child, "is not a run knowrepo made (its name is not a run id); skipped")
            elif child.is_symlink():
                self._damaged(KnowrepoError(child, "is a symlink: the folders in runs/ must be real folders"))
            else:
                try:
                    found.append(read_run(child, slug, variant))
                except KnowrepoError as exc:
                    self._damaged(exc)
        return found

    def variants(self, slug: str) -> list[str]:
        folder = self.root / slug
        if not folder.is_dir():
            return []
        names = []
        for child in sorted(folder.iterdir()):
            if child.name.startswith(".") or not child.is_dir():
                continue
            if VARIANT_NAME.fullmatch(child.name):
                names.append(child.name)
            elif not SLUG_PART.fullmatch(child.name):  # (a word may be the folder of a nested report)
                self._stray(child, "is not a variant knowrepo made (its name is not a variant name); skipped")
        return names

    def find(self, run_id: str) -> Run:
        """A run by its id, anywhere in the store (in a folder knowrepo could have made)."""
        if not RUN_ID.fullmatch(run_id):
            hint = self.near_id(run_id)
            raise KnowrepoError(None, f"{run_id!r} is not a run id{hint} (see `knowrepo runs`)")
        for path in self.root.glob(f"**/{run_id}/{RUN_FILE}"):
            *slug, variant, _id, _file = path.relative_to(self.root).parts
            if slug and all(SLUG_PART.fullmatch(p) for p in slug) and VARIANT_NAME.fullmatch(variant):
                return read_run(path.parent, "/".join(slug), variant)
        raise KnowrepoError(self.root, f"no run with id {run_id}{self.near_id(run_id)}")

    def near_id(self, given: str) -> str:
        """near_run_id() among the ids of every run recorded."""
        return near_run_id(given, [p.parent.name for p in self.root.glob(f"**/{RUN_FILE}")])

    def pins(self) -> Pins:
        """runs/pins.yaml, read once; each damaged part of it is named once (as a damaged run
        record is) and left out."""
        if self._pins is None:
            self._pins, problems = read_pins(pins_path(self.root.parent), RUN_ID)
            for problem in problems:
                self._damaged(problem)
        return self._pins

    def pinned(self, slug: str, variant: str, runs: list[Run]) -> str:
        """The id of the run pinned for the variant ("" for none), when it is one of its `runs`
        that succeeded; a pin that names no such run is named once and ignored."""
        pinned = self.pins().get(slug, {}).get(variant, "")
        if pinned and (problem := pin_problem(pins_path(self.root.parent), slug, variant, pinned, runs)):
            self._damaged(problem)
            return ""
        return pinned

    def _stray(self, path: Path, why: str) -> None:
        if str(path) not in self._said:
            self._said.add(str(path))
            if self._warn is not None:
                self._warn(KnowrepoError(path, why))

    def _damaged(self, error: KnowrepoError) -> None:
        if self._error is None:
            raise error
        if str(error) not in self._said:
            self._said.add(str(error))
            self.damaged.append(error)
            self._error(error)

    def clean_abandoned(self, slug: str, variant: str) -> None:
        """Remove temp folders of the variant's runs whose process is gone (killed mid-run)."""
        folder = self.variant_dir(slug, variant)
        for child in folder.iterdir() if folder.is_dir() else []:
            if _abandoned(child):
                shutil.rmtree(child, ignore_errors=True)

    def clean_all_abandoned(self) -> None:
        """Remove the temp folders of every killed run, of any report. For a process that holds
        the repository's lock (no other run is being written): a glob that never enters a run."""
        for folder, names, _files in os.walk(self.root):
            for name in names:
                if _abandoned(path := Path(folder, name)):
                    shutil.rmtree(path, ignore_errors=True)
            names[:] = [n for n in names if not n.startswith(".") and not RUN_ID.fullmatch(n)]

    def prune(self, slug: str, variant: str, keep: int) -> list[Run]:
        """Delete all but the newest `keep` runs; the run the variant shows is always kept (and,
        with a pin, the one it would show unpinned)."""
        runs = self.runs(slug, variant)
        keepers = set(r.id for r in runs[-keep:]) if keep > 0 else set()
        for pinned in {self.pinned(slug, variant, runs), ""}:  # (the published one, were it unpinned)
            if (shown := shown_run(runs, pinned)) is not None and shown.ok:
                keepers.add(shown.id)
        removed = [r for r in runs if r.id not in keepers]
        for run in removed:
            assert run.folder is not None  # (a run read from the store has its folder)
            shutil.rmtree(run.folder)
        return removed


# RunStore.staging's folders: .tmp-<run id>-<machine>-<pid> (before: no machine)
_STAGING = re.compile(r"\.tmp-" + RUN_ID.pattern + r"(?:-([0-9a-f]{8}))?-(\d+)")
# Another machine's temp folder is taken for abandoned only when older than this: its pid
# cannot be asked after from here, and no run lasts two days.
FOREIGN_STAGING_AGE = 2 * 24 * 3600


def _abandoned(folder: Path) -> bool:
    """A run's temp folder whose process is gone (never a folder knowrepo did not make): on
    this machine, its pid is not alive; made on another machine, it is two days old."""
    made = _STAGING.fullmatch(folder.name)
    if made is None or folder.is_symlink() or not folder.is_dir():
        return False
    host, pid = made.group(1), int(made.group(2))
    if host in (None, _HOST):
        return not _alive(pid)
    try:
        return time.time() - folder.stat().st_mtime > FOREIGN_STAGING_AGE
    except OSError:
        return False
