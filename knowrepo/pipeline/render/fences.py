"""Fenced code that is indented (inside a list item, as Jupyter's Markdown allows) as code.

Python-Markdown's fenced_code reads a fence only at the start of a line, so a fence inside a
list item ("1. Install:" then "   ```bash") came out as inline code that swallowed the next
items. pymdownx.superfences reads them but also took a fence written right after a line of
text into that paragraph (a common notebook pattern), so this lifts each indented fence out
itself: the code goes to a callback (which highlights it as codehilite would) and a token,
alone in its paragraph at the fence's indentation, marks where the block goes back.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_OPEN = re.compile(r"^( *)(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$")


def lift_indented_fences(text: str, lift: Callable[[str, str], str]) -> str:
    """`text` with each fence indented by a space or more replaced by lift(lang, code), a token
    that must survive Markdown (the caller puts the highlighted block back in its place).
    Fences at the start of a line are Python-Markdown's, with everything inside them."""
    if "```" not in text and "~~~" not in text:
        return text
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        opened = _OPEN.match(lines[i])
        if not opened:
            out.append(lines[i])
            i += 1
            continue
        indent, fence, lang = len(opened.group(1)), opened.group(2), opened.group(3)
        closing = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), len(lines))
        if indent == 0:  # Python-Markdown reads this one (and what is inside it stays as written)
            out += lines[i : end + 1]
        else:
            code = [_dedent(line, indent) for line in lines[i + 1 : end]]
            out += ["", " " * indent + lift(lang, "\n".join(code)), ""]
        i = end + 1
    return "\n".join(out)


def _dedent(line: str, indent: int) -> str:
    """A code line without the fence's indentation (CommonMark: up to that many spaces)."""
    strip = min(indent, len(line) - len(line.lstrip(" ")))
    return line[strip:]
