"""Nested lists as Jupyter (CommonMark) reads them, for Python-Markdown.

CommonMark nests a list item under another when it starts at or past the parent's content
column: two spaces under `- `, three under `1. `. Python-Markdown wants four spaces per level,
so notebook prose written for Jupyter comes out flat. No maintained Python-Markdown extension
does CommonMark's rule (mdx_truly_sane_lists fixes one indent width for the whole document),
so this re-indents list blocks, and what belongs to their items, to Python-Markdown's four.
"""

from __future__ import annotations

import re

_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +|$)")
_RULE = re.compile(r"^ {0,3}([-*_])( *\1){2,} *$")
_FENCE = re.compile(r"^ *(```|~~~)")
TAB = 4  # Python-Markdown's tab_length


def four_space_lists(text: str) -> str:
    """`text` with every list item nested by its CommonMark column, at four spaces a level."""
    if not re.search(r"^ *([-*+]|\d{1,9}[.)]) ", text, re.M):
        return text
    out: list[str] = []
    stack: list[tuple[int, int]] = []  # per open item: (its content column, where its blocks go now)
    fence: str | None = None
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if not stripped:
            out.append(line)
            continue
        if fence is None:
            while stack and indent < stack[-1][0]:
                stack.pop()
        item = None if fence is not None or _RULE.match(line) else _ITEM.match(line)
        if item:
            width = len(item.group(2)) + len(item.group(3))
            new = stack[-1][1] if stack else indent
            stack.append((indent + width, new + TAB))
            line = " " * new + stripped
        elif stack and indent >= stack[-1][0]:  # the item's own paragraph, code or fence
            line = " " * (stack[-1][1] + indent - stack[-1][0]) + stripped
        if (opened := _FENCE.match(line)) and fence is None:
            fence = opened.group(1)
        elif fence is not None and stripped.startswith(fence):
            fence = None
        out.append(line)
    return "\n".join(out)
