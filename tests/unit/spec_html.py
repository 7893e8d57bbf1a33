"""HTML compared as the CommonMark spec's tests compare it, and a rendering's block structure.

`normalize_html` is the spec's own normaliser (commonmark/commonmark-spec test/normalize.py,
Copyright (c) 2014, John MacFarlane, BSD 2-clause licence; kept as it is, its quirks included,
only written to this project's style): whitespace collapsed outside <pre>, around block tags
dropped, attributes sorted, character references as characters.
"""

from __future__ import annotations

import html
import re
from html.entities import name2codepoint
from html.parser import HTMLParser
from urllib.parse import quote, unquote

_WHITESPACE = re.compile(r"\s+")
_BLOCK_TAGS = {
    "article", "header", "aside", "hgroup", "blockquote", "hr", "iframe", "body", "li", "map", "button",
    "object", "canvas", "ol", "caption", "output", "col", "p", "colgroup", "pre", "dd", "progress", "div",
    "section", "dl", "table", "td", "dt", "tbody", "embed", "textarea", "fieldset", "tfoot", "figcaption",
    "th", "figure", "thead", "footer", "tr", "form", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "video",
    "script", "style",
}  # fmt: skip
_CHUNK = re.compile(r"(<!\[CDATA\[.*?\]\]>|<[^>]*>|[^<]+)")


class _Normalizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.last = "starttag"
        self.in_pre = False
        self.output = ""
        self.last_tag = ""

    def handle_data(self, data: str) -> None:
        after_tag = self.last in ("endtag", "starttag")
        after_block_tag = after_tag and self.last_tag in _BLOCK_TAGS
        if after_tag and self.last_tag == "br":
            data = data.lstrip("\n")
        if not self.in_pre:
            data = _WHITESPACE.sub(" ", data)
        if after_block_tag and not self.in_pre:
            data = data.lstrip() if self.last == "starttag" else data.strip()
        self.output += data
        self.last = "data"

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.in_pre = False
        elif tag in _BLOCK_TAGS:
            self.output = self.output.rstrip()
        self.output += f"</{tag}>"
        self.last_tag, self.last = tag, "endtag"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self.in_pre = True
        if tag in _BLOCK_TAGS:
            self.output = self.output.rstrip()
        self.output += "<" + tag
        for k, v in sorted(attrs, key=lambda kv: (kv[0], kv[1] or "")):
            self.output += " " + k
            if v in ("href", "src"):  # (sic: the value, as upstream compares it)
                self.output += '="' + quote(unquote(v), safe="/") + '"'
            elif v is not None:
                self.output += '="' + html.escape(v, quote=True) + '"'
        self.output += ">"
        self.last_tag, self.last = tag, "starttag"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.last_tag, self.last = tag, "endtag"

    def handle_comment(self, data: str) -> None:
        self.output += f"<!--{data}-->"
        self.last = "comment"

    def handle_decl(self, data: str) -> None:
        self.output += f"<!{data}>"
        self.last = "decl"

    def unknown_decl(self, data: str) -> None:
        self.handle_decl(data)

    def handle_pi(self, data: str) -> None:
        self.output += f"<?{data}>"
        self.last = "pi"

    def handle_entityref(self, name: str) -> None:
        code = name2codepoint.get(name)
        self._char(chr(code) if code is not None else None, f"&{name};")

    def handle_charref(self, name: str) -> None:
        try:
            char: str | None = chr(int(name[1:], 16)) if name.startswith("x") else chr(int(name))
        except ValueError:
            char = None
        self._char(char, f"&{name};")

    def _char(self, char: str | None, fallback: str) -> None:
        escaped = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"}
        self.output += fallback if char is None else escaped.get(char, char)
        self.last = "ref"


def normalize_html(fragment: str) -> str:
    parser = _Normalizer()
    for chunk in _CHUNK.finditer(fragment):
        if chunk.group(0).startswith("<![CDATA"):
            parser.output += chunk.group(0)
        else:
            parser.feed(chunk.group(0))
    parser.close()
    return parser.output


# ---- block structure -----------------------------------------------------------------------

_LEAVES = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "table"}  # (their insides: not compared)
_CONTAINERS = {"ul", "ol", "li", "blockquote"}


class _Blocks(HTMLParser):
    """The sequence of block tags, containers opened and closed; what is inside a leaf, or a
    display formula's block (`div.math`), is not looked at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.inside: str | None = None  # the leaf being skipped
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.inside is not None:
            self.depth += tag == self.inside
            return
        if tag == "div" and "math" in classes:
            self.inside, self.depth = "div", 1
            return
        if tag == "hr" and "footnotes-sep" in classes:
            return
        if tag in _LEAVES:
            self.out.append(tag)
            if tag != "hr":
                self.inside, self.depth = tag, 1
        elif tag in _CONTAINERS:
            self.out.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.inside is None and tag == "hr" and "footnotes-sep" not in (dict(attrs).get("class") or ""):
            self.out.append("hr")

    def handle_endtag(self, tag: str) -> None:
        if self.inside is not None:
            if tag == self.inside:
                self.depth -= 1
                if self.depth == 0:
                    self.inside = None
            return
        if tag in _CONTAINERS:
            self.out.append("/" + tag)


def block_structure(fragment: str) -> list[str]:
    """`<p>a</p><ul><li>b</li></ul>` -> ["p", "ul", "li", "/li", "/ul"]."""
    parser = _Blocks()
    parser.feed(fragment)
    parser.close()
    return parser.out
