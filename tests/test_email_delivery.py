"""Scheduled email delivered exactly once however the process dies (a real aiosmtpd server on
127.0.0.1 counts the messages), and every address checked before anything connects."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from test_pdf_email import Inbox, free_port

from conftest import run_knowrepo


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
    for command in (["email", "note", "--to", "ana@example.com"], ["check"]):
        proc = run_knowrepo("-C", str(notes), *command, check=False)
        assert proc.returncode == 1
        (line,) = _error_lines(proc.stderr)
        assert line.startswith(f"error: {notes / 'knowrepo.toml'}: [email] sender {sender!r} is not"), line
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
