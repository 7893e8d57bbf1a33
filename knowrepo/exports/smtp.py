"""Email a report: its PDF attached, the summary and key figures in the body, over SMTP.

The message is complete before the connection opens, and every recipient is accepted before
any data is sent: an email never goes out half-made or to half its readers.
"""

from __future__ import annotations

import hashlib
import html
import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import astuple, dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from knowrepo.config import EmailConfig
from knowrepo.errors import KnowrepoError
from knowrepo.model import Run
from knowrepo.support.figures import shown_figures
from knowrepo.support.numbers import bounded_map


def recipients(
    front: dict[str, Any], variant: str, to: tuple[str, ...], cc: tuple[str, ...], source: str
) -> tuple[list[str], list[str], str]:
    """(to, cc, subject) from the command line, else the variant's, else the report's email:."""
    per_variant = (front.get("variants") or {}).get(variant, {}) if variant else {}

    def pick(key: str) -> Any:
        return per_variant.get(key, front.get(key))

    def as_list(value: Any) -> list[str]:
        return [value] if isinstance(value, str) else list(value or [])

    to_list = list(to) or as_list(pick("to"))
    cc_list = list(cc) or as_list(pick("cc"))
    if not to_list:
        raise KnowrepoError(source, "no recipients: give --to, or email: {to: [...]} in the front matter")
    return to_list, cc_list, str(pick("subject") or "")


def build_message(
    *,
    sender: str,
    to: list[str],
    cc: list[str],
    subject: str,
    title: str,
    summary: str,
    run: Run | None,
    link: str | None,
    pdf: bytes,
    filename: str,
    date: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A multipart email: plain text and HTML bodies, the PDF attached. A message sent again
    (after a crash) passes its first Date and Message-ID, so that it is the same message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = date or formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain="knowrepo")
    metrics = shown_figures(run.metrics, run.metric_styles) if run else {}  # (cut: text of any size)
    params = bounded_map(run.params) if run else {}
    when = f"Run of {run.started[:16].replace('T', ' ')} UTC" if run and run.started else ""
    letter = Letter(title, summary, params, metrics, link, filename, when)
    message.set_content(_plain_body(letter), cte="quoted-printable")
    body = _html_body(letter)
    message.add_alternative(body, subtype="html", cte="quoted-printable")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    if message_id:
        _fixed_boundaries(message, message_id)
    return message


def _fixed_boundaries(message: EmailMessage, seed: str) -> None:
    """Boundaries drawn from the Message-ID, not at random: a message sent again is the same
    bytes. (A boundary must not occur in the parts: theirs are base64 or quoted-printable,
    which never hold '=' followed by a '_'.)"""
    digest = hashlib.sha256(seed.encode()).hexdigest()[:24]
    for number, part in enumerate(p for p in message.walk() if p.is_multipart()):
        part.set_boundary(f"=_{digest}.{number}")


@dataclass(frozen=True)
class Letter:
    """What an email says of one run, in both its parts."""

    title: str
    summary: str
    params: dict[str, Any]
    metrics: dict[str, str]  # label -> the figure as written (support/figures.shown_figures)
    link: str | None
    filename: str
    when: str = ""


def _plain_body(letter: Letter) -> str:
    title, summary, params, metrics, link, filename, when = astuple(letter)
    lines = [title, "", summary] if summary else [title]
    if when:
        lines += ["", when]
    if params:
        lines += ["", "Parameters: " + ", ".join(f"{k}={v}" for k, v in params.items())]
    if metrics:
        lines += ["", "Key figures:"] + [f"  {k}: {v}" for k, v in metrics.items()]
    if link:
        lines += ["", f"Read it online: {link}"]
    lines += ["", f"The full report is attached ({filename})."]
    return "\n".join(lines) + "\n"


def _html_body(letter: Letter) -> str:
    """The HTML part, styled inline (mail readers drop style sheets)."""
    title, summary, params, metrics, link, filename, when = astuple(letter)
    rows = "".join(
        f'<tr><td style="padding:4px 16px 4px 0;color:#5f6b7a">{html.escape(k)}</td>'
        f'<td style="padding:4px 0;font-weight:700">{html.escape(v)}</td></tr>'
        for k, v in metrics.items()
    )
    muted = "font-size:13px;color:#5f6b7a"
    parts = [f'<h1 style="font-size:22px;margin:0 0 8px">{html.escape(title)}</h1>']
    if summary:
        parts.append(f'<p style="font-size:15px;color:#4a5565;margin:0 0 12px">{html.escape(summary)}</p>')
    if when:
        parts.append(f'<p style="{muted}">{html.escape(when)}</p>')
    if params:
        parts.append(
            f'<p style="{muted}">{html.escape(", ".join(f"{k}={v}" for k, v in params.items()))}</p>'
        )
    if rows:
        parts.append(
            f'<table style="border-collapse:collapse;font-size:15px;margin:8px 0 16px">{rows}</table>'
        )
    if link:
        parts.append(f'<p><a href="{html.escape(link)}" style="color:#2f5fa7">Read it online</a></p>')
    parts.append(f'<p style="{muted}">The full report is attached ({html.escape(filename)}).</p>')
    font = "font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1c2430;max-width:600px"
    return f'<div style="{font}">' + "".join(parts) + "</div>"


def send(
    message: EmailMessage,
    config: EmailConfig,
    warn: Callable[[str], None],
    before_data: Callable[[], None] | None = None,
) -> None:
    """Send over SMTP (STARTTLS, SSL or plain, as configured). The password is read from the
    environment variable that config names, and never printed or logged. `before_data` is
    called once every recipient is accepted (a pause point of the fault tests)."""
    where = f"SMTP server {config.host}:{config.port}"
    context = ssl.create_default_context()
    if not config.verify:
        warn(f"[email] verify = false: the certificate of {config.host} is not checked")
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    password = _password(config)
    try:
        if config.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=30, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=30)
        with client:
            client.ehlo()
            if config.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if config.user:
                client.login(config.user, password)
            _deliver(client, message, where, before_data or (lambda: None))
    except KnowrepoError:
        raise
    except smtplib.SMTPAuthenticationError:
        raise KnowrepoError(where, f"authentication failed for user {config.user}") from None
    except ssl.SSLCertVerificationError as exc:
        raise KnowrepoError(
            where,
            f"certificate not trusted ({exc.verify_message}); fix the server's "
            "certificate or set [email] verify = false",
        ) from None
    except smtplib.SMTPException as exc:  # before OSError: it is one
        raise KnowrepoError(where, f"SMTP error: {exc}") from None
    except OSError as exc:  # refused, unreachable, unknown host, timeout
        raise KnowrepoError(where, f"cannot connect: {exc.strerror or exc}") from None


def _password(config: EmailConfig) -> str:
    if not config.user:
        return ""
    if not config.password_env or config.password_env not in os.environ:
        raise KnowrepoError(
            "knowrepo.toml",
            f"[email] user is set but the environment variable "
            f"{config.password_env or '(password_env)'} that holds the password is not",
        )
    return os.environ[config.password_env]


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """(sender, recipients) as SMTP names them: the bare addresses of From, To and Cc, read
    by the header parser (a display name may hold a comma: `"Lopez, Ana" <ana@x.com>`)."""

    def addresses(field: str) -> list[str]:
        header = message.get(field)
        return [a.addr_spec for a in header.addresses] if header is not None else []

    return addresses("From")[0], addresses("To") + addresses("Cc")


def _deliver(
    client: smtplib.SMTP, message: EmailMessage, where: str, before_data: Callable[[], None]
) -> None:
    """Every recipient accepted before any data is sent: a refused address sends nothing."""
    sender, addresses = envelope(message)
    code, reply = client.mail(sender)
    if code != 250:
        raise KnowrepoError(where, f"sender {sender} refused: {code} {reply.decode(errors='replace')}")
    for address in addresses:
        code, reply = client.rcpt(address)
        if code not in (250, 251):
            client.rset()
            refused = f"{code} {reply.decode(errors='replace')}"
            raise KnowrepoError(where, f"recipient {address} refused: {refused}; nothing was sent")
    before_data()
    # SMTP wants CRLF line ends; smtplib converts str but sends bytes as they are.
    code, reply = client.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
    if code != 250:
        raise KnowrepoError(where, f"message refused: {code} {reply.decode(errors='replace')}")
