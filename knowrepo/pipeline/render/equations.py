"""Formulas on a page: each as the HTML the page shows (MathML from tex.py), the page's
equation numbers and references filled in once the whole page is known, and the MathML the PDF
draws.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

from knowrepo.pipeline.render.mathml import MATHML_NS
from knowrepo.pipeline.render.tex import TexError, equation_id, label_code, tex_to_mathml

_WHOLE_REF = re.compile(r"\A\s*\\(eqref|ref)\{([^}]*)\}\s*\Z")


def _ref_link(kind: str, label: str) -> str:
    """A reference as a link to its equation's number (number_equations writes the number)."""
    text = "(???)" if kind == "eqref" else "???"
    return f'<a class="kr-{kind} kr-ref-{label_code(label)}" href="#{equation_id(label)}">{text}</a>'


def formula_html(latex: str, display: bool) -> str:
    """One formula as the page shows it: MathML (a block of its own if `display`), its TeX kept
    for screen readers, search and the PDF; a formula that is only \\eqref{x} a link; TeX that
    cannot be converted shown as code (number_equations warns of it)."""
    # (nh3: only where HTML is cleaned)
    from knowrepo.pipeline.render.sanitize import clean_mathml

    whole = _WHOLE_REF.match(latex)
    if whole:
        return _ref_link(whole.group(1), whole.group(2))
    try:
        mathml = tex_to_mathml(latex, display)
    except TexError:
        return f'<code class="math-error">{html.escape(latex)}</code>'
    # alttext keeps the TeX source: screen readers read it.
    tex = html.escape(latex.strip())
    mathml = clean_mathml(mathml).replace("<math ", f'<math alttext="{tex}" data-pagefind-ignore ', 1)
    # The search index gets the TeX source, not MathML's letters run together (β0+β1·tenure).
    mathml += f'<span class="visually-hidden" aria-hidden="true">{tex}</span>'
    # tabindex: a wide formula scrolls, and keyboard users must be able to scroll it.
    return f'<div class="math" tabindex="0">{mathml}</div>' if display else mathml


_NUMBER = re.compile(r'<mtext class="eqno-(auto|tag)((?: kr-label-[0-9a-f]+)?)"([^>]*)>([^<]*)</mtext>')
_REFERENCE = re.compile(r'<(mtext|a) class="kr-(eqref|ref) kr-ref-([0-9a-f]*)"([^>]*)>[^<]*</\1>')
_UNKNOWN_SHOWN = re.compile(r'<mtext class="tex-undefined">\\([A-Za-z]+)</mtext>')
_ID = re.compile(r' id="([^"]*)"')
_FAILED = re.compile(r'<code class="math-error">(.*?)</code>', re.S)
# Text outside code and math, where MathJax also reads \eqref{x} and \ref{x} (processRefs).
_PROSE = re.compile(
    r"(<pre\b.*?</pre>|<code\b.*?</code>|<math\b.*?</math>"
    r"|<span class=\"visually-hidden\".*?</span>|<[^>]+>)",
    re.S,
)
_PROSE_REF = re.compile(r"\\(eqref|ref)\{([^}<]*)\}")


def number_equations(body: str) -> tuple[str, list[str]]:
    """The page's equation numbers, in order (AMS numbering: numbered environments only, a
    \\tag as written), and its references filled with them: (body, problems), one line each
    for a reference to no label, a label used twice (its second number keeps no id: ids stay
    unique), an unknown command and a formula that could not be drawn."""
    problems = [
        f"formula could not be drawn (shown as its TeX): {' '.join(html.unescape(m).split())[:80]}"
        for m in _FAILED.findall(body)
    ]
    problems += [
        f"\\{name}: no such TeX command, nor a \\newcommand before it on the page"
        " (shown in red, as MathJax does)"
        for name in dict.fromkeys(_UNKNOWN_SHOWN.findall(body))
    ]
    if "\\ref{" in body or "\\eqref{" in body:
        parts = _PROSE.split(body)
        for i in range(0, len(parts), 2):
            parts[i] = _PROSE_REF.sub(lambda m: _ref_link(m.group(1), html.unescape(m.group(2))), parts[i])
        body = "".join(parts)
    if "eqno-" not in body and "kr-ref-" not in body:
        return body, problems
    numbers: dict[str, str] = {}
    ids: set[str] = set()
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        kind, label, attrs, text = match.groups()
        if kind == "auto":
            count += 1
            text = f"({count})"
        if label:
            code = label.rsplit("-", 1)[1]
            ident = _ID.search(attrs)
            if code in numbers or (ident and ident.group(1) in ids):  # (MathJax: "multiply defined")
                name = bytes.fromhex(code).decode(errors="replace")
                problems.append(f"\\label{{{name}}} is used twice on the page (references go to the first)")
                attrs = _ID.sub("", attrs)
            else:
                numbers[code] = text
                ids.update([ident.group(1)] if ident else [])
        return f'<mtext class="eqno-{kind}{label}"{attrs}>{text}</mtext>'

    body = _NUMBER.sub(number, body)

    def ref(match: re.Match[str]) -> str:
        tag, kind, code, attrs = match.groups()
        text = numbers.get(code)
        if text is None:
            label = bytes.fromhex(code).decode(errors="replace")
            problems.append(
                f"\\{kind}{{{label}}}: no equation is labelled '{label}' (shown as (???), as MathJax does)"
            )
            text = "(???)"
        shown = text if kind == "eqref" else text.removeprefix("(").removesuffix(")")
        return f'<{tag} class="kr-{kind} kr-ref-{code}"{attrs}>{html.escape(shown, quote=False)}</{tag}>'

    body = _REFERENCE.sub(ref, body)
    return body, list(dict.fromkeys(problems))


_PAD = re.compile(r'<mtd class="eqpad">\s*</mtd>|<mtd class="eqpad"\s*/>')
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_NO_VALUE = re.compile(r' data-pagefind-ignore(?:="")?(?=[\s>])')
_UNSPACED_TABLE = re.compile(r"<mtable(?![^>]*columnspacing)")
_ALTTEXT = re.compile(r' alttext="[^"]*"')
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}


def drawable_mathml(math: str) -> str:
    """A <math> element of a page as XML that ziamath draws (for the PDF): the same MathML, its
    HTML entities as characters, without the empty columns that centre a numbered equation on
    the page (a drawing has no margin to push the number to: see drawable_parts)."""
    math = _ENTITY.sub(
        lambda m: m.group(0) if m.group(1) in _XML_ENTITIES else html.unescape(m.group(0)), math
    )
    math = _NO_VALUE.sub("", math, count=1)  # (an HTML attribute with no value)
    math = _ALTTEXT.sub("", math, count=1)  # (ziamath unescapes its quotes, and draws none of it)
    # ziamath stacks rows by their ink, not by lines of text (3pt between them is cramped), and
    # sets a matrix's columns 0.3em apart: spaced as Chromium and MathJax space them.
    math = _PAD.sub("", math).replace('rowspacing="3pt"', 'rowspacing="0.6em"')
    return _UNSPACED_TABLE.sub('<mtable columnspacing="0.6em"', math)


def _hidden(cell: ET.Element) -> None:
    """A cell's content kept for its height only: no width, nothing drawn."""
    phantom = ET.Element("mphantom")
    phantom.extend(list(cell))
    padded = ET.Element("mpadded", {"width": "0"})
    padded.append(phantom)
    cell[:] = [padded]


def drawable_parts(math: str) -> tuple[str, str | None]:
    """A page's <math> as the PDF draws it: (the formula, its numbers) as two MathML drawings of
    the same height, so that the formula can be centred and its numbers set at the right margin
    beside their rows, as on the page; (the formula, None) for a formula with no number."""
    drawable = drawable_mathml(math)
    if 'class="numbered"' not in drawable:
        return drawable, None
    ns = f' xmlns="{MATHML_NS}"'
    parts = []
    for numbers in (False, True):
        root = ET.fromstring(drawable.replace(ns, "", 1))
        table = next(t for t in root.iter("mtable") if t.get("class") == "numbered")
        for row in table.findall("mtr"):
            for cell in row.findall("mtd"):
                if (cell.get("class") == "eqno") != numbers:
                    _hidden(cell)
        parts.append(ET.tostring(root, encoding="unicode").replace("<math", f"<math{ns}", 1))
    return parts[0], parts[1]
