"""Callouts: the boxed notes, tips and warnings authors write in four syntaxes, as one HTML shape.

- GitHub alerts: `> [!NOTE]` (markdown-it-py's own alert rule finds them);
- MkDocs / Python-Markdown admonitions: `!!! warning "Title"`, collapsible `??? note` and
  `???+ note` (mdit-py-plugins' admon rule finds them);
- MyST directives: `:::{tip}` and ```` ```{note} ```` with an optional title and `:class:`
  options (a block rule here: mdit-py-plugins' colon_fence keeps its content as code text);
- Quarto callouts: `::: {.callout-note}` with `title="..."`, a leading `## Title`, `collapse=`.

Each syntax is a markdown-it-py plugin of its own (knowrepo.builtins registers them), and each
gives the same tokens, so that one stylesheet draws them all:
`<div class="callout callout-note" role="note"><p class="callout-title">Note</p>...</div>`, or
for a collapsible one `<details class="callout callout-note"><summary class="callout-title">`.
The five kinds are GitHub's; the other syntaxes' types map onto them as mkdocs-material and the
Sphinx themes colour them (info is a note, hint a tip, danger and error a caution). A type no
syntax knows (`!!! foo`, `.callout-foo`) is drawn as a note and noted in env["warnings"] with its
line, which markdown.py reports.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token

KINDS = ("note", "tip", "important", "warning", "caution")
# Each kind's other names: mkdocs-material's types and aliases, and docutils' admonitions
# (MyST), coloured as those themes colour them.
_ALIASES = {
    "note": (
        "admonition", "info", "todo", "seealso", "abstract", "summary", "tldr", "question", "help",
        "faq", "example", "quote", "cite",
    ),
    "tip": ("hint", "success", "check", "done"),
    "important": (),
    "warning": ("attention",),
    "caution": ("danger", "error", "failure", "fail", "missing", "bug"),
}  # fmt: skip
KIND_OF = {name: kind for kind, names in _ALIASES.items() for name in (kind, *names)}
_TITLES = {"seealso": "See also", "tldr": "TL;DR", "faq": "FAQ", "todo": "To do"}


@dataclass(frozen=True)
class Callout:
    """One callout as its syntax states it: its type as written, its title ("" for none) and
    whether it folds (None; "open" or "closed")."""

    name: str
    title: str | None = None  # None: the type's own title
    collapse: str | None = None

    @property
    def kind(self) -> str:
        return KIND_OF.get(self.name.lower(), "note")

    @property
    def heading(self) -> str:
        """The title shown: the author's, else the type's name ("Danger" for `!!! danger`)."""
        if self.title is not None:
            return self.title
        name = self.name.lower()
        return _TITLES.get(name, name.replace("-", " ").replace("_", " ").capitalize())


def unknown_type(callout: Callout) -> str | None:
    """The warning for a type no syntax knows (drawn as a note), or None."""
    if callout.name.lower() in KIND_OF:
        return None
    known = f"({', '.join(KINDS)}, or an alias)"
    return f"callout type '{callout.name}' is not one knowrepo knows {known}; shown as a note"


def _warn(env: Any, line: int | None, message: str | None) -> None:
    """Collect a warning where the Markdown renderer reads them: env["warnings"], each (its
    line in the text from 0, or None; the message)."""
    if message is not None and isinstance(env, dict):
        env.setdefault("warnings", []).append((line, message))


def _set_open(token: Token, callout: Callout) -> None:
    """`token` as the callout's opening tag."""
    token.type, token.block = "callout_open", True
    if callout.collapse:
        token.tag = "details"
        token.attrs = {"class": f"callout callout-{callout.kind}"}
        if callout.collapse == "open":
            token.attrs["open"] = ""
    else:
        token.tag = "div"
        token.attrs = {"class": f"callout callout-{callout.kind}", "role": "note"}
    token.meta = {**(token.meta or {}), "callout": callout}


def _set_title(token: Token, callout: Callout) -> None:
    """`token` (an opening or closing one) as the callout's title tag."""
    token.type = "callout_title_open" if token.nesting == 1 else "callout_title_close"
    token.tag = "summary" if callout.collapse else "p"
    token.attrs = {"class": "callout-title"} if token.nesting == 1 else {}


def _set_close(token: Token, callout: Callout) -> None:
    token.type, token.tag, token.attrs = "callout_close", "details" if callout.collapse else "div", {}


def _title_tokens(
    make: Callable[[str, str, Literal[-1, 0, 1]], Token], callout: Callout, line: int
) -> list[Token]:
    """The title as tokens (its text parsed as inline Markdown later, by the inline rule)."""
    opening, text, closing = make("callout_title_open", "p", 1), make("inline", "", 0), make("", "p", -1)
    text.content, text.children, text.map = callout.heading, [], [line, line + 1]
    opening.map = [line, line + 1]
    opening.block = closing.block = True
    _set_title(opening, callout)
    _set_title(closing, callout)
    return [opening, text, closing]


# ---- GitHub alerts: markdown-it-py 4 finds them (the marker line alone, as GitHub parses it)

_NOT_AN_ALERT = re.compile(r"\[!([A-Za-z]+)\][ \t]*(?:\n|$)")


def github_alerts_plugin(md: MarkdownIt) -> None:
    """`> [!NOTE]`, `> [!TIP]`, `> [!IMPORTANT]`, `> [!WARNING]`, `> [!CAUTION]` as callouts.
    Any other `[!WORD]` stays a quote, as on GitHub (with a warning naming it)."""
    md.options["alerts"] = True
    md.core.ruler.after("block", "github_callouts", _github_callouts)


def _github_callouts(state: StateCore) -> None:
    stack: list[Callout] = []
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "alert_open":
            stack.append(Callout(str(token.meta.get("kind", token.info)).lower()))
            _set_open(token, stack[-1])
        elif token.type in ("alert_title_open", "alert_title_close") and stack:
            _set_title(token, stack[-1])
        elif token.type == "alert_close" and stack:
            _set_close(token, stack.pop())
        elif token.type == "blockquote_open" and i + 2 < len(tokens) and tokens[i + 2].type == "inline":
            _warn(state.env, token.map[0] if token.map else None, _quote_marker(tokens[i + 2].content))


def _quote_marker(text: str) -> str | None:
    """The warning for a quote that opens with an alert marker GitHub does not know."""
    match = _NOT_AN_ALERT.match(text)
    if match is None:
        return None
    return (
        f"'[!{match.group(1)}]' is not a GitHub alert type (NOTE, TIP, IMPORTANT, WARNING, "
        "CAUTION); shown as a quote, as GitHub does"
    )


# ---- MkDocs / Python-Markdown admonitions: mdit-py-plugins' admon rule finds them


def mkdocs_admonitions_plugin(md: MarkdownIt) -> None:
    """`!!! type "Title"` (indented body), `!!! type ""` (no title), `??? type` (folded) and
    `???+ type` (open)."""
    # (mdit-py-plugins: only where a Markdown parser is made, never in the build's main process)
    from mdit_py_plugins.admon import admon_plugin

    md.use(admon_plugin)
    md.core.ruler.after("block", "mkdocs_callouts", _mkdocs_callouts)


def _admonition(token: Token) -> Callout:
    """The callout an admonition_open token states (its markup `!!!`, `???` or `???+`)."""
    collapse = {"???": "closed", "???+": "open"}.get(token.markup)
    return Callout(str(token.meta.get("tag", "note")), token.content or "", collapse)


def _mkdocs_callouts(state: StateCore) -> None:
    # (markdown-it-py: loaded already by the parser running this rule)
    from markdown_it.token import Token

    stack: list[Callout] = []
    out: list[Token] = []
    for token in state.tokens:
        out.append(token)
        if token.type == "admonition_open":
            stack.append(_admonition(token))
            _warn(state.env, token.map[0] if token.map else None, unknown_type(stack[-1]))
            _set_open(token, stack[-1])
            if stack[-1].collapse and not stack[-1].title:  # a <details> needs its <summary>
                stack[-1] = replace(stack[-1], title=None)
                out += _title_tokens(Token, stack[-1], token.map[0] if token.map else 0)
        elif token.type in ("admonition_title_open", "admonition_title_close") and stack:
            _set_title(token, stack[-1])
        elif token.type == "admonition_close" and stack:
            _set_close(token, stack.pop())
    state.tokens = out


# ---- Fenced callouts (MyST, Quarto): one block rule each, over the same fence scanning.
# Hand-written rather than mdit-py-plugins' colon_fence, which keeps a fence's content as code
# text: here the body is parsed in place, as Markdown of the document (nested callouts, lists,
# math), so that its tokens carry their real lines.

_OPENING = re.compile(r"(?P<marker>:{3,}|`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)")
# A callout's body header: which lines are not body, and what they say about the callout.
Header = Callable[[list[str], Callout], tuple[Callout, int]]
Opening = Callable[[str, str], "Callout | None"]


def _line(state: StateBlock, line: int) -> str:
    """A line's text, from its first non-blank character."""
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _fence_rule(
    opening: Opening, header: Header, syntax: str, needs_close: bool
) -> Callable[[StateBlock, int, int, bool], bool]:
    """A block rule for fenced callouts: `opening(marker, info)` says whether (and which) a
    fence's first line opens; `header(lines, callout)` reads the body's first lines. A fence
    never closed runs to the end (MyST's, as a code fence does), or with `needs_close` is no
    callout (Quarto's: Pandoc shows an unclosed div as text); either way with a warning."""

    def rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if state.is_code_block(start):
            return False
        match = _OPENING.fullmatch(_line(state, start).rstrip())
        if match is None or (match["marker"][0] == "`" and "`" in match["info"]):
            return False
        callout = opening(match["marker"][0], match["info"].strip())
        if callout is None:
            return False
        close = _closing_line(state, start, end, match["marker"])
        if close is None and not silent:
            shown = "shown as text, as Pandoc does" if needs_close else "it runs to the end"
            fence, marker = _line(state, start).strip(), match["marker"]
            _warn(
                state.env, start, f"{syntax} callout '{fence}' is never closed (no '{marker}' line); {shown}"
            )
        if close is None and needs_close:
            return False
        if not silent:
            _tokenize_fenced(
                state, start, end if close is None else close, close is not None, callout, header
            )
        return True

    return rule


def _closing_line(state: StateBlock, start: int, end: int, marker: str) -> int | None:
    """The line that closes the fence opened at `start`, or None (it runs to the end). Colon
    fences nest as Pandoc's divs do (an inner `::: {...}` takes the next bare `:::`);
    backtick and tilde fences end at the first bare fence as long, as CommonMark's do."""
    depth = 0
    for line in range(start + 1, end):
        if state.sCount[line] < state.blkIndent and _line(state, line):
            return None  # (a line outdented out of the list or quote the fence is in)
        if state.is_code_block(line):
            continue
        match = _OPENING.fullmatch(_line(state, line).rstrip())
        if match is None or match["marker"][0] != marker[0] or len(match["marker"]) < len(marker):
            continue
        if match["info"].strip():
            depth += marker[0] == ":"
        elif depth:
            depth -= 1
        else:
            return line
    return None


def _tokenize_fenced(
    state: StateBlock, start: int, last: int, closed: bool, callout: Callout, header: Header
) -> None:
    """The callout's tokens, its body (the lines before `last`) parsed as Markdown in place."""
    callout, skipped = header([_line(state, line) for line in range(start + 1, last)], callout)
    _warn(state.env, start, unknown_type(callout))
    opening = state.push("callout_open", "div", 1)
    opening.map = [start, last + closed]
    _set_open(opening, callout)
    if callout.heading:
        _title_tokens(state.push, callout, start)  # (pushed in place)
    parent, line_max = state.parentType, state.lineMax
    state.parentType, state.lineMax = "callout", last  # (a lazy line never runs past the fence)
    state.md.block.tokenize(state, start + 1 + skipped, last)
    state.parentType, state.lineMax = parent, line_max
    _set_close(state.push("callout_close", "div", -1), callout)
    state.line = last + closed


# ---- MyST: :::{note} Title / ```{note} Title, then :key: value options (or a --- block)

_DIRECTIVE = re.compile(r"\{(?P<name>[A-Za-z][\w-]*)\}(?:[ \t]+(?P<argument>.*))?")
_OPTION = re.compile(r":(?P<key>[A-Za-z][\w-]*):(?:[ \t]+(?P<value>.*))?")
_YAML_OPTION = re.compile(r"(?P<key>[A-Za-z][\w-]*)[ \t]*:(?:[ \t]+(?P<value>.*))?")


def myst_opening(marker: str, info: str) -> Callout | None:
    """`{note}`, `{warning} A title`, `{admonition} A title`: a callout; any other directive
    (`{figure}`, `{code-cell}`) is not one, and is left to whatever else reads it."""
    match = _DIRECTIVE.fullmatch(info)
    if match is None:
        return None
    name, argument = match["name"].lower(), (match["argument"] or "").strip()
    if name == "admonition":  # Sphinx's generic one: its title, its kind from its :class:
        return Callout(name, argument or None)
    return Callout(name, argument or None) if name in KIND_OF else None


def myst_header(lines: list[str], callout: Callout) -> tuple[Callout, int]:
    """The options at the top of a directive's body: `:class: dropdown` folds it (`:open:`
    unfolds it), a class naming a kind colours a generic admonition; other options (`:name:`,
    `:icon:`...) are read and left aside, as a theme without them would."""
    options, skipped = {}, 0
    if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
        skipped = 2 + [line.strip() for line in lines[1:]].index("---")
        pairs = (_YAML_OPTION.fullmatch(line.strip()) for line in lines[1 : skipped - 1])
    else:
        while skipped < len(lines) and _OPTION.fullmatch(lines[skipped].strip()):
            skipped += 1
        pairs = (_OPTION.fullmatch(line.strip()) for line in lines[:skipped])
    for pair in pairs:
        if pair is not None:
            options[pair["key"].lower()] = (pair["value"] or "").strip()
    classes = options.get("class", "").lower().split()
    if "dropdown" in classes:
        callout = replace(callout, collapse="open" if "open" in options else "closed")
    kinds = [name for name in classes if name in KIND_OF]
    if kinds and callout.name == "admonition":
        callout = replace(callout, name=kinds[0])
    return callout, skipped


def myst_callouts_plugin(md: MarkdownIt) -> None:
    """MyST's admonition directives in colon fences (`:::{tip}`) and backtick or tilde fences
    (```` ```{note} ````): note, tip, important, warning, caution, and docutils' others
    (attention, danger, error, hint, seealso, admonition)."""
    alt = ["paragraph", "reference", "blockquote", "list", "footnote_def"]
    md.block.ruler.before(
        "fence", "myst_callout", _fence_rule(myst_opening, myst_header, "MyST", False), {"alt": alt}
    )


# ---- Quarto: ::: {.callout-note title="..." collapse="true"}, or a first `## Title` line

_HEADING = re.compile(r"#{1,6}[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*")


def quarto_opening(marker: str, info: str) -> Callout | None:
    """A colon fence whose attributes hold a `callout-TYPE` class (Pandoc's `{...}` or a bare
    class word); any other div is not a callout."""
    # (mdit-py-plugins: only where a Markdown parser runs)
    from mdit_py_plugins.attrs.parse import ParseError, parse

    if marker != ":":
        return None
    if info.startswith("{"):
        try:
            end, attributes = parse(info)
        except ParseError:
            return None  # (an unclosed {: text, as Pandoc shows it)
        if info[end + 1 :].strip():  # (parse gives the index of the closing brace)
            return None
    else:
        attributes = {"class": info}
    names = [name for name in attributes.get("class", "").split() if name.startswith("callout-")]
    if not names or not names[0][len("callout-") :]:
        return None
    collapse = {"true": "closed", "false": "open"}.get(attributes.get("collapse", "").lower())
    return Callout(names[0][len("callout-") :], attributes.get("title"), collapse)


def quarto_header(lines: list[str], callout: Callout) -> tuple[Callout, int]:
    """A first heading is the title (when `title=` gave none)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if callout.title is not None or first is None:
        return callout, 0
    heading = _HEADING.fullmatch(lines[first].strip())
    return (replace(callout, title=heading["text"]), first + 1) if heading else (callout, 0)


def quarto_callouts_plugin(md: MarkdownIt) -> None:
    """Quarto's callouts: `::: {.callout-note}` ... `:::` (note, tip, important, warning,
    caution)."""
    alt = ["paragraph", "reference", "blockquote", "list", "footnote_def"]
    md.block.ruler.before(
        "fence", "quarto_callout", _fence_rule(quarto_opening, quarto_header, "Quarto", True), {"alt": alt}
    )


# ---- For `knowrepo check`: each callout (text in the old dialect) and each warning, by line


@functools.cache
def _checker() -> MarkdownIt:
    """CommonMark with the four callout syntaxes alone: what `check` reads callouts with."""
    from markdown_it import MarkdownIt  # (markdown-it-py: only where Markdown is checked)

    md = MarkdownIt("commonmark")
    for plugin in (
        github_alerts_plugin,
        mkdocs_admonitions_plugin,
        myst_callouts_plugin,
        quarto_callouts_plugin,
    ):
        md.use(plugin)
    return md


def callout_changes(text: str) -> list[tuple[int, str]]:
    """(line, from 0; what) for each callout in `text`, which knowrepo's Markdown before
    CommonMark showed as text, and for each warning the callouts' rules give (E190-E192)."""
    if not any(mark in text for mark in ("[!", "!!!", "???", ":::", "{")):
        return []
    env: dict[str, Any] = {}
    lines, found = text.splitlines(), []
    for token in _checker().parse(text, env):
        if token.type == "callout_open" and token.map:
            written = lines[token.map[0]].strip()
            found.append(
                (token.map[0], f"'{written}' was text, is now a callout ({token.meta['callout'].kind})")
            )
    return found + [(line, message) for line, message in env.get("warnings", []) if line is not None]
