"""`knowrepo email`: (re)run if asked, export each variant's PDF, then mail them all.

Every message is built (every PDF rendered) before the first one is sent, so a report that
fails to export stops the command before anyone receives anything.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.errors import KnowrepoError
from knowrepo.exports.bodies import Export, export_pdf, exports_for
from knowrepo.exports.smtp import build_message, recipients, send
from knowrepo.pipeline.execute.runner import RunOptions, run_reports
from knowrepo.plugins import LoadRegistry, Registry
from knowrepo.support.addresses import address_problem, shown
from knowrepo.support.tracebacks import run_error_line

if TYPE_CHECKING:
    from email.message import EmailMessage

    from knowrepo.config import Config
    from knowrepo.support.progress import Reporter


def _subject(template: str, title: str, variant: str, params: dict[str, Any], date: str) -> str:
    """The subject: the front matter's, with each {name} a run parameter (nothing else of
    str.format: `{x.__class__}` is not a way into the program), else the title and date."""
    if template:
        subject = re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), m.group(0))), template)
    else:
        subject = title + (f" ({variant})" if variant else "") + (f", {date}" if date else "")
    return " ".join(subject.split())  # one line: a header never carries a line break


def send_report(
    root: Path,
    name: str,
    *,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    variants: tuple[str, ...],
    run_id: str | None,
    rerun: bool,
    assignments: tuple[str, ...],
    dry_run: bool,
    output: Path,
    reporter: Reporter,
    load_registry: LoadRegistry,
    last_good: bool = False,
) -> list[str]:
    """Send (or with dry_run, write as .eml) one email per exported variant; returns what was done."""
    check_options(to, cc)
    run_ids = _rerun(root, name, variants, assignments, reporter, load_registry) if rerun else [run_id]
    exports: list[Export] = []
    config: Config | None = None
    for one in run_ids:
        config, found = exports_for(
            root, name, one, () if one else variants, reporter, load_registry, last_good
        )
        exports += found
    assert config is not None
    sender, registry = sender_of(config), load_registry()
    messages = [
        (item, message_of(root, config, registry, item, sender, *addressed(item, to, cc))) for item in exports
    ]
    done: list[str] = []
    for item, message in messages:  # every message is made before the first is sent
        if dry_run:
            output.mkdir(parents=True, exist_ok=True)
            target = output / (item.file_name.removesuffix(".pdf") + ".eml")
            target.write_bytes(message.as_bytes())
            done.append(f"wrote {target} (to {message['To']})")
        else:
            send(message, config.email, reporter.warn)
            copy = f", cc {message['Cc']}" if message["Cc"] else ""
            done.append(f"sent {item.file_name} to {message['To']}{copy}")
    return done


def _rerun(
    root: Path,
    name: str,
    variants: tuple[str, ...],
    assignments: tuple[str, ...],
    reporter: Reporter,
    load_registry: LoadRegistry,
) -> list[str | None]:
    """Run the report's variants again; the new runs' ids (any failure: nothing is sent)."""
    options = RunOptions(report=name, assignments=assignments, variants=variants, force=True)
    runs = run_reports(root, options, reporter, load_registry).runs
    for run in runs:
        if not run.ok:
            error = run_error_line(run.error) or "failed"  # (one line, naming the cell)
            raise KnowrepoError(
                run.source, f"the rerun of variant '{run.variant}' failed ({error}); nothing was sent"
            )
    return [run.id for run in runs]


def check_options(to: tuple[str, ...], cc: tuple[str, ...]) -> None:
    """Every --to and --cc one address, before anything renders or connects."""
    for option, values in (("--to", to), ("--cc", cc)):
        for value in values:
            if problem := address_problem(value):
                raise KnowrepoError(None, f"{option} {shown(value)} {problem}")


def sender_of(config: Config) -> str:
    """[email] sender (checked with the config), else the login when it is an address, else
    knowrepo@ this host's name (checked here: a host name need not make an address)."""
    if config.email.sender:
        return config.email.sender
    if config.email.user and address_problem(config.email.user) is None:
        return config.email.user
    sender = f"knowrepo@{socket.getfqdn()}"
    if problem := address_problem(sender):
        raise KnowrepoError("knowrepo.toml", f"[email] sender is unset and {shown(sender)} {problem}")
    return sender


def addressed(item: Export, to: tuple[str, ...], cc: tuple[str, ...]) -> tuple[list[str], list[str], str]:
    """(to, cc, subject template) of one export: the command line's, else its front matter's."""
    run, report = item.run, item.report
    return recipients(report.meta.email, run.variant if run else "", to, cc, report.source)


def message_of(
    root: Path,
    config: Config,
    registry: Registry,
    item: Export,
    sender: str,
    to: list[str],
    cc: list[str],
    subject: str,
    **again: str,
) -> EmailMessage:
    """The email of one export, its PDF attached; `subject` is the front matter's template.
    `again`: the date and message_id of the message when it was first made, to send the same
    message again."""
    run, report = item.run, item.report
    date = ((run.started if run else "") or report.date)[:10]
    link = None
    if config.site.absolute_url:
        link = config.site.absolute_url + report.slug + "/" + (f"v/{item.variant}/" if item.variant else "")
    return build_message(
        sender=sender,
        to=to,
        cc=cc,
        subject=_subject(subject, report.meta.title, item.variant, run.params if run else {}, date),
        title=report.meta.title + (f" ({item.variant})" if item.variant else ""),
        summary=report.meta.summary,
        run=run,
        link=link,
        pdf=export_pdf(root, config, item, registry),
        filename=item.file_name,
        **again,
    )
