"""Scheduled email delivered exactly once however the process dies (a real aiosmtpd server on
127.0.0.1 counts the messages), and every address checked before anything connects."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from test_pdf_email import Inbox, free_port

from conftest import KNOWREPO, run_knowrepo, write_notebook


class CountingInbox(Inbox):
    """An Inbox that also counts sessions: an address refused before connecting opens none."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.sessions += 1
        session.host_name = hostname
        return responses


@pytest.fixture()
def inbox():
    from aiosmtpd.controller import Controller

    box = CountingInbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def mail_config(port: int, extra: str = "") -> str:
    return (
        f'[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nsender = "kr@example.com"\n{extra}'
    )


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


# ---- exactly once -------------------------------------------------------------------------------

WEEKLY = (
    "title: Weekly\nparams: {day: '{{ run_date | iso }}'}\n"
    "variants: {eu: {region: EU}, us: {region: US}}\nschedule: '0 7 * * 1'\n"
    "email: {subject: 'Weekly {region}, {day}', variants: {eu: {to: [eu@example.com]},"
    " us: {to: [us@example.com], cc: ['Ana Lopez <ana@example.com>']}}}"
)

# Every pause point on the way of `run --due --build --email`, in order, with the messages the
# server holds once the process is killed there (each kill after a restart from the last one).
POINTS = [
    ("runs-saved", 0),  # the runs are in runs/, nothing else done
    ("built", 0),  # the site shows them
    ("email-made", 0),  # the first message is made, nothing recorded
    ("email-sending", 0),  # recorded as being sent, not yet connected
    ("email-data", 0),  # the server accepted its recipients, not the message
    ("email-accepted", 1),  # the server accepted the message, not yet recorded as sent
    ("email-sent", 2),  # sent again (the one window), recorded; the second not made yet
]


@pytest.fixture()
def weekly(tmp_path: Path, inbox: CountingInbox) -> Path:
    root = tmp_path / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text(mail_config(inbox.port))
    cells = [("code", 'day = "x"\nregion = "x"', ["parameters"]), ("code", "print(region, day)")]
    write_notebook(root / "reports/weekly.ipynb", cells, front=WEEKLY)
    return root


def _start(root: Path, args: list[str], now: str, pause: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "KNOWREPO_NOW": now}
    if pause:
        env["KNOWREPO_PAUSE_AT"] = pause
    return subprocess.Popen([*KNOWREPO, *args], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def _kill_at(root: Path, point: str, now: str) -> None:
    """Start `run --due --build --email`, wait until it pauses at `point`, SIGKILL it there."""
    proc = _start(root, ["run", "--due", "--build", "--email"], now, point)
    marker = root / f".knowrepo/paused-{point}"
    deadline = time.monotonic() + 180
    while not (marker.exists() and marker.read_text()):
        if proc.poll() is not None:
            _out, err = proc.communicate()
            pytest.fail(f"run --due --build --email never paused at {point} (exit {proc.returncode}):\n{err}")
        assert time.monotonic() < deadline, f"{point}: no pause"
        time.sleep(0.05)
    assert int(marker.read_text()) == proc.pid  # the command itself, not a worker
    proc.send_signal(signal.SIGKILL)
    proc.communicate()


def test_E120_a_scheduled_email_is_sent_once_wherever_the_process_is_killed(
    weekly: Path, inbox: CountingInbox
):
    """E120 of docs/errors.md: the cron line `run --due --build --email` is killed at each of
    its pause points in turn (each restart of it killed at the next: a crash while recovering
    from a crash), then `email --pending` finishes: each reader gets each message once, but the
    one killed between the server's acceptance and its record, which comes once more with the
    same Message-ID (mail readers fold the two into one)."""
    now = "2026-11-02T09:00:00"  # a Monday, after 07:00
    for point, held in POINTS:
        _kill_at(weekly, point, now)
        assert len(inbox.messages) == held, point
    finish = _start(weekly, ["email", "--pending"], now)
    _out, err = finish.communicate(timeout=300)
    assert finish.returncode == 0 and "Traceback" not in err, err
    messages = [(rcpts, parsed(raw)) for rcpts, raw in inbox.messages]
    first, again, second = (m for _r, m in messages)
    assert first["Message-ID"] == again["Message-ID"] != second["Message-ID"]
    assert first.as_bytes() == again.as_bytes()  # the same message, sent again
    assert {m["Subject"] for _r, m in messages} == {"Weekly EU, 2026-11-02", "Weekly US, 2026-11-02"}
    for rcpts, message in messages:
        if "US" in message["Subject"]:
            assert rcpts == ["us@example.com", "ana@example.com"]
            assert [a.display_name for a in message["Cc"].addresses] == ["Ana Lopez"]
        else:
            assert rcpts == ["eu@example.com"]
    for command in (["email", "--pending"], ["run", "--due", "--build", "--email"]):
        proc = _start(weekly, command, "2026-11-03T09:00:00")
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert "Nothing is owed" in _start(weekly, ["email", "--pending"], now).communicate()[1]
    assert len(inbox.messages) == 3  # nothing went twice but the one in the window


# ---- a delivery that fails stays owed -----------------------------------------------------------


@pytest.fixture()
def daily(tmp_path: Path, inbox: CountingInbox) -> Path:
    """A notebook report emailed to one reader, one that names none, and a broken report."""
    root = tmp_path / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text(mail_config(free_port()))  # nobody listens there
    front = "title: Daily\nemail: {to: [lead@example.com], subject: 'Daily {n}'}"
    write_notebook(
        root / "reports/daily.ipynb", [("code", "n = 1", ["parameters"]), ("code", "n")], front=front
    )
    write_notebook(root / "reports/silent.ipynb", [("code", "1")], front="title: Silent")
    (root / "reports/broken.md").write_text("---\ntitle: [unclosed\n---\nText.\n")
    return root


def _owed_ids(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "runs/daily/default").glob("*/run.json"))


def test_E121_E122_E128_an_email_that_cannot_go_stays_owed_until_it_goes_or_is_dropped(
    daily: Path, inbox: CountingInbox
):
    """E121 of docs/errors.md: the server is down when `run --email` sends: one line, and the
    email stays owed until `email --pending` (or the next `run --email`) sends it, once, or
    `email --pending --drop RUN_ID` gives it up. E122: a report that fails to build does not
    stop the emails of `run --build --email` (E129: nor do the build's exiting render workers
    hold the lock they inherited). E128: a report that names no readers gets one line, once
    (not one per cron run)."""
    down = run_knowrepo("-C", str(daily), "run", "--all", "--email", check=False)
    assert down.returncode == 1 and "Traceback" not in down.stderr
    lines = [x for x in down.stderr.splitlines() if x.startswith("error:") and "broken.md" not in x]
    (smtp,) = [x for x in lines if "cannot connect" in x]
    (unaddressed,) = [x for x in lines if x.startswith("error: reports/silent.ipynb: no recipients")]
    assert len(lines) == 2 and "stays owed" in smtp and "is not sent" in unaddressed
    (daily / "knowrepo.toml").write_text(mail_config(inbox.port))
    sent = run_knowrepo("-C", str(daily), "email", "--pending")
    assert "sent daily.pdf to lead@example.com" in sent.stderr
    assert [parsed(raw)["Subject"] for _r, raw in inbox.messages] == ["Daily 1"]
    assert "Nothing is owed." in run_knowrepo("-C", str(daily), "email", "--pending").stderr
    assert len(inbox.messages) == 1

    built = run_knowrepo("-C", str(daily), "run", "daily", "--force", "--build", "--email", check=False)
    assert built.returncode == 1 and "reports/broken.md" in built.stderr  # the build's error...
    assert len(inbox.messages) == 2  # ...and the email went all the same
    assert "waiting for" not in built.stderr  # (E129)

    (daily / "knowrepo.toml").write_text(mail_config(free_port()))
    run_knowrepo("-C", str(daily), "run", "daily", "--force", "--email", check=False)
    owed = _owed_ids(daily)[-1]
    wrong = run_knowrepo("-C", str(daily), "email", "--pending", "--drop", _owed_ids(daily)[0], check=False)
    assert wrong.returncode == 1 and "owes no email" in wrong.stderr  # (that one was sent)
    run_knowrepo("-C", str(daily), "email", "--pending", "--drop", owed)
    (daily / "knowrepo.toml").write_text(mail_config(inbox.port))
    assert "Nothing is owed." in run_knowrepo("-C", str(daily), "email", "--pending").stderr
    assert len(inbox.messages) == 2


# ---- addresses ----------------------------------------------------------------------------------


@pytest.fixture()
def notes(tmp_path: Path, inbox: CountingInbox) -> Path:
    """Markdown reports (no kernel): one to email, the others with bad addresses."""
    root = tmp_path / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text(mail_config(inbox.port))
    (root / "reports/note.md").write_text("---\ntitle: Note\n---\nHello.\n")
    return root


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error:", "warning:"))]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("ana@example.com\r\nBcc: eve@example.com", "is not an email address (it holds a line break"),
        ("not an address", "is not an email address"),
        ("", "is not an email address"),
        ("<>", "is not an email address"),
        ("a@b@example.com", "is not an email address"),
        ("ana@example.com, bob@example.com", "is not one email address"),
        ("zoë@exämple.com", "is not an email address"),
        ("ana@exämple.com", "is not an ASCII email address"),
    ],
)
def test_E123_E127_an_address_on_the_command_line_is_checked_before_connecting(
    notes: Path, inbox: CountingInbox, value: str, why: str
):
    """E123 of docs/errors.md (E127: a non-ASCII address, which smtplib cannot send)."""
    for option in ("--to", "--cc"):
        extra = ["--to", "ana@example.com"] if option == "--cc" else []
        proc = run_knowrepo("-C", str(notes), "email", "note", *extra, option, value, check=False)
        assert proc.returncode == 1, proc.stderr
        (line,) = _error_lines(proc.stderr)
        assert line.startswith(f"error: {option} {value!r} {why}"), line
    assert inbox.sessions == 0 and inbox.messages == []  # nothing connected


def test_E124_front_matter_addresses_are_checked_by_check_build_and_email(notes: Path, inbox: CountingInbox):
    """E124 of docs/errors.md: a front matter recipient that is no address is named, as E87's
    subject is, by `check`, `build` (which publishes the rest) and `email`."""
    bad = {
        "reports/garbage.md": ("email: {to: [not an address]}", "'email.to' has 'not an address'"),
        "reports/empty.md": ("email: {to: [ok@example.com], cc: ['<>']}", "'email.cc' has '<>'"),
        "reports/per-variant.md": (
            'email: {to: [ok@example.com], variants: {eu: {to: ["a@example.com\\nBcc: e@example.com"]}}}',
            "'email.variants.eu.to' has 'a@example.com\\nBcc: e@example.com'",
        ),
    }
    for path, (front, _) in bad.items():
        (notes / path).write_text(f"---\ntitle: Bad\n{front}\n---\nText.\n")
    check = run_knowrepo("-C", str(notes), "check", check=False)
    assert check.returncode == 1
    for path, (_, fragment) in bad.items():
        (line,) = [x for x in check.stdout.splitlines() if x.startswith(path)]
        assert fragment in line and "which is not an email address" in line, line
    build = run_knowrepo("build", str(notes), check=False)
    errors = [line for line in build.stderr.splitlines() if line.startswith("error:")]
    assert build.returncode == 1 and len(errors) == 3, build.stderr
    assert (notes / "_site/note/index.html").is_file()
    proc = run_knowrepo("-C", str(notes), "email", "garbage", check=False)
    (line,) = _error_lines(proc.stderr)
    expected = "front matter 'email.to' has 'not an address', which is not an email address"
    assert line == f"error: reports/garbage.md: line 3: {expected}"
    assert inbox.sessions == 0


@pytest.mark.parametrize("sender", ["not an address", "kr@example.com\nBcc: eve@example.com", "<>"])
def test_E125_the_configured_sender_is_checked(notes: Path, inbox: CountingInbox, sender: str):
    """E125 of docs/errors.md: [email] sender is named with knowrepo.toml, before connecting."""
    (notes / "knowrepo.toml").write_text(
        mail_config(inbox.port).replace('"kr@example.com"', json.dumps(sender))
    )
    proc = run_knowrepo("-C", str(notes), "email", "note", "--to", "ana@example.com", check=False)
    assert proc.returncode == 1
    (line,) = _error_lines(proc.stderr)
    assert line.startswith(f"error: {notes / 'knowrepo.toml'}: [email] sender {sender!r} is not"), line
    proc = run_knowrepo(
        "-C", str(notes), "check", check=False
    )  # (a problem of the file, as check lists them)
    assert proc.returncode == 1
    (line,) = proc.stdout.splitlines()
    assert line.startswith(f"knowrepo.toml: [email] sender {sender!r} is not"), line
    assert inbox.sessions == 0


def test_E126_display_names_are_kept_and_the_envelope_has_bare_addresses(notes: Path, inbox: CountingInbox):
    """E126 of docs/errors.md: `"Lopez, Ana" <ana@example.com>` is one reader (its comma split
    it into two recipients that were sent as RCPT TO)."""
    (notes / "knowrepo.toml").write_text(
        mail_config(inbox.port).replace('"kr@example.com"', "'KB <kr@example.com>'")
    )
    run_knowrepo(
        "-C",
        str(notes),
        "email",
        "note",
        "--to",
        '"Lopez, Ana" <ana@example.com>',
        "--cc",
        "Bob <bob@example.com>",
    )
    ((rcpts, raw),) = inbox.messages
    assert rcpts == ["ana@example.com", "bob@example.com"]
    message = parsed(raw)
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
        ("Lopez, Ana", "ana@example.com")
    ]
    assert message["From"].addresses[0].display_name == "KB"


# ---- runs that owe emails, shared, damaged, dropped ---------------------------------------------


class GatedInbox(CountingInbox):
    """An Inbox that holds the first message it is sent (after its recipients are accepted)
    until the test opens the gate: a delivery caught in the act, for as long as the test needs
    (at most 25 s: the client's timeout is 30)."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()  # the first message is being held
        self.gate = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if not self.holding.is_set():
            self.holding.set()
            deadline = time.monotonic() + 25
            while not self.gate.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture()
def gated():
    from aiosmtpd.controller import Controller

    box = GatedInbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    box.gate.set()
    controller.stop()


@pytest.fixture(scope="module")
def owing_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose two runs (variants eu and us) owe their emails: `run --all --email`
    found the server down (each record says "sending"). Made once; each test copies it."""
    root = tmp_path_factory.mktemp("owing") / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text(mail_config(free_port()))  # nobody listens there
    cells = [("code", 'day = "x"\nregion = "x"', ["parameters"]), ("code", "print(region, day)")]
    write_notebook(root / "reports/weekly.ipynb", cells, front=WEEKLY)
    down = run_knowrepo("-C", str(root), "run", "--all", "--email", check=False)
    assert down.returncode == 1 and down.stderr.count("stays owed") == 2, down.stderr
    return root


def _owing(template: Path, target: Path, port: int) -> Path:
    root = target / "repo"
    shutil.copytree(template, root, symlinks=True)
    (root / "knowrepo.toml").write_text(mail_config(port))
    return root


def _records(root: Path) -> dict[str, Path]:
    """Each owed run's delivery record, by variant."""
    return {v: next((root / f"runs/weekly/{v}/.outbox").glob("*.json")) for v in ("eu", "us")}


def _message_ids(box: CountingInbox) -> list[str]:
    return sorted(parsed(raw)["Message-ID"] for _r, raw in box.messages)


def _wait(what, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_E159_two_checkouts_sharing_runs_send_each_email_once(
    owing_template: Path, tmp_path: Path, gated: GatedInbox
):
    """E159 of docs/errors.md: two checkouts whose runs/ is one folder (the second's a symlink
    to the first's) run `email --pending` at once. The server holds the first message it gets:
    the other process must leave that email to its sender (it is claimed in runs/), send the
    other one, and finish; once the held one goes, nothing is sent twice. (Before: each
    checkout sent both, under its own .knowrepo/lock.)"""
    first = _owing(owing_template, tmp_path / "a", gated.port)
    second = tmp_path / "b/repo"
    second.mkdir(parents=True)
    shutil.copytree(first / "reports", second / "reports")
    shutil.copy(first / "knowrepo.toml", second / "knowrepo.toml")
    (second / "runs").symlink_to(first / "runs")
    procs = [_start(root, ["email", "--pending"], "2026-11-02T09:00:00") for root in (first, second)]
    _wait(gated.holding.is_set)
    _wait(lambda: any(p.poll() is not None for p in procs))  # the one not held finishes...
    assert sum(p.poll() is not None for p in procs) == 1
    assert len(gated.messages) == 1  # ...having sent the other email only
    gated.gate.set()
    outputs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert any("is being sent by pid" in err for err in outputs), outputs
    assert len(gated.messages) == 2 and len(set(_message_ids(gated))) == 2, outputs
    claims = [p.name for p in (first / "runs").rglob("*") if ".claim" in p.name]
    assert claims == []  # released once sent
    again = [_start(root, ["email", "--pending"], "2026-11-02T09:00:00") for root in (first, second)]
    assert all("Nothing is owed." in p.communicate(timeout=120)[1] for p in again)
    assert len(gated.messages) == 2


def test_E159_a_claim_of_another_machine_is_left_to_it_until_stale(
    owing_template: Path, tmp_path: Path, inbox: CountingInbox
):
    """E159 of docs/errors.md: a claim that another machine made (its process cannot be asked
    after from here) holds its email back while it is fresh; an hour old, it is taken over."""
    root = _owing(owing_template, tmp_path, inbox.port)
    record = _records(root)["eu"]
    claim = record.with_name(record.name.removesuffix(".json") + ".claim.1")
    claim.write_text(json.dumps({"host": "0badcafe", "name": "other-box", "pid": 1, "since": "09:00:00"}))
    held = run_knowrepo("-C", str(root), "email", "--pending")
    assert "is being sent by pid 1 on other-box" in held.stderr, held.stderr
    assert len(inbox.messages) == 1  # us only
    old = time.time() - 2 * 3600
    os.utime(claim, (old, old))
    taken = run_knowrepo("-C", str(root), "email", "--pending")
    assert "sent weekly-eu.pdf" in taken.stderr and len(inbox.messages) == 2, taken.stderr
    assert not claim.exists()


DAMAGE = [  # (field, value it is given, what the error says)
    ("message_id", "{mid}\nBcc: eve@evil.example", "'message_id' must be"),
    ("message_id", "<other@knowrepo>", "'message_id' must be"),
    ("message_id", ["{mid}"], "'message_id' must be"),
    ("to", ["eu@example.com\nBcc: eve@evil.example"], "'to' must be"),
    ("to", ["eu@example.com, eve@evil.example"], "'to' must be"),
    ("to", [], "'to' must be"),
    ("cc", ["not an address"], "'cc' must be"),
    ("cc", "eve@evil.example", "'cc' must be"),
    ("subject", "Weekly\nBcc: eve@evil.example", "'subject' must be"),
    ("subject", 7, "'subject' must be"),
    ("date", "yesterday", "'date' must be"),
    ("date", "Mon, 02 Nov 2026 09:00:00 -0000\nBcc: eve@evil.example", "'date' must be"),
    ("state", "maybe", "'state' must be"),
    ("state", None, "'state' must be"),
    ("run", "20260101T000000.000Z-000000", "'run' must be"),
    ("sent", "soon", "'sent' must be"),
    ("bcc", ["eve@evil.example"], "unknown field 'bcc'"),
]


@pytest.mark.parametrize(("field", "value", "why"), DAMAGE)
def test_E160_every_field_of_a_delivery_record_is_checked(field: str, value: object, why: str):
    """E160 of docs/errors.md: what `read_record` finds wrong in a record read back (the
    command-line test below shows the line it makes)."""
    from knowrepo.exports.outbox import message_id, record_problem
    from knowrepo.model import Run

    run = Run(None, "20261102T090000.000Z-abcdef", "weekly", "eu", "reports/weekly.ipynb", "ok")
    made = {
        "to": ["eu@example.com"],
        "cc": [],
        "subject": "Weekly",
        "date": "Mon, 02 Nov 2026 09:00:00 -0000",
    }
    good = {"run": run.id, "state": "sending", **made, "message_id": message_id(run, made["to"], [])}
    assert record_problem(run.id, good) is None
    assert record_problem(run.id, {**good, "state": "sent", "sent": "2026-11-02T09:00:01Z"}) is None
    assert (
        record_problem(run.id, {"run": run.id, "state": "dropped", "dropped": "2026-11-02T09:00:01Z"}) is None
    )
    given = [v.format(mid=good["message_id"]) for v in value] if isinstance(value, list) else value
    given = given.format(mid=good["message_id"]) if isinstance(given, str) else given
    problem = record_problem(run.id, {**good, field: given})
    assert problem is not None and why in problem, problem
    assert "\n" not in problem


def test_E160_a_damaged_delivery_record_is_named_and_the_other_emails_go(
    owing_template: Path, tmp_path: Path, inbox: CountingInbox
):
    """E160 of docs/errors.md: a delivery record edited by hand (here a header injected in its
    Message-ID, then a reader; and one that is not JSON) is one error line naming it, every
    time, and is never sent; the other emails go, `run --email`'s own among them. (Before:
    "failed unexpectedly (ValueError: Header values may not contain linefeed...)", exit 2,
    and no later email went.)"""
    root = _owing(owing_template, tmp_path, inbox.port)
    record = _records(root)["eu"]
    good = json.loads(record.read_text())
    cases = [
        (json.dumps({**good, "message_id": good["message_id"] + "\nBcc: eve@evil.example"}), "'message_id'"),
        (json.dumps({**good, "cc": ["eve@evil.example\r\nX: y"]}), "'cc' must be a list of email addresses"),
        ("{not json", "not JSON"),
    ]
    for text, why in cases:
        record.write_text(text)
        proc = run_knowrepo("-C", str(root), "email", "--pending", check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        (line,) = _error_lines(proc.stderr)
        assert line.startswith(f"error: {record}: invalid delivery record: ") and why in line, line
        assert "the email of run" in line and "is not sent" in line and "--drop" in line, line
    assert [parsed(raw)["Subject"].split(",")[0] for _r, raw in inbox.messages] == ["Weekly US"]
    later = run_knowrepo(
        "-C", str(root), "run", "weekly", "--variant", "us", "--force", "--email", check=False
    )
    assert later.returncode == 1 and "Traceback" not in later.stderr, later.stderr
    assert len(_error_lines(later.stderr)) == 1 and len(inbox.messages) == 2  # run b's email went
    assert "eve@evil.example" not in str(inbox.messages)
    run_id = record.name.removesuffix(".json")
    run_knowrepo("-C", str(root), "email", "--pending", "--drop", run_id)
    assert "Nothing is owed." in run_knowrepo("-C", str(root), "email", "--pending").stderr
    assert len(inbox.messages) == 2


def test_E160_a_run_folder_copied_by_hand_stops_no_other_email(
    owing_template: Path, tmp_path: Path, inbox: CountingInbox
):
    """E160 of docs/errors.md: any fault of one delivery is that delivery's alone. A run
    folder copied by hand into the other variant (one run id in two folders) ended every
    `email --pending` in "failed unexpectedly (ValueError: too many values to unpack)", exit
    2, before the other emails; the copy (a run of eu in us/, E142) is named and owes nothing."""
    root = _owing(owing_template, tmp_path, inbox.port)
    eu = _records(root)["eu"]
    run_id = eu.name.removesuffix(".json")
    shutil.copytree(root / f"runs/weekly/eu/{run_id}", root / f"runs/weekly/us/{run_id}")
    proc = run_knowrepo("-C", str(root), "email", "--pending", check=False)
    assert proc.returncode == 0 and "unexpectedly" not in proc.stderr, proc.stderr
    copy = f"runs/weekly/us/{run_id}/run.json: invalid run record: it is a run of 'weekly' [eu]"
    assert all(copy in line for line in proc.stderr.splitlines() if "invalid run record" in line)
    subjects = sorted(parsed(raw)["Subject"].split(",")[0] for _r, raw in inbox.messages)
    assert subjects == ["Weekly EU", "Weekly US"]  # each once, never the copy's
    assert "Nothing is owed." in run_knowrepo("-C", str(root), "email", "--pending").stderr


def test_E161_an_email_being_sent_is_not_dropped_and_a_dropped_one_is_not_sent(
    owing_template: Path, tmp_path: Path, gated: GatedInbox
):
    """E161 of docs/errors.md: `email --pending --drop` while `email --pending` sends: the email
    on the wire is not dropped (one line, exit 1), the one it has not reached yet is, and is
    then never sent. (Before: `--drop` wrote "dropped" without asking, and the delivery wrote
    "sending" over it and sent it.)"""
    root = _owing(owing_template, tmp_path, gated.port)
    ids = sorted(p.name.removesuffix(".json") for p in _records(root).values())
    sending = _start(root, ["email", "--pending"], "2026-11-02T09:00:00")
    _wait(gated.holding.is_set)  # the oldest run's email is on the wire
    busy = run_knowrepo("-C", str(root), "email", "--pending", "--drop", ids[0], check=False)
    assert busy.returncode == 1, busy.stderr
    (line,) = _error_lines(busy.stderr)
    assert f"the email of run {ids[0]} is being sent by pid {sending.pid}" in line and "not dropped" in line
    run_knowrepo("-C", str(root), "email", "--pending", "--drop", ids[1])
    gated.gate.set()
    _out, err = sending.communicate(timeout=120)
    assert sending.returncode == 0, err
    assert len(gated.messages) == 1, err  # the dropped one did not go
    assert "Nothing is owed." in run_knowrepo("-C", str(root), "email", "--pending").stderr
    assert len(gated.messages) == 1


def test_E162_a_symlinked_folder_in_runs_is_named_by_email_pending(
    owing_template: Path, tmp_path: Path, inbox: CountingInbox
):
    """E162 of docs/errors.md: the runs of a folder in runs/ that is a symlink (runs/ folders
    must be real folders) are not read, nor is a record written through a linked `.outbox/`;
    `email --pending` says so in one line, and exits 1, instead of finding "Nothing is owed."
    while they owe their emails (or writing where the link points)."""
    root = _owing(owing_template, tmp_path, inbox.port)
    outbox = _records(root)["eu"].parent
    outbox.rename(tmp_path / "outbox")
    outbox.symlink_to(tmp_path / "outbox")
    proc = run_knowrepo("-C", str(root), "email", "--pending", check=False)
    assert proc.returncode == 1, proc.stderr
    (line,) = _error_lines(proc.stderr)
    assert line.startswith(f"error: {outbox}: is a symlink: the folders in runs/ must be real folders"), line
    assert [parsed(raw)["Subject"].split(",")[0] for _r, raw in inbox.messages] == ["Weekly US"]
    linked = root / "runs/weekly"
    linked.rename(tmp_path / "elsewhere")
    linked.symlink_to(tmp_path / "elsewhere")
    proc = run_knowrepo("-C", str(root), "email", "--pending", check=False)
    assert proc.returncode == 1 and "Nothing is owed" not in proc.stderr, proc.stderr
    (line,) = _error_lines(proc.stderr)
    assert line.startswith(f"error: {linked}: is a symlink: the folders in runs/ must be real folders"), line
    assert len(inbox.messages) == 1
