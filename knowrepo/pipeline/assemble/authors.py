"""One author identity per person: knowledge-repo and git write usernames (`sarah.chen`,
`ken_okafor`, `ken.okafor@corp.example`), front matter often the full name (`Ken Okafor`).
Every place that shows or counts authors (cards, report pages, author pages and their listing,
the search page's filter, the feed, the PDF) shows a username as a readable name, so that the
two spellings of one person are one name, one author page and one filter value.

A name is taken per name, never from other reports: a page is a function of its own report
(its cache key holds nothing else), so a username cannot borrow the spelling another report
gives (`jose.garcia` reads "Jose Garcia", not "José García"; both still share their author
page, whose slug folds accents)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowrepo.pipeline.assemble.links import slug_text

# A username: lower-case letters and digits in words joined by '.', '_' or '-' (no space, no
# capital: a name someone spelt out is shown as they spelt it).
_USERNAME = re.compile(r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*")
_EMAIL = re.compile(r"([^\s@]+)@[^\s@]+\.[^\s@]+")


def author_name(name: str) -> str:
    """The name shown for an author as written: `sarah.chen` -> Sarah Chen, `j.smith` -> J.
    Smith, `ken.okafor@corp.example` -> Ken Okafor; a spelt-out name as it is."""
    name = " ".join(name.split())
    if email := _EMAIL.fullmatch(name):
        name = email.group(1)
    if not _USERNAME.fullmatch(name):
        return name
    words = [w for w in re.split(r"[._-]+", name) if w]
    return " ".join(f"{w.upper()}." if len(w) == 1 else w.capitalize() for w in words)


def author_key(name: str) -> str:
    """The identity of an author: equal for every spelling of one person (the author page's slug)."""
    return slug_text(author_name(name))


def author_names(names: Iterable[str]) -> list[str]:
    """The names shown for a report's authors, each person once, in their order."""
    shown: dict[str, str] = {}
    for name in names:
        shown.setdefault(author_key(name), author_name(name))
    return list(shown.values())
