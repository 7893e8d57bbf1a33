"""The text of a rendered body, edited where a reader reads it as prose: never inside code,
preformatted text, links, math, scripts or styles, nor inside a tag's attributes.

Cross-references (`@fig-x`) and citations (`[@key]`) are written in prose; the same characters
in a code sample, a link's text or an e-mail address are not references. A regex over the
whole body cannot tell those apart, and an HTML parser re-serialising the body costs ~30% of a
render (shared/NOTES.md): this walks the body's tags once and hands each stretch of prose text
to a function, leaving every tag byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A tag (its quoted attribute values whole, so a `>` inside one ends nothing) or a comment.
_TAG = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][\w:-]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.S)
# Elements whose text is not prose.
NOT_PROSE = frozenset({"code", "pre", "a", "script", "style", "math", "svg", "textarea", "kbd", "samp"})


def map_prose(body: str, edit: Callable[[str], str], skip: frozenset[str] = NOT_PROSE) -> str:
    """`body` with each stretch of prose text (HTML-escaped, as it stands in the body) replaced
    by `edit(text)`; tags and the text inside `skip` elements stay as they are."""
    out: list[str] = []
    depth = 0  # how many `skip` elements are open around the text
    at = 0
    for match in _TAG.finditer(body):
        text = body[at : match.start()]
        out.append(edit(text) if text and not depth else text)
        name = (match.group(2) or "").lower()
        if name in skip and not match.group(0).endswith("/>"):
            depth = max(0, depth - 1) if match.group(1) else depth + 1
        out.append(match.group(0))
        at = match.end()
    tail = body[at:]
    out.append(edit(tail) if tail and not depth else tail)
    return "".join(out)


_TAGS_ONLY = re.compile(r"<[^>]*>")


def plain(fragment: str) -> str:
    """An HTML fragment's text, its tags left out and its spaces collapsed (still escaped)."""
    return " ".join(_TAGS_ONLY.sub("", fragment).split())
