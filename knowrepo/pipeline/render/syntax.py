"""knowrepo's Markdown syntax, as markdown-it-py plugins: GitHub's extensions to CommonMark,
math as Jupyter reads it, and fenced code highlighted by Pygments.

Each is a plugin in mdit-py-plugins' convention, `plugin(md, **config)`, which
knowrepo.builtins registers by name (registry.add_markdown) as a third-party plugin registers
its own; markdown.py applies them in order with `md.use(plugin, **config)`. markdown-it-py's
own rules for tables, strikethrough and task lists are switched on here; the parsers of
autolinks and footnotes are mdit-py-plugins'. Only math is knowrepo's (see `math`).

The libraries are imported inside the plugins: the registry is loaded by every process of a
build, and only the ones that render Markdown need them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token
    from pygments.lexer import Lexer

# One regex walks the text once: code or a link's destination (left alone) or math. Inline
# $...$ as Jupyter reads it: `$ x $` with spaces inside is math too; prices like "$5 and $10"
# stay text, since a closing $ is never followed by a digit, nor an opening one ($10. Then
# $x$); never escaped, nor part of a word ("US$"). Inline math may run over a line break (a
# matrix written over lines), never over a blank line.
#
# Each part runs in time linear in the text, whatever its author wrote (20 kB of backticks or of
# `\(` took minutes): a code span opens and closes on whole runs of backticks (as CommonMark's
# do); a fence never closed runs to the end (as CommonMark's does; a line like ```x``` is no
# fence, but code); `\(` and `\[` formulas never hold another opening of their own kind (a
# backslash and what it escapes are read as a pair, so `\\[2pt]` inside one is no opening).
MATH = re.compile(
    r"(?P<fence>^[ \t]*(?P<f>```(?![^\n]*`)|~~~).*?(?:^[ \t]*(?P=f)[ \t]*$|\Z))"
    r"|(?P<code>(?<!`)(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))"
    r"|(?P<link>\]\((?:\\.|[^\\()\s])*\))"  # `](url)`: `\(` in it is an escaped bracket
    r"|\$\$(?P<display>.+?)\$\$"
    r"|\\\[(?P<display2>(?:[^\\]|\\[^\[])+?)\\\]"
    r"|\\\((?P<inline2>(?:[^\\]|\\[^(])+?)\\\)"
    r"|(?P<dollar>\\\$)"  # an escaped dollar: a dollar sign (CommonMark's escape), never math
    r"|(?<![\\$\w])\$(?!\d)(?P<inline>(?=[^$]*?[^\s$])(?:[^$\n]|\n(?![ \t]*\n))+?)(?<!\\)\$(?!\d)",
    re.S | re.M,
)
# An environment alone in its paragraph, as Jupyter's MathJax typesets it without delimiters.
ENVIRONMENT = re.compile(r"^\\begin\{([a-zA-Z]+\*?)\}.*?\\end\{\1\}[ \t]*$", re.S | re.M)  # (on one line too)
_BEGIN = re.compile(r"^\\begin\{([a-zA-Z]+\*?)\}", re.M)
_END = re.compile(r"\\end\{([a-zA-Z]+\*?)\}[ \t]*$", re.M)
# A tag of raw HTML, its quoted attribute values whole; no `<` outside them (20 kB of `<` in a
# block of raw HTML took 20 s, each `<` scanning the rest of the block for a `>`).
_TAG = re.compile(r'<(?:[^<>"\']|"[^"]*"|\'[^\']*\')*>')
_MATH_ENV = "knowrepo_math"  # the key of the formulas in markdown-it's env
_DIRECTIVE = re.compile(r"^[ \t]*(?:```|~~~)\{([\w-]+)\}")  # a MyST directive's fence: ```{note}
_NOT_PROSE = {"code", "code-block", "code-cell", "sourcecode", "literalinclude", "math", "mermaid",
              "raw", "eval-rst", "csv-table", "list-table"}  # fmt: skip

MathRender = Callable[[str, bool], str]  # (TeX, display) -> HTML


# ---- GitHub's extensions ---------------------------------------------------------------------


def tables(md: MarkdownIt) -> None:
    """GFM tables; a wide one scrolls inside a focusable wrapper (keyboard users can scroll it)."""
    md.enable("table")

    def table_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return '<div class="table-scroll" tabindex="0"><table>\n'

    def table_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "</table></div>\n"

    md.add_render_rule("table_open", table_open)
    md.add_render_rule("table_close", table_close)


def strikethrough(md: MarkdownIt) -> None:
    """`~~struck~~`, and `~struck~` as GitHub reads it too: `<del>`, as GitHub writes it."""
    md.enable("strikethrough")
    md.options["strikethrough_single_tilde"] = True

    def opening(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "<del>"

    def closing(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "</del>"

    md.add_render_rule("s_open", opening)
    md.add_render_rule("s_close", closing)


def tasklists(md: MarkdownIt) -> None:
    """`- [x] done` and `- [ ] to do`: a disabled checkbox, as GitHub shows it, named for
    screen readers (an input without a name fails axe's `label` rule)."""
    md.options["tasklists"] = True

    def item(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        opened: str = self.renderToken(tokens, idx, options, env)
        if not token.meta or "checked" not in token.meta:
            return opened
        state = ' checked="" aria-label="done"' if token.meta["checked"] else ' aria-label="not done"'
        return opened + f'<input class="task-list-item-checkbox" disabled="" type="checkbox"{state}> '

    md.add_render_rule("list_item_open", item)


def autolinks(md: MarkdownIt) -> None:
    """Bare `https://...`, `www.` and e-mail addresses link (GFM's autolink extension, as
    GitHub and JupyterLab link them)."""
    from mdit_py_plugins.gfm_autolink import gfm_autolink_plugin  # (see the module's note)

    md.use(gfm_autolink_plugin)


def footnotes(md: MarkdownIt) -> None:
    """`[^1]` and `[^1]: text` (GitHub's footnotes: no inline `^[...]`), numbered as GitHub
    numbers them (1, not [1])."""
    from mdit_py_plugins.footnote import footnote_plugin  # (see the module's note)

    md.use(footnote_plugin, inline=False)
    md.core.ruler.after("normalize", "footnote_ids", _footnote_ids)

    def caption(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        meta = tokens[idx].meta
        number = str(meta["id"] + 1)
        return number + (f":{meta['subId']}" if meta.get("subId", 0) > 0 else "")

    md.add_render_rule("footnote_caption", caption)


def _footnote_ids(state: StateCore) -> None:
    """Footnote ids of their text's own (`fn-1a2b3c-1`): a notebook's cells are rendered one
    by one, and two cells' `fn1` on one page would lead both references to the first."""
    if "[^" in state.src and "docId" not in state.env:
        state.env["docId"] = hashlib.sha1(state.src.encode(), usedforsecurity=False).hexdigest()[:6]


# ---- fenced and indented code ----------------------------------------------------------------


@functools.cache
def _lexer(lang: str) -> Lexer:
    """The Pygments lexer of a fence's language; plain text for none or an unknown one (none
    is guessed: a guess colours prose as code). Blank lines at the ends of the code are kept,
    as CommonMark keeps them."""
    from pygments.lexers import TextLexer, get_lexer_by_name  # (see the module's note)
    from pygments.util import ClassNotFound  # (see the module's note)

    try:
        lexer: Lexer = get_lexer_by_name(lang, stripnl=False) if lang else TextLexer(stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    return lexer


_EMPTY_BLOCK = '<div class="highlight"><pre><span></span><code></code></pre></div>\n'


def highlight_block(lang: str, code: str) -> str:
    """A code block as Pygments colours it, in `<div class="highlight">` (the theme styles
    that class, in code cells and in Markdown alike)."""
    from pygments import highlight as pygments_highlight  # (see the module's note)
    from pygments.formatters import HtmlFormatter  # (see the module's note)

    if not code:
        return _EMPTY_BLOCK
    formatter = HtmlFormatter(cssclass="highlight", wrapcode=True)
    html_out: str = pygments_highlight(code, _lexer(lang), formatter)
    return html_out


def highlight(md: MarkdownIt) -> None:
    """Fenced and indented code blocks highlighted by Pygments (the language: the info
    string's first word)."""
    from markdown_it.common.utils import unescapeAll  # (see the module's note)

    def fence(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        info = unescapeAll(tokens[idx].info).strip()
        return highlight_block(info.split(maxsplit=1)[0] if info else "", tokens[idx].content)

    def code_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return highlight_block("", tokens[idx].content)

    md.add_render_rule("fence", fence)
    md.add_render_rule("code_block", code_block)


# ---- math ------------------------------------------------------------------------------------


def math(md: MarkdownIt, *, render: MathRender) -> None:
    """`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]` and bare `\\begin{env}...\\end{env}` blocks,
    each formula's TeX handed unchanged to `render(tex, display)`.

    As JupyterLab does (its removeMath), the formulas are taken out of the text before the
    Markdown is parsed, so that Markdown never reads inside them (`a_1 * b_2`, `|x|` in a
    table, a line of a matrix that starts with `-`), and put back after. No mdit-py-plugins
    plugin reads math this way: dollarmath and texmath parse it as inline syntax, after the
    blocks are found, and read prices ("$5 and $10") differently from Jupyter.
    """
    md.core.ruler.after("normalize", "math_lift", _lift)
    md.core.ruler.push("math_place", functools.partial(_place, render=render))

    def math_inline(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return tokens[idx].content  # (the formula's HTML, made by `render`)

    md.add_render_rule("math_inline", math_inline)


def environments(text: str) -> Iterator[re.Match[str]]:
    """ENVIRONMENT's matches in `text`, as finditer finds them, in time linear in the text: a
    `\\begin{x}` is tried only if an `\\end{x}` ends a line after it (5,000 lines of
    `\\begin{a}` never closed took seconds, each scanning the rest of the text)."""
    last_end = {match.group(1): match.start() for match in _END.finditer(text)}
    at = 0
    while begin := _BEGIN.search(text, at):
        at = begin.end()
        if last_end.get(begin.group(1), -1) > begin.start():
            found = ENVIRONMENT.match(text, begin.start())
            assert found is not None  # (an \end{x} ends a line after it: the lazy match finds it)
            yield found
            at = found.end()


def replace_environments(text: str, replace: Callable[[re.Match[str]], str]) -> str:
    """`text` with each of ENVIRONMENT's matches replaced, as ENVIRONMENT.sub would."""
    out, at = [], 0
    for match in environments(text):
        out += [text[at : match.start()], replace(match)]
        at = match.end()
    return "".join(out) + text[at:]


def _lift(state: StateCore) -> None:
    """Each formula in the source replaced by a placeholder that no author can have written
    (a random token per render: one in an attribute would otherwise become markup)."""
    if "$" not in state.src and "\\" not in state.src:
        return
    token = secrets.token_hex(6)
    formulas: list[tuple[str, bool, str]] = []  # (TeX, display, the source as written)

    def protect(match: re.Match[str]) -> str:
        if match.group("fence") and (body := _prose_directive_body(match.group(0))) is not None:
            first, inner, last = body  # (a MyST directive's body is prose: its formulas are math)
            return first + MATH.sub(protect, inner) + last
        if match.group("fence") or match.group("code") or match.group("link") or match.group("dollar"):
            return match.group(0)
        display = match.group("display") or match.group("display2")
        latex = display if display is not None else match.group("inline") or match.group("inline2")
        if not latex.strip(" \t\n\\"):  # (`\[\\\]`: escapes, not a formula)
            return match.group(0)
        formulas.append((latex, display is not None, match.group(0)))
        return f"KRMATH{token}x{len(formulas) - 1}KR"

    placeholder = re.compile(rf"KRMATH{token}x(\d+)KR")

    def environment(match: re.Match[str]) -> str:
        # (`\text{... $c_1$ ...}` inside it is TeX: the inner formula as written)
        latex = placeholder.sub(lambda inner: formulas[int(inner.group(1))][2], match.group(0))
        formulas.append((latex, True, latex))
        return f"KRMATH{token}x{len(formulas) - 1}KR"

    lifted = MATH.sub(protect, state.src)
    if "\\begin{" in lifted:
        lifted = replace_environments(lifted, environment)
    if formulas:
        state.src = lifted
        state.env[_MATH_ENV] = (placeholder, formulas)


def _prose_directive_body(fence: str) -> tuple[str, str, str] | None:
    """(opening line, body, closing line) of a MyST directive written as a backtick fence whose
    body is Markdown (```` ```{note} ````); None for code, and for directives whose body is not
    prose (code-cell, mermaid, math...)."""
    opening, _, rest = fence.partition("\n")
    name = _DIRECTIVE.match(opening)
    if name is None or name.group(1) in _NOT_PROSE:
        return None
    inner, newline, closing = rest.rpartition("\n")
    return opening + "\n", inner + newline, closing


def _place(state: StateCore, render: MathRender) -> None:
    """The formulas back, as HTML: a display formula alone in its paragraph as a block of its
    own; in text, raw HTML between tags, as math; anywhere else (an attribute, a link, code)
    as the source the author wrote."""
    found = state.env.get(_MATH_ENV)
    if found is None:
        return
    placeholder: re.Pattern[str] = found[0]
    formulas: list[tuple[str, bool, str]] = found[1]

    def math_html(match: re.Match[str]) -> str:
        latex, display, _source = formulas[int(match.group(1))]
        return render(latex, display)

    def source(match: re.Match[str]) -> str:
        return formulas[int(match.group(1))][2]

    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type == "inline" and token.children:
            alone = placeholder.fullmatch(token.content.strip())
            if alone and formulas[int(alone.group(1))][1] and _in_paragraph(tokens, index):
                _as_block(tokens, index, math_html(alone))
                continue
            token.children = [
                placed
                for child in token.children
                for placed in _place_inline(child, placeholder, math_html, source)
            ]
        elif token.type == "html_block":
            token.content = _in_html(token.content, placeholder, math_html, source)
        else:
            token.content = placeholder.sub(source, token.content)
            token.info = placeholder.sub(source, token.info)


def _place_inline(
    child: Token, placeholder: re.Pattern[str], math_html: Callable[[re.Match[str]], str],
    source: Callable[[re.Match[str]], str],
) -> list[Token]:  # fmt: skip
    """A text token with formulas as text and `math_inline` tokens (their HTML in `content`,
    their TeX in `meta["tex"]`); in raw HTML, math between tags; in code or an attribute (an
    image's alt text too), the source."""
    from markdown_it.token import Token  # (see the module's note)

    if child.type == "text" and placeholder.search(child.content):
        parts = placeholder.split(child.content)  # text, number, text, number...
        placed = []
        for i, part in enumerate(parts):
            if i % 2 == 0:
                if part:
                    placed.append(Token("text", "", 0, content=part, level=child.level))
                continue
            rendered = math_html(_number(part))
            tex = source(_number(part))
            placed.append(Token("math_inline", "", 0, content=rendered, markup=tex, level=child.level))
        return placed
    if child.type == "html_inline":
        child.content = _in_html(child.content, placeholder, math_html, source)
        return [child]
    child.content = placeholder.sub(source, child.content)
    if child.attrs:
        child.attrs = {
            k: placeholder.sub(source, v) if isinstance(v, str) else v for k, v in child.attrs.items()
        }
    for grandchild in child.children or []:  # (an image's alt text: plain text)
        grandchild.content = placeholder.sub(source, grandchild.content)
    return [child]


def _number(number: str) -> re.Match[str]:
    """A match whose group 1 is `number` (what math_html reads)."""
    matched = re.match(r"(\d+)", number)
    assert matched is not None
    return matched


def _in_html(
    raw: str, placeholder: re.Pattern[str], math_html: Callable[[re.Match[str]], str],
    source: Callable[[re.Match[str]], str],
) -> str:  # fmt: skip
    """Raw HTML with math in its text (as MathJax typesets it there in Jupyter) and the source
    inside its tags."""
    out, end = [], 0
    for tag in _TAG.finditer(raw):
        out.append(placeholder.sub(math_html, raw[end : tag.start()]))
        out.append(placeholder.sub(source, tag.group()))
        end = tag.end()
    out.append(placeholder.sub(math_html, raw[end:]))
    return "".join(out)


def _in_paragraph(tokens: list[Token], index: int) -> bool:
    return 0 < index < len(tokens) - 1 and tokens[index - 1].type == "paragraph_open"


def _as_block(tokens: list[Token], index: int, rendered: str) -> None:
    """The paragraph around tokens[index] as a block of raw HTML (the formula's)."""
    opening, inline, closing = tokens[index - 1], tokens[index], tokens[index + 1]
    inline.children = []
    inline.content = ""
    for token in (opening, closing):
        token.type, token.tag, token.nesting, token.hidden = "html_block", "", 0, False
        token.content = ""
    opening.content = rendered + "\n"
