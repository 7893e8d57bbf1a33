"""Email addresses, checked where they are written (front matter, knowrepo.toml, --to), so
that nothing connects to a server with an address it would send as `RCPT TO:<garbage>`.

The stdlib's RFC 5322 parser (the one EmailMessage uses for its headers) reads them, with
display names (`Ana Lopez <ana@example.com>`, `"Lopez, Ana" <ana@example.com>`); what it
flags as a defect is refused rather than guessed at.
"""

from __future__ import annotations

import re
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from typing import cast

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_HEADERS = HeaderRegistry()
# An address with its display name; SMTP's own limit for the address is 256. (The parser slows
# down without bound on long garbage: 50,000 quotes did not finish in two minutes.)
MAX_LENGTH = 320


def parse_address(text: str) -> Address | str:
    """The one address `text` names, or why it names none (a phrase: "is not ...")."""
    if not isinstance(text, str) or not text.strip():
        return "is not an email address"
    if len(text) > MAX_LENGTH:
        return f"is not an email address (longer than {MAX_LENGTH} characters)"
    if _CONTROL.search(text):
        return "is not an email address (it holds a line break or control character)"
    try:
        header = _HEADERS("To", text)
        to = cast(AddressHeader, header)  # (a "To" header is one; the registry's stubs say BaseHeader)
        addresses, defects = to.addresses, header.defects
        group = to.groups[0].display_name if to.groups else None
    except Exception:  # noqa: BLE001 - the stdlib parser raises IndexError, TypeError... on garbage
        return "is not an email address"
    if len(addresses) != 1 or group is not None:  # (a group: `team: a@x.com;`)
        return "is not one email address (give one address per item)"
    (address,) = addresses
    if defects or not address.username or not address.domain:
        return "is not an email address"
    if not address.addr_spec.isascii():
        return "is not an ASCII email address (write an international domain in its xn-- form)"
    return address


def address_problem(text: str) -> str | None:
    """Why `text` is not one email address, or None when it is one."""
    found = parse_address(text)
    return found if isinstance(found, str) else None


def shown(text: object) -> str:
    """A value as an error line quotes it: repr'd (a line break shows as \\n), kept short."""
    return repr(str(text)[:80])
