"""`knowrepo email`: (re)run if asked, export each variant's PDF, then mail them all.

Every message is built (every PDF rendered) before the first one is sent, so a report that
fails to export stops the command before anyone receives anything.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from knowrepo.errors import KnowrepoError
from knowrepo.exports.bodies import export_pdf, exports_for
from knowrepo.exports.smtp import build_message, recipients, send


def _subject(template: str, title: str, variant: str, params: dict[str, Any], date: str) -> str:
    if template:
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return template
    return title + (f" ({variant})" if variant else "") + (f", {date}" if date else "")


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
    reporter: Any,
) -> list[str]:
    """Send (or with dry_run, write as .eml) one email per exported variant; returns what was done."""
    run_ids: list[str | None] = [run_id]
    if rerun:
        from knowrepo.commands.run import RunOptions, run_reports

        records = run_reports(
            root, RunOptions(report=name, assignments=assignments, variants=variants, force=True), reporter
        )
        failed = [r for r in records if r["status"] != "ok"]
        if failed:
            error = failed[0].get("error") or {}
            raise KnowrepoError(
                failed[0]["source"],
                f"the rerun of variant '{failed[0]['variant']}' failed "
                f"({error.get('ename')}: {error.get('evalue')}); nothing was sent",
            )
        run_ids = [r["id"] for r in records]
    exports = []
    config = None
    for one in run_ids:
        config, found = exports_for(root, name, one, () if one else variants, reporter)
        exports += found
    assert config is not None
    sender = config.email.sender or (
        config.email.user if "@" in config.email.user else f"knowrepo@{socket.getfqdn()}"
    )
    messages = []
    for item in exports:
        pdf = export_pdf(root, config, item)
        front = item.report.meta.email
        variant_name = (item.run or {}).get("variant", "")
        to_list, cc_list, template = recipients(front, variant_name, to, cc, item.report.source)
        date = ((item.run or {}).get("started") or item.report.date)[:10]
        link = None
        if config.site.absolute_url:
            link = (
                config.site.absolute_url
                + item.report.slug
                + "/"
                + (f"v/{item.variant}/" if item.variant else "")
            )
        message = build_message(
            sender=sender,
            to=to_list,
            cc=cc_list,
            subject=_subject(
                template, item.report.meta.title, item.variant, (item.run or {}).get("params", {}), date
            ),
            title=item.report.meta.title + (f" ({item.variant})" if item.variant else ""),
            summary=item.report.meta.summary,
            run=item.run,
            link=link,
            pdf=pdf,
            filename=item.file_name,
        )
        messages.append((item, message))
    done = []
    for item, message in messages:
        if dry_run:
            output.mkdir(parents=True, exist_ok=True)
            target = output / (item.file_name.removesuffix(".pdf") + ".eml")
            target.write_bytes(message.as_bytes())
            done.append(f"wrote {target} (to {message['To']})")
        else:
            send(message, config.email, reporter.warn)
            done.append(
                f"sent {item.file_name} to {message['To']}"
                + (f", cc {message['Cc']}" if message["Cc"] else "")
            )
    return done
