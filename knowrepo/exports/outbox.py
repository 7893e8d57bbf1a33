"""The emails that runs owe their readers, each sent once whatever kills the process.

`knowrepo run --email` marks each run it makes as owed in the run's own record (`origin.email`
in run.json), which lands with the run in one rename: a run that exists and the email it owes
are one fact, so no crash can keep the run and lose the email. What became of the delivery is
recorded beside the run, in `runs/<slug>/<variant>/.outbox/<run id>.json`: "sending" (with the
message's recipients, Date and Message-ID) before the connection opens, "sent" once the server
took it. Both live in runs/, not in .knowrepo/: that folder is a cache of one checkout, which
may be deleted, and an email owed (or sent) is part of the history the team shares; a second
machine with the same runs/ neither loses nor repeats it.

Two processes that share runs/ (two checkouts, two machines) never send one email both: a
delivery is claimed in runs/ itself, beside its record (`<run id>.claim.<n>`, made exclusively:
see support/claims.py for what a shared file system must give), before its record is read;
another process leaves a claimed email to its holder, and dropping one claims it too. Every
field of a record read back is checked (it may have been edited by hand or by a foreign tool):
a bad one is one line naming it, its email is not sent, and the others go.

The one window no SMTP client can close: the server has taken the message and the process
dies before it records "sent". The next attempt sends it again, the same bytes with the same
Message-ID (which many mail programs show once): at most one copy more, never a loss.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate, mktime_tz, parsedate_tz
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.config import load_config
from knowrepo.errors import KnowrepoError, one_line
from knowrepo.exports.bodies import exports_for
from knowrepo.exports.email import addressed, message_of, sender_of
from knowrepo.exports.smtp import send
from knowrepo.model import Run
from knowrepo.pipeline.execute.runstore import RUN_FILE, RUN_ID, near_run_id, read_run
from knowrepo.plugins import LoadRegistry
from knowrepo.support.addresses import address_problem, shown
from knowrepo.support.atomic import write_atomic
from knowrepo.support.claims import claimed
from knowrepo.support.faults import pause_point
from knowrepo.support.lock import repository_lock

if TYPE_CHECKING:
    from knowrepo.exports.bodies import Export
    from knowrepo.support.progress import Reporter

OUTBOX = ".outbox"
SENDING, SENT, DROPPED = "sending", "sent", "dropped"
FINAL = (SENT, DROPPED)
LINKED = "is a symlink: the folders in runs/ must be real folders"
_UTC = "%Y-%m-%dT%H:%M:%SZ"  # the times a record keeps


class Unaddressed(KnowrepoError):
    """The report names no readers for the run's variant: its author's choice, not a fault
    to retry, so the email is given up (once, with this line)."""


class DamagedRecord(KnowrepoError):
    """A delivery record knowrepo did not write: what it says cannot be trusted (a header or
    a reader slipped in), so its email is not sent until the record is moved away or dropped."""


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
    """The run's delivery record, every field checked ({} when there is none)."""
    path = record_path(run)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise DamagedRecord(path, f"cannot read the delivery record: {why}") from None
    try:
        record: dict[str, Any] = json.loads(text)  # (record_problem checks that it is one)
    except (ValueError, RecursionError) as exc:
        raise DamagedRecord(path, f"invalid delivery record: not JSON ({exc})") from None
    if (problem := record_problem(run.id, record)) is not None:
        raise DamagedRecord(path, f"invalid delivery record: {problem}")
    return record


def _addresses(value: Any) -> bool:
    return isinstance(value, list) and all(address_problem(a) is None for a in value)


def _one_line(value: Any) -> bool:
    return isinstance(value, str) and one_line(value) == value


def _date(value: Any) -> bool:
    """A Date header as this module writes it (formatdate), nothing more: it goes out as is."""
    parsed = parsedate_tz(value) if _one_line(value) else None
    return parsed is not None and formatdate(mktime_tz(parsed)) == value


def _utc(value: Any) -> bool:
    """A time as _now writes it."""
    try:
        return isinstance(value, str) and dt.datetime.strptime(value, _UTC).strftime(_UTC) == value
    except ValueError:
        return False


# Each field a record may have: (a check, what the field must be).
_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "state": (lambda v: v in (SENDING, SENT, DROPPED), f"one of {SENDING}, {SENT}, {DROPPED}"),
    "to": (lambda v: _addresses(v) and bool(v), "a list of one or more email addresses"),
    "cc": (_addresses, "a list of email addresses"),
    "subject": (_one_line, "one line of text"),
    "date": (_date, "a date as an email's Date header says it (Mon, 02 Nov 2026 09:00:00 -0000)"),
    "sent": (_utc, "a time like 2026-11-02T09:00:00Z"),
    "dropped": (_utc, "a time like 2026-11-02T09:00:00Z"),
    "why": (_one_line, "one line of text"),
}
_MADE = ("to", "cc", "subject", "date", "message_id")  # what a message is made of
_NEEDED = {SENDING: _MADE, SENT: (*_MADE, SENT), DROPPED: (DROPPED,)}


def record_problem(run_id: str, record: Any) -> str | None:
    """What is wrong with a delivery record of run `run_id`, or None (pure: the tests and
    `read_record` share it)."""
    if not isinstance(record, dict):
        return "it must be a JSON object"
    if record.get("run") != run_id:
        return f"'run' must be {run_id} (the run it is named after), not {shown(record.get('run'))}"
    if record.get("state") not in _NEEDED:
        return f"'state' must be {_FIELDS['state'][1]}, not {shown(record.get('state'))}"
    for key, value in record.items():
        if key == "run":
            continue
        if key == "message_id":
            if not (
                isinstance(value, str)
                and re.fullmatch(rf"<{re.escape(run_id)}\.[0-9a-f]{{12}}@knowrepo>", value)
            ):
                return f"'message_id' must be a Message-ID like <{run_id}.…@knowrepo>, not {shown(value)}"
        elif key not in _FIELDS:
            return f"it has the unknown field {shown(key)}"
        elif not _FIELDS[key][0](value):
            return f"'{key}' must be {_FIELDS[key][1]}, not {shown(value)}"
    if missing := [key for key in _NEEDED[record["state"]] if key not in record]:
        return f"'{missing[0]}' is missing"
    return None


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


def _run_folders(runs: Path) -> Iterator[Path | KnowrepoError]:
    """Every run folder in the store (not the hidden temp folders), and a line for each
    folder that is a link (not followed: the folders in runs/ must be real folders)."""
    for folder, subfolders, files in os.walk(runs):
        if RUN_ID.fullmatch(os.path.basename(folder)) and RUN_FILE in files:
            subfolders.clear()
            yield Path(folder)
            continue
        subfolders[:] = sorted(s for s in subfolders if not s.startswith("."))
        for name in subfolders:
            if os.path.islink(link := os.path.join(folder, name)):
                yield KnowrepoError(link, f"{LINKED} (the emails its runs may owe are not sent)")


def _marked(folder: Path) -> bool:
    """Cheaply, before the run is read whole: a successful run made to be emailed."""
    try:
        record = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(record, dict) and record.get("status") == "ok" and _owes(record.get("origin"))


def _owes(origin: Any) -> bool:
    return isinstance(origin, dict) and origin.get("email") is True


def owed_runs(root: Path) -> tuple[list[Run], list[KnowrepoError]]:
    """The runs whose email is neither sent nor dropped, oldest first (with a damaged record:
    owed, for its delivery to name it); and the folders that could not be looked into."""
    owed, unread = [], []
    for found in _run_folders(root / "runs"):
        if isinstance(found, KnowrepoError):
            unread.append(found)
            continue
        if not _marked(found):
            continue
        *slug, variant, _id = found.relative_to(root / "runs").parts
        try:
            run = read_run(found, "/".join(slug), variant)
        except KnowrepoError:
            continue  # (a damaged run record is named by the build and `knowrepo runs`)
        if _state(run) not in FINAL:
            owed.append(run)
    return sorted(owed, key=lambda r: r.id), unread


def _state(run: Run) -> str | None:
    """The delivery's state (None: none yet, or a record that cannot be trusted)."""
    try:
        return read_record(run).get("state")
    except DamagedRecord:
        return None


def message_id(run: Run, to: list[str], cc: list[str]) -> str:
    """The same for the same run to the same readers: a copy sent again is the same message."""
    readers = hashlib.sha256(json.dumps([to, cc]).encode()).hexdigest()[:12]
    return f"<{run.id}.{readers}@knowrepo>"


def deliver_pending(root: Path, reporter: Reporter, load_registry: LoadRegistry) -> Delivery:
    """Send every owed email once, oldest first, each claimed in runs/ (two processes at once,
    of one checkout or two, never send one twice). A delivery that fails, however, stays
    owed: one line, and the others go."""
    done = Delivery()
    with repository_lock(load_config(root, load_registry).state_dir, "knowrepo email", reporter.info):
        owed, unread = owed_runs(root)
        for problem in unread:
            reporter.error(str(problem))
        done.owed, done.failed = len(owed) + len(unread), len(unread)
        for run in owed:
            try:
                with claimed(claim_path(run)) as holder:
                    if holder is not None:
                        reporter.info(f"the email of run {run.id} is being sent by {holder}; left to it")
                    elif (line := _deliver(root, run, reporter, load_registry)) is not None:
                        done.sent.append(line)
            except Exception as exc:  # noqa: BLE001 - one email's fault, whatever it is, stops no other
                done.failed += 1
                reporter.error(_failure(run, exc))
            pause_point("email-sent", root / ".knowrepo")
    return done


def claim_path(run: Run) -> Path:
    """The name of the claims on the run's delivery (beside its record, in runs/)."""
    outbox = record_path(run).parent
    if outbox.is_symlink():
        raise KnowrepoError(outbox, LINKED)
    return outbox / run.id


def _failure(run: Run, exc: Exception) -> str:
    """The one line of a delivery that failed, saying what becomes of its email."""
    drop = f"`knowrepo email --pending --drop {run.id}` gives it up"
    owed = f"the email of run {run.id} stays owed: `knowrepo email --pending` sends it, {drop}"
    if isinstance(exc, Unaddressed):
        return f"{exc}; the email of run {run.id} is not sent"
    if isinstance(exc, DamagedRecord):
        return (
            f"{exc}; the email of run {run.id} is not sent (move the record away to send it anew, or {drop})"
        )
    if isinstance(exc, KnowrepoError):
        return f"{exc} ({owed})"
    if isinstance(exc, OSError):
        return f"{KnowrepoError(exc.filename, f'cannot read or write: {exc.strerror or exc}')} ({owed})"
    why = one_line(f"{type(exc).__name__}: {exc}")[:300]
    return f"{KnowrepoError(record_path(run), f'the email could not be made or sent ({why})')} ({owed})"


def _deliver(root: Path, run: Run, reporter: Reporter, load_registry: LoadRegistry) -> str | None:
    """Make the run's message, record it as being sent, send it, record it as sent (None:
    another process sent or dropped it since it was found owed)."""
    state = root / ".knowrepo"
    record = read_record(run)  # (read under the claim: what another process did is in it)
    if record.get("state") in FINAL:
        return None
    config, items = exports_for(root, run.slug, run.id, (), reporter, load_registry)
    # (this run's folder: a run folder copied by hand has the same id in another variant)
    item = next((i for i in items if i.run is not None and i.run.folder == run.folder), None)
    if item is None:  # (its report is no notebook any more)
        raise KnowrepoError(items[0].report.source, f"has no run {run.id} to email")
    made = {key: record[key] for key in _MADE} if record.get("state") == SENDING else None
    if made is None:
        to, cc, subject = _readers(run, item)
        made = {"to": to, "cc": cc, "subject": subject, "date": formatdate(localtime=False),
                "message_id": message_id(run, to, cc)}  # fmt: skip
    message = message_of(root, config, load_registry(), item, sender_of(config), **made)
    pause_point("email-made", state)
    write_record(run, {"state": SENDING, **made})
    pause_point("email-sending", state)
    send(message, config.email, reporter.warn, lambda: pause_point("email-data", state))
    pause_point("email-accepted", state)
    write_record(run, {"state": SENT, **made, "sent": _now()})
    copy = f", cc {message['Cc']}" if message["Cc"] else ""
    return f"sent {item.file_name} to {message['To']}{copy} (run {run.id})"


def _readers(run: Run, item: Export) -> tuple[list[str], list[str], str]:
    """(to, cc, subject template) from the front matter; none: the email is given up."""
    try:
        return addressed(item, (), ())
    except KnowrepoError as exc:  # (its one error: no recipients)
        write_record(run, {"state": DROPPED, "why": exc.message, "dropped": _now()})
        raise Unaddressed(exc.path, exc.message) from None


def drop_owed(root: Path, run_ids: tuple[str, ...], reporter: Reporter) -> Delivery:
    """Give up the owed emails of these runs (recorded: no later command sends them), each
    claimed as a delivery is: an email on its way is not dropped (one line)."""
    owed = {run.id: run for run in owed_runs(root)[0]}
    for run_id in run_ids:
        if run_id not in owed:
            hint = near_run_id(run_id, owed)
            why = "(sent, dropped, or not a run of --email)"
            raise KnowrepoError(None, f"run {run_id} owes no email{hint} {why}")
    done = Delivery(owed=len(run_ids))
    for run in (owed[run_id] for run_id in run_ids):
        with claimed(claim_path(run)) as holder:
            if holder is not None:
                done.failed += 1
                reporter.error(f"the email of run {run.id} is being sent by {holder}: not dropped")
                continue
            try:
                record = read_record(run)
            except DamagedRecord:
                record = {}  # (replaced by one knowrepo writes)
            if record.get("state") in FINAL:
                done.failed += 1
                reporter.error(f"run {run.id} owes no email any more (it was {record['state']} meanwhile)")
                continue
            write_record(run, {**record, "state": DROPPED, "dropped": _now()})
            done.sent.append(f"dropped the email of run {run.id}")
    return done


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime(_UTC)
