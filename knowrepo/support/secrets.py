"""Private parameter values (`private_params`): the one mask, and finding them in any text.

A private value is passed to the kernel and nowhere else: every record, page, download, cache
and message shows `***` in its place. This module knows how a value looks in the text an output
or a file holds (as it is, repr'd, JSON-, HTML-escaped, URL-quoted) and replaces every form.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SCRUBBED = 4  # shorter private values are not searched for in outputs (they would mask everything)


def masked(params: dict[str, Any], private: tuple[str, ...]) -> dict[str, Any]:
    """`params` with the value of each private name as ***."""
    return {k: (MASK if k in private else v) for k, v in params.items()}


def secrets_of(params: dict[str, Any], private: tuple[str, ...]) -> list[str]:
    """The texts of the private parameter values (each text inside a list or mapping too),
    longest first, in every form an output shows text: as it is, repr'd, JSON-escaped,
    HTML-escaped and URL-quoted."""
    return secrets_in([params], private)


def secrets_in(sets: Iterable[dict[str, Any]], private: Iterable[str]) -> list[str]:
    """secrets_of over several parameter sets (a report's params and each of its variants)."""
    names = set(private)
    texts: set[str] = set()
    for params in sets:
        for name in names & set(params):
            texts |= _leaves(params[name])
    forms: set[str] = set()
    for text in texts:
        forms |= {text, repr(text)[1:-1], json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
        forms |= {html.escape(text), quote(text), quote_plus(text)}
        forms |= {line.strip() for line in text.splitlines()}  # (a YAML block scalar's lines)
    return sorted((f for f in forms if len(f) >= MIN_SCRUBBED), key=len, reverse=True)


def _leaves(value: Any, budget: int = 20_000) -> set[str]:
    """Every text in a value: itself, or the keys and items of its lists and mappings (at
    most `budget` of them: a YAML alias bomb is refused elsewhere, never walked here)."""
    texts: set[str] = set()
    stack = [value]
    while stack and budget > 0:
        budget -= 1
        item = stack.pop()
        if isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple):
            stack += item
        elif item is not None:
            texts.add(str(item) if not isinstance(item, int) or item.bit_length() < 64 else "")
    return texts - {""}


def joined(*lists: Iterable[str]) -> list[str]:
    """Several lists of secrets as one, longest first (a longer form is replaced before a
    shorter one inside it)."""
    return sorted({text for texts in lists for text in texts}, key=len, reverse=True)


def scrub(value: Any, secrets: list[str]) -> Any:
    """`value` (text, or lists and mappings of it) with every secret replaced by ***."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {scrub(key, secrets): scrub(item, secrets) for key, item in value.items()}
    return value
