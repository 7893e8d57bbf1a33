"""Report CSS that stays inside the report: [site] sanitize's pass over the CSS a report holds.

Reports keep their <style> elements and style="" attributes (pandas' Styler colours its cells
with them; SVG and Bokeh style sheets are CSS too). Left as written, they could lay a box over
the whole site (a fixed overlay with a link on it), hide or restyle the site's own parts, and
load from elsewhere. What stays:
- the declarations, minus those that escape the report's box (`position: fixed | sticky`) or
  load from elsewhere (`url()` that is not the document's own `#part` or a data: image,
  `image-set()`, `src()`, `element()`, and the old script hooks `behavior` and `-moz-binding`);
- style rules, their selectors put under a scope (`.report-body td`) when the CSS reaches the
  page itself (a <style> in the body, a Bokeh global style sheet); none starts with a sibling
  combinator (`~ header`), which would reach past it, and none holds what no selector does (a
  URL, an at-rule, `;`: `<g/>@import url(x); p`, text an SVG style held around an element);
- no declaration holds a `}` (BokehJS joins declarations into a rule as text: `1 }` ends it);
- @media, @supports, @container and @layer blocks, cleaned the same way. Every other at-rule
  goes: @import loads, and @font-face, @keyframes, @property, @page or @counter-style name
  things the whole page shares.

The CSS is parsed with tinycss2 (WeasyPrint's own CSS parser, which tokenizes as the CSS Syntax
spec says browsers do): a regex misses escapes (`u\\72l(`), comments and strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

# data: URLs an <img> or a CSS image may hold (an image never runs what it shows).
DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml)[;,]", re.I)
BODY_SCOPE = ".report-body"  # the element of report.html (and print.html) a report's body fills

_POSITIONS = {"static", "relative", "absolute"}  # fixed and sticky are placed by the viewport
_LOADING_FUNCTIONS = {"src", "image-set", "-webkit-image-set", "element", "-moz-element", "expression"}
_SCRIPT_PROPERTIES = {"behavior", "-moz-binding"}
_BLOCK_AT_RULES = {"media", "supports", "container", "layer"}
_LEADING_COMBINATORS = {"~", "+", "|"}  # (`|` begins the column combinator `||`)


def is_local_url(url: str) -> bool:
    """A URL that loads nothing: a part of the same document, or a data: image."""
    url = url.strip()
    return url.startswith("#") or bool(DATA_IMAGE.match(url))


def clean_declarations(text: str) -> str:
    """A style="" attribute's declarations, without those that escape or load."""
    import tinycss2  # (tinycss2: only where report CSS is read)

    return _declarations(tinycss2.parse_blocks_contents(text, skip_comments=True, skip_whitespace=True))


def clean_stylesheet(css: str, scope: str | None = None) -> str:
    """A style sheet's text cleaned (see the module's doc); with `scope`, each selector is put
    under it. The result can stand inside a <style> element: it never holds `</`."""
    import tinycss2  # (tinycss2: only where report CSS is read)

    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return "\n".join(_rules(rules, scope)).replace("</", "<\\/")


def safe_declaration(name: str, value: str) -> bool:
    """Whether `name: value` is one declaration, of that property, that keeps to the element's
    box and loads nothing (Bokeh joins its styles into style sheets as text: `red; } x {` must
    not pass)."""
    import tinycss2  # (tinycss2: only where report CSS is read)

    nodes = tinycss2.parse_blocks_contents(f"{name}: {value}", skip_comments=True, skip_whitespace=True)
    return (
        len(nodes) == 1
        and nodes[0].type == "declaration"
        and nodes[0].lower_name == name.lower()
        and _safe(nodes[0])
    )


def loads_elsewhere(value: str) -> bool:
    """Whether a CSS value (an SVG presentation attribute such as fill="url(...)") loads
    anything from outside its document."""
    import tinycss2  # (tinycss2: only where report CSS is read)

    return _loads(tinycss2.parse_component_value_list(value, skip_comments=True))


def _rules(rules: Iterable[Any], scope: str | None) -> Iterator[str]:
    import tinycss2  # (tinycss2: only where report CSS is read)

    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = _selectors(rule.prelude, scope)
            body = _declarations(tinycss2.parse_blocks_contents(rule.content, True, True))
            if selectors:
                yield f"{selectors} {{{body}}}"
        elif rule.type == "at-rule" and rule.lower_at_keyword in _BLOCK_AT_RULES and rule.content is not None:
            inner = "\n".join(_rules(tinycss2.parse_rule_list(rule.content, True, True), scope))
            prelude = tinycss2.serialize(rule.prelude).strip()
            yield f"@{rule.lower_at_keyword} {prelude} {{{inner}}}"


def _selectors(prelude: list[Any], scope: str | None) -> str:
    """The selector list, each selector under `scope` (those that would reach past it dropped)."""
    import tinycss2  # (tinycss2: only where report CSS is read)

    kept = []
    for selector in _split(prelude):
        if not selector or (selector[0].type == "literal" and selector[0].value in _LEADING_COMBINATORS):
            continue
        if _loads(selector) or _breaks_out(selector):  # (no selector: `<g/>@import url(x); svg`)
            continue
        text = tinycss2.serialize(selector)
        kept.append(f"{scope} {text}" if scope else text)
    return ", ".join(kept)


def _split(prelude: list[Any]) -> Iterator[list[Any]]:
    """A selector list's selectors (split at its top-level commas), without outer whitespace."""
    part: list[Any] = []
    for token in [*prelude, None]:
        if token is None or (token.type == "literal" and token.value == ","):
            while part and part[0].type in ("whitespace", "comment"):
                part.pop(0)
            while part and part[-1].type in ("whitespace", "comment"):
                part.pop()
            yield part
            part = []
        else:
            part.append(token)


def _declarations(nodes: Iterable[Any]) -> str:
    """The safe declarations among `nodes`, as `name: value` text (nested rules are dropped)."""
    import tinycss2  # (tinycss2: only where report CSS is read)
    from tinycss2.serializer import serialize_identifier

    kept = []
    for node in nodes:
        if node.type != "declaration" or not _safe(node):
            continue
        value = tinycss2.serialize(node.value).strip()
        kept.append(f"{serialize_identifier(node.name)}: {value}{' !important' if node.important else ''}")
    return "; ".join(kept)


def _safe(declaration: Any) -> bool:
    name = declaration.lower_name
    if name in _SCRIPT_PROPERTIES or _breaks_out(declaration.value):
        return False
    if name == "position":  # one keyword that keeps the box in the report (not var(), not fixed)
        tokens = [t for t in declaration.value if t.type not in ("whitespace", "comment")]
        return len(tokens) == 1 and tokens[0].type == "ident" and tokens[0].lower_value in _POSITIONS
    return not _loads(declaration.value)


def _breaks_out(tokens: Iterable[Any]) -> bool:
    """Whether the tokens hold an at-rule, a `;`, or a parse error (tinycss2's for a `}` with no
    `{`): in a declaration that BokehJS joins into a style sheet as text (`--x: 1 }`), the `}`
    would close its rule; in a selector, none of them is valid."""
    for token in tokens:
        if token.type in ("at-keyword", "error") or (token.type == "literal" and token.value == ";"):
            return True
        if token.type == "function" and _breaks_out(token.arguments):
            return True
        if token.type in ("() block", "[] block", "{} block") and _breaks_out(token.content):
            return True
    return False


def _loads(tokens: Iterable[Any]) -> bool:
    """Whether any of the tokens (at any depth) loads from outside the document."""
    for token in tokens:
        if token.type == "url" and not is_local_url(token.value):
            return True
        if token.type == "function":
            if token.lower_name in _LOADING_FUNCTIONS or (
                token.lower_name == "url" and not _local_call(token)
            ):
                return True
            if _loads(token.arguments):
                return True
        if token.type in ("() block", "[] block", "{} block") and _loads(token.content):
            return True
    return False


def _local_call(function: Any) -> bool:
    """url("...") written with a string (tinycss2 reads it as a function): local or not."""
    strings = [t for t in function.arguments if t.type not in ("whitespace", "comment")]
    return len(strings) == 1 and strings[0].type == "string" and is_local_url(strings[0].value)
