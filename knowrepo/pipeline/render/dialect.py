"""Where Markdown written for knowrepo's old dialect (Python-Markdown, with its extra) renders
differently now that it is read as CommonMark with GitHub's extensions: `knowrepo check`
names each place as a warning, so that an author can look at it once.

Found by the known shapes of the change, read from markdown-it-py's tokens (their line maps
give the lines) rather than by rendering with both dialects: that would keep Python-Markdown,
and the workarounds knowrepo had for it, as a dependency for this alone, and compare HTML that
differs everywhere in small ways no reader sees (quotes, ids). The shapes are those that
change what a block is: a list or table right after a line of text, two quotes a blank line
apart, `#Title`, `~~struck~~`, task lists, a bare `\\begin{env}`, and what Python-Markdown's
"extra" read (definition lists, `{: attribute lists}`, `*[abbreviations]`).
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import TYPE_CHECKING

from knowrepo.pipeline.render import syntax

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# What each change is, as `check` says it: what the old dialect made of it, what it is now.
LIST = "a list right after a line of text was part of that paragraph, is now a list"
TABLE = "a table right after a line of text was text, is now a table"
QUOTES = "a quote a blank line after another was one quote with it, is now a quote of its own"
TASK = "a task list item (- [ ] or - [x]) was text, is now a checkbox"
STRUCK = "~~text~~ was shown as written, is now struck through"
ENVIRONMENT = "a \\begin{...} formula without $$ was text, is now a formula"
BREAK = "a backslash at the end of a line was shown, is now a line break"
# Shapes of one line of a paragraph or heading.
_LINE_SHAPES = [
    (
        re.compile(r"^ {0,3}#{1,6}[^#\s]"),
        "`#Title` without a space was a heading, is now text (write `# Title`)",
    ),
    (re.compile(r"^ {0,3}: {1,3}\S"), "`: definition` under a term was a definition list, is now text"),
    (
        re.compile(r"\{:?\s*[#.][\w-][^}]*\}\s*$"),
        "an attribute list {: ...} was applied to its block, is now text",
    ),
    (re.compile(r"^\*\[[^\]]+\]:"), "an abbreviation *[...]: was applied, is now text"),
    (re.compile(r"\\$"), BREAK),
]

# Quarto's ids that the 'floats' body pass reads (render/floats.py): a heading's `{#sec-x}`, an
# image's `{#fig-x}`, a table caption's `: Caption {#tbl-x}`. They are no attribute lists.
_FLOATS = re.compile(r"^ {0,3}#{1,6}\s.*\{#[^\s}]+[^}]*\}\s*$|\]\([^)]*\)\{#fig-|^ {0,3}:\s.*\{#tbl-")


@functools.cache
def _parser() -> MarkdownIt:
    """CommonMark with the built-in syntax that changes blocks (no math: it is masked first)."""
    from markdown_it import MarkdownIt  # (markdown-it-py: only where Markdown is checked)

    md = MarkdownIt("commonmark")
    for plugin in (syntax.tables, syntax.strikethrough, syntax.tasklists):
        md.use(plugin)
    return md


def _blank(match: re.Match[str]) -> str:
    """A formula as as many `x` as it has characters, its line breaks kept."""
    return re.sub(r"[^\n]", "x", match.group(0))


def _formula(match: re.Match[str]) -> str:
    """A match of syntax.MATH blanked if it is a formula (code, links, `\\$` kept)."""
    if match.group("fence") or match.group("code") or match.group("link") or match.group("dollar"):
        return match.group(0)
    return _blank(match)


def _masked(text: str) -> tuple[str, list[int]]:
    """The text with each formula blanked (its lines kept, so that line numbers hold), and the
    lines where a bare \\begin{env} starts."""
    masked = syntax.MATH.sub(_formula, text)
    starts = [m.start() for m in syntax.environments(masked)]
    lines = [masked.count("\n", previous, start) for previous, start in itertools.pairwise([0, *starts])]
    return syntax.replace_environments(masked, _blank), list(itertools.accumulate(lines))


def dialect_changes(text: str) -> list[tuple[int, str]]:
    """(line, from 0, what changed) for each block of `text` that the old dialect rendered
    otherwise, in order."""
    if not text.strip():
        return []
    masked, environments = _masked(text)
    lines = masked.split("\n")
    found = [(line, ENVIRONMENT) for line in environments]
    tokens = _parser().parse(masked)
    found += _interruptions(tokens)
    for token in tokens:
        if token.type == "list_item_open" and token.meta and "checked" in token.meta and token.map:
            found.append((token.map[0], TASK))
        elif token.type == "inline" and token.map:
            found += _inline(token, lines)
    return sorted(set(found))


def _interruptions(tokens: list[Token]) -> list[tuple[int, str]]:
    """Blocks that start on the line after a paragraph, or a quote after a quote."""
    found = []
    in_item = 0
    for index, token in enumerate(tokens):
        in_item += {"list_item_open": 1, "list_item_close": -1}.get(token.type, 0)
        if token.nesting != 1 or not token.map or index == 0:
            continue
        before = _previous_sibling(tokens, index)
        if before is None or not before.map:
            continue
        touching = before.map[1] == token.map[0]
        after_text = before.type == "paragraph_open" and touching
        if token.type in ("bullet_list_open", "ordered_list_open") and after_text and not in_item:
            found.append((token.map[0], LIST))
        elif token.type == "table_open" and after_text:
            found.append((token.map[0], TABLE))
        elif token.type == "blockquote_open" and before.type == "blockquote_open":
            found.append((token.map[0], QUOTES))
    return found


def _previous_sibling(tokens: list[Token], index: int) -> Token | None:
    """The opening (or only) token of the block before tokens[index] in the same parent
    (None: it is the first there)."""
    level = tokens[index].level
    for token in reversed(tokens[:index]):
        if token.level < level:
            return None
        if token.level == level and token.nesting >= 0:
            return token
    return None


def _inline(token: Token, lines: list[str]) -> list[tuple[int, str]]:
    """Shapes inside a paragraph or heading: struck text, and what Python-Markdown read in it."""
    assert token.map is not None
    start, found = token.map[0], []
    if any(child.type == "s_open" for child in token.children or []):
        struck = next((i for i, line in enumerate(lines[start : token.map[1]]) if "~" in line), 0)
        found.append((start + struck, STRUCK))
    for offset, line in enumerate(lines[token.map[0] : token.map[1]]):
        last = start + offset + 1 == token.map[1]
        if _FLOATS.search(line):  # (read by the 'floats' body pass, as Quarto reads it)
            continue
        for pattern, shape in _LINE_SHAPES:
            if pattern.search(line) and not (shape is BREAK and last):
                found.append((start + offset, shape))
                break
    return found
