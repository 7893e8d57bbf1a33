"""latex2mathml's MathML mended to what MathJax draws: operators spaced as TeX spaces them
(\\operatorname, function names, primes, | and symbols latex2mathml sets as the wrong kind),
accents, limits under operators in display, a script's base made one element, an array's
rules as classes the theme draws, and no operator space in scripts.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
# \\operatorname{...} as tex.py hands it over: a word in an <mtext> (s: starred), its name in hex.
_OPERATORNAME_WORD = re.compile(r"<mtext>KROPN(s?)x([0-9a-f]*)</mtext>")
# latex2mathml writes \operatorname{Cov} as an operator <mo>Cov</mo>, which browsers space as a
# binary operator; MathJax writes an identifier and an invisible function application.
_OPERATOR_NAME = re.compile(r"<mo>([A-Za-z][A-Za-z.,\s]+)</mo>")
_BUILTIN_OPERATORS = {"lim", "sup", "inf", "max", "min"}
# Operators latex2mathml writes as identifiers: no space around them ("p̂A±z"), and \sim as an
# ASCII tilde; and symbols it writes as operators, spaced as if they were (MathJax: identifiers).
_OPERATORS = {
    "<mi>&#x000B1;</mi>": "<mo>&#x000B1;</mo>",  # \pm
    "<mi>&#x0007E;</mi>": "<mo>&#x0223C;</mo>",  # \sim
    "<mi>&#x029F5;</mi>": "<mo>&#x02216;</mo>",  # \setminus
    "<mi>&#x000AC;</mi>": "<mo>&#x000AC;</mo>",  # \neg
    **{
        f"<mo>&#x{code};</mo>": f"<mi{variant}>&#x{code};</mi>"
        for code, variant in (
            ("0221E", ""),  # \infty
            ("02202", ' mathvariant="normal"'),  # \partial
            ("02207", ' mathvariant="normal"'),  # \nabla
            ("02205", ""),  # \emptyset, \varnothing
            ("022A4", ""),  # \top
            ("022A5", ""),  # \bot
            ("02220", ""),  # \angle
        )
    },
}
_OPERATOR = re.compile("|".join(re.escape(k) for k in _OPERATORS))
# A command latex2mathml does not know (nor a macro defined on the page): shown in red, as
# MathJax shows it, and named in a warning (number_equations).
_UNDEFINED = re.compile(r"<mi>\\([A-Za-z]+)</mi>")
# A prime as latex2mathml writes it (a superscript ′, which the font already raises: it flies
# high) as the letter and its prime side by side, where the font puts it.
_PRIME = re.compile(r"<msup>(<mi>[^<]*</mi>)<mi>((?:&#x0203[234];)+)</mi></msup>")
# A function name (\\cos x) and what follows: TeX puts a thin space before an operand, none
# before a parenthesis; latex2mathml puts nothing between them ("cosX").
_FUNCTION_NAME = (
    r"<mi>(?:arccos|arcsin|arctan|arg|cos|cosh|cot|coth|csc|deg|dim|exp|hom|ker|lg|ln|log|sec|sin"
    r"|sinh|tan|tanh)</mi>"
)
_FUNCTION = re.compile(
    rf"(?<!<msub>)(?<!<msup>)(?<!<msubsup>)(?<!<munder>)(?<!<mover>)({_FUNCTION_NAME}"  # (not as a base:
    rf"|<(msub|msup|msubsup)>{_FUNCTION_NAME}(?:(?!</?\2>).)*</\2>)"  # the script whole, log_2 n)
    r"(?=<m(?:i|n|row|sub|sup|frac|over|sqrt|text)\b)"
)
_APPLY_SPACED = '<mo rspace="0.1667em">&#x2061;</mo>'
# | and \\| as MathJax sets them (ordinary symbols): no operator space on either side.
_FENCE_BAR = re.compile(r'<mo((?: fence="false")?) stretchy="false">(&#x0007C;|&#x02016;)</mo>')
_TEXT_ESCAPES = re.compile(r"(<mtext>[^<]*)\\([&%$#_{}])")


def _operator_markup(mathml: str) -> str:
    """An operator name as MathJax writes it: an upright identifier and an invisible function
    application (no operator spacing around it); with a star, an operator with limits."""

    def markup(match: re.Match[str]) -> str:
        name = html.escape(bytes.fromhex(match.group(2)).decode())
        if match.group(1):
            return f'<mo movablelimits="true" form="prefix">{name}</mo>'
        # One element as a script's base; else none (Chromium drops the space of an mo that ends
        # an mrow), and a thin space before an operand, none before "(", as TeX sets them.
        if mathml[: match.start()].endswith(("<msub>", "<msup>", "<msubsup>", "<munder>", "<mover>")):
            return f'<mrow><mi mathvariant="normal">{name}</mi><mo>&#x2061;</mo></mrow>'
        operand = re.match(r"<m(i|n|row|frac|over|sqrt|text)\b", mathml[match.end() :])
        apply = _APPLY_SPACED if operand else "<mo>&#x2061;</mo>"
        return f'<mi mathvariant="normal">{name}</mi>{apply}'

    return _OPERATORNAME_WORD.sub(markup, mathml)


_SCRIPTS = {"msub": 1, "msup": 1, "msubsup": 2}
# Operators set with limits under and over them in a display formula, as TeX does; latex2mathml
# writes them as sub- and superscripts.
_LIMITS = {"lim", "sup", "inf", "max", "min", "limsup", "liminf", "det", "Pr", "gcd", "argmax", "argmin"}


def _script_bases(root: ET.Element) -> None:
    """A script whose base is several elements as one base in an mrow: latex2mathml writes
    `\\begin{bmatrix}a\\end{bmatrix}^T` as an <msup> of the bracket, the table, the bracket and
    the T, which browsers and ziamath cannot lay out."""
    for element in root.iter():
        scripts = _SCRIPTS.get(element.tag)
        if scripts is not None and len(element) > scripts + 1:
            base = ET.Element("mrow")
            base.extend(list(element)[:-scripts])
            element[:] = [base, *list(element)[-scripts:]]


# Accents latex2mathml sets as over-scripts (an ASCII caret or tilde, high above the letter):
# as TeX's accents, close over it.
_ACCENTS = {
    "^": "\u02c6",
    "~": "\u02dc",
    "\u02d9": "\u02d9",
    "\u00a8": "\u00a8",
    "\u00af": "\u00af",
    "\u02c7": "\u02c7",
    "\u02d8": "\u02d8",
}


def _accents(root: ET.Element) -> None:
    for element in root.iter("mover"):
        if len(element) == 2 and element[1].tag == "mo" and (element[1].text or "") in _ACCENTS:
            element.set("accent", "true")
            element[1].text = _ACCENTS[element[1].text or ""]


# What the tree passes mend, found in the text first (a tree costs 1 ms a formula): a table with
# a script after it, an accent, an operator with limits in a script.
_NEEDS_TREE = re.compile(
    r"lines=\"|</mtable><mo[^>]*>[^<]*</mo><m"
    r"|<mo[^>]*>(?:&#x0005E;|&#x0007E;|&#x002D9;|&#x000A8;|&#x000AF;|&#x002C7;|&#x002D8;)</mo></mover>"
)
_LIMITS_SCRIPT = re.compile(r"<msub(?:sup)?><mo\b")


def _table_rules(root: ET.Element) -> None:
    """An array's rules (`{c|c}`, `\\hline`) as classes of the cells they border: MathML Core
    (Chromium) draws no columnlines or rowlines; the theme's CSS draws the borders."""
    for table in root.iter("mtable"):
        columns = (table.get("columnlines") or "").split()
        rows = (table.get("rowlines") or "").split()
        for r, row in enumerate(table.findall("mtr")):
            cells = row.findall("mtd")
            for c, cell in enumerate(cells):
                classes = []
                if c < len(cells) - 1 and columns and columns[min(c, len(columns) - 1)] != "none":
                    classes.append("rule-right")
                if r > 0 and rows and rows[min(r - 1, len(rows) - 1)] != "none":
                    classes.append("rule-top")
                if classes:
                    cell.set("class", " ".join(classes))


_SCRIPTED = {"msub", "msup", "msubsup", "munder", "mover", "munderover"}
_ELEMENT = re.compile(r"<(/?)(m[a-z]*)([^>]*?)(/?)>")


@dataclass
class _Open:
    """An element open at this point of a scan: its name, whether it is inside a script."""

    name: str
    in_script: bool
    children: int = 0


def _script_spacing(mathml: str) -> str:
    """No operator space inside a script, as TeX sets relations and binary operators in script
    style (Chromium spaced "n → ∞" under a lim as wide as on the line). A scan of the tags,
    not a tree: a tree costs a formula 0.5 ms, this a tenth of it."""
    out, last = [], 0
    stack: list[_Open] = []
    for match in _ELEMENT.finditer(mathml):
        closing, name, attrs, empty = match.groups()
        if closing:
            stack.pop()
            continue
        in_script = False
        if stack:
            parent = stack[-1]
            parent.children += 1
            in_script = parent.in_script or (parent.name in _SCRIPTED and parent.children > 1)
        if in_script and name == "mo" and "lspace" not in attrs:
            out.append(mathml[last : match.end() - len(empty) - 1] + ' lspace="0em" rspace="0em"')
            last = match.end() - len(empty) - 1
        if not empty:
            stack.append(_Open(name, in_script))
    return "".join(out) + mathml[last:]


def _display_limits(root: ET.Element) -> None:
    """msub/msubsup of an operator that takes limits as munder/munderover (display only)."""
    for element in root.iter():
        if element.tag not in ("msub", "msubsup") or not len(element):
            continue
        base = element[0]
        text = (base.text or "").replace("\u2009", "")
        if base.tag == "mo" and (base.get("movablelimits") == "true" or text in _LIMITS):
            element.tag = "munder" if element.tag == "msub" else "munderover"


def mend(mathml: str, display: bool) -> str:
    """latex2mathml's MathML of one formula (`display`: a block), mended as MathJax draws it."""
    mathml = _OPERATOR.sub(lambda m: _OPERATORS[m.group()], mathml)
    mathml = _OPERATOR_NAME.sub(
        lambda m: (
            m.group(0) if m.group(1) in _BUILTIN_OPERATORS else f"<mi>{m.group(1)}</mi><mo>&#x2061;</mo>"
        ),
        mathml,
    )
    while _TEXT_ESCAPES.search(mathml):
        mathml = _TEXT_ESCAPES.sub(lambda m: m.group(1) + html.escape(m.group(2)), mathml)
    mathml = _operator_markup(mathml)
    mathml = _PRIME.sub(r"<mrow>\1<mi>\2</mi></mrow>", mathml)
    mathml = _FUNCTION.sub(lambda m: m.group(1) + _APPLY_SPACED, mathml)
    mathml = _UNDEFINED.sub(r'<mtext class="tex-undefined">\\\1</mtext>', mathml)
    mathml = _FENCE_BAR.sub(r'<mo\1 stretchy="false" lspace="0em" rspace="0em">\2</mo>', mathml)
    if _NEEDS_TREE.search(mathml) or (display and _LIMITS_SCRIPT.search(mathml)):
        root = ET.fromstring(mathml.replace(f' xmlns="{MATHML_NS}"', "", 1))
        _script_bases(root)
        _accents(root)
        _table_rules(root)
        if display:
            _display_limits(root)
        mathml = ET.tostring(root, encoding="unicode").replace("<math", f'<math xmlns="{MATHML_NS}"', 1)
    if "<msu" in mathml or "<mun" in mathml or "<mov" in mathml:
        mathml = _script_spacing(mathml)
    return mathml
