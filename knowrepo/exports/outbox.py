"""The emails that runs owe their readers, each sent once whatever kills the process.

`knowrepo run --email` marks each run it makes as owed in the run's own record (`origin.email`
in run.json), which lands with the run in one rename: a run that exists and the email it owes
are one fact, so no crash can keep the run and lose the email. What became of the delivery is
recorded beside the run, in `runs/<slug>/<variant>/.outbox/<run id>.json`: "sending" (with the
message's recipients, Date and Message-ID) before the connection opens, "sent" once the server
took it. Both live in runs/, not in .knowrepo/: that folder is a cache of one checkout, which
may be deleted, and an email owed (or sent) is part of the history the team shares; a second
machine with the same runs/ neither loses nor repeats it.

The one window no SMTP client can close: the server has taken the message and the process
dies before it records "sent". The next attempt sends it again, the same bytes with the same
Message-ID (which many mail programs show once): at most one copy more, never a loss.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

from knowrepo.errors import KnowrepoError
from knowrepo.model import Run
from knowrepo.pipeline.execute.runstore import RUN_FILE, RUN_ID, read_run
from knowrepo.support.atomic import write_atomic
from knowrepo.support.faults import pause_point

OUTBOX = ".outbox"
SENDING, SENT, DROPPED = "sending", "sent", "dropped"
FINAL = (SENT, DROPPED)


class Unaddressed(KnowrepoError):
    """The report names no readers for the run's variant: its author's choice, not a fault
    to retry, so the email is given up (once, with this line)."""


@dataclass
class Delivery:
    """What `deliver_pending` did: the lines to show, and how many stay owed."""

    sent: list[str] = field(default_factory=list)
    owed: int = 0  # deliveries found owed
    failed: int = 0  # of which not sent (each already reported)


def record_path(run: Run) -> Path:
    assert run.folder is not None
    return run.folder.parent / OUTBOX / f"{run.id}.json"


def read_record(run: Run) -> dict[str, Any]:
    """The run's delivery record ({} when none; one damaged by hand counts as none)."""
    try:
        record = json.loads(record_path(run).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return record if isinstance(record, dict) and record.get("run") == run.id else {}


def write_record(run: Run, record: dict[str, Any]) -> None:
    """Whole or not at all (a rename), and on disk before the next step (fsync)."""
    path = record_path(run)
    data = (json.dumps({"run": run.id, **record}, indent=1) + "\n").encode()
    try:
        write_atomic(path, data)
        for target in (path, path.parent):
            fd = os.open(target, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError as exc:
        raise KnowrepoError(path, f"cannot write the delivery record: {exc.strerror or exc}") from None


def _run_folders(runs: Path) -> Iterator[Path]:
    """Every run folder in the store (not the hidden temp folders, not through a link)."""
    for folder, subfolders, files in os.walk(runs):
        if RUN_ID.fullmatch(os.path.basename(folder)) and RUN_FILE in files:
            subfolders.clear()
            yield Path(folder)
        else:
            subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))


def _marked(folder: Path) -> bool:
    """Cheaply, before the run is read whole: a successful run made to be emailed."""
    try:
        record = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(record, dict) and record.get("status") == "ok" and _owes(record.get("origin"))


def _owes(origin: Any) -> bool:
    return isinstance(origin, dict) and origin.get("email") is True


def owed_runs(root: Path) -> list[Run]:
    """The runs whose email is neither sent nor dropped, oldest first."""
    owed = []
    for folder in _run_folders(root / "runs"):
        if not _marked(folder):
            continue
        try:
            run = read_run(folder)
        except KnowrepoError:
            continue  # (a damaged run record is named by the build and `knowrepo runs`)
        if read_record(run).get("state") not in FINAL:
            owed.append(run)
    return sorted(owed, key=lambda r: r.id)


def message_id(run: Run, to: list[str], cc: list[str]) -> str:
    """The same for the same run to the same readers: a copy sent again is the same message."""
    readers = hashlib.sha256(json.dumps([to, cc]).encode()).hexdigest()[:12]
    return f"<{run.id}.{readers}@knowrepo>"


def deliver_pending(root: Path, reporter: Any) -> Delivery:
    """Send every owed email once, oldest first, under the repository's lock (two crons at
    once never send one twice). A delivery that fails stays owed: one line, and the others go."""
    from knowrepo.config import load_config
    from knowrepo.support.lock import repository_lock

    done = Delivery()
    with repository_lock(load_config(root).state_dir, "knowrepo email", reporter.info):
        owed = owed_runs(root)
        done.owed = len(owed)
        for run in owed:
            try:
                done.sent.append(_deliver(root, run, reporter))
            except Unaddressed as exc:
                done.failed += 1
                reporter.error(f"{exc}; the email of run {run.id} is not sent")
            except KnowrepoError as exc:
                done.failed += 1
                reporter.error(
                    f"{exc} (the email of run {run.id} stays owed: `knowrepo email --pending` sends it,"
                    f" `--pending --drop {run.id}` gives it up)"
                )
            pause_point("email-sent", root / ".knowrepo")
    return done


def _deliver(root: Path, run: Run, reporter: Any) -> str:
    """Make the run's message, record it as being sent, send it, record it as sent."""
    from knowrepo.exports.bodies import exports_for
    from knowrepo.exports.email import message_of, sender_of
    from knowrepo.exports.smtp import send

    state = root / ".knowrepo"
    config, (item,) = exports_for(root, run.slug, run.id, (), reporter)
    made = _made_before(read_record(run))
    if made is None:
        to, cc, subject = _readers(run, item)
        made = {"to": to, "cc": cc, "subject": subject, "date": formatdate(localtime=False),
                "message_id": message_id(run, to, cc)}  # fmt: skip
    message = message_of(root, config, item, sender_of(config), **made)
    pause_point("email-made", state)
    write_record(run, {"state": SENDING, **made})
    pause_point("email-sending", state)
    send(message, config.email, reporter.warn, lambda: pause_point("email-data", state))
    pause_point("email-accepted", state)
    write_record(run, {"state": SENT, **made, "sent": _now()})
    copy = f", cc {message['Cc']}" if message["Cc"] else ""
    return f"sent {item.file_name} to {message['To']}{copy} (run {run.id})"


def _made_before(record: dict[str, Any]) -> dict[str, Any] | None:
    """What a message recorded as being sent was made of: it may have gone, so it goes
    again as the same message (None: no such record, or one damaged by hand)."""
    made = {key: record.get(key) for key in ("to", "cc", "subject", "date", "message_id")}
    lists = all(isinstance(v, list) and all(isinstance(a, str) for a in v) for v in (made["to"], made["cc"]))
    texts = all(isinstance(made[key], str) for key in ("subject", "date", "message_id"))
    return made if record.get("state") == SENDING and lists and texts else None


def _readers(run: Run, item: Any) -> tuple[list[str], list[str], str]:
    """(to, cc, subject template) from the front matter; none: the email is given up."""
    from knowrepo.exports.email import addressed

    try:
        return addressed(item, (), ())
    except KnowrepoError as exc:  # (its one error: no recipients)
        write_record(run, {"state": DROPPED, "why": exc.message, "dropped": _now()})
        raise Unaddressed(exc.path, exc.message) from None


def drop_owed(root: Path, run_ids: tuple[str, ...]) -> list[str]:
    """Give up the owed emails of these runs (recorded: no later command sends them)."""
    owed = {run.id: run for run in owed_runs(root)}
    for run_id in run_ids:
        if run_id not in owed:
            raise KnowrepoError(None, f"run {run_id} owes no email (sent, dropped, or not a run of --email)")
    for run_id in run_ids:
        write_record(owed[run_id], {**read_record(owed[run_id]), "state": DROPPED, "dropped": _now()})
    return [f"dropped the email of run {run_id}" for run_id in run_ids]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
