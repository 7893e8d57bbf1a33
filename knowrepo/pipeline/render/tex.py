"""TeX to MathML as MathJax draws it in JupyterLab: the AMS environments, equation numbers,
\\label/\\eqref, and macros defined earlier on the page.

latex2mathml (pure Python, no JavaScript) converts the TeX; this module gives it what it lacks:
the display environments it does not know (aligned, gather, split, equation, multline, eqnarray,
alignat) are rewritten into ones it does (align*, array), and what MathJax handles around a
formula is done here: rows numbered as AMS numbering does (numbered environments only, \\tag and
\\notag honoured), labels, macros that later formulas of the same page use. The numbers
themselves are placeholders until the whole page is known (number_equations), since a
\\eqref may come before its equation. The page and the PDF draw the same MathML.
"""

from __future__ import annotations

import contextlib
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
# Environments MathJax numbers (AMS numbering): per row, or once (equation, multline).
_NUMBERED_ROWS = {"align", "gather", "eqnarray", "flalign", "alignat", "xalignat"}
_NUMBERED_ONCE = {"equation", "multline"}
# What each display or nested environment becomes in latex2mathml's terms.
_REWRITE = {
    **dict.fromkeys(("align", "aligned", "split", "flalign", "alignat", "alignedat", "xalignat"), "align*"),
    **dict.fromkeys(("gather", "gathered", "multline"), "array}{c"),
    "eqnarray": "array}{rcl",
    "equation": "",
    "subequations": "",
}
_ENV = re.compile(r"\\(begin|end)\{([A-Za-z]+)(\*?)\}(\{\d+\})?")
_TOP = re.compile(r"\A\s*\\begin\{([A-Za-z]+)(\*?)\}(.*)\\end\{\1\2\}\s*\Z", re.S)
# A token of the TeX source, for splitting rows at the top level.
_TOKEN = re.compile(r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\\\(?:\s*\[[^\]]*\])?|\\.|[{}]|[^\\{}]+", re.S)
_LABEL = re.compile(r"\\label\{([^}]*)\}")
_TAG = re.compile(r"\\tag\*?\{([^}]*)\}")
_NOTAG = re.compile(r"\\(?:notag|nonumber)\b")
_REF = re.compile(r"\\(eqref|ref)\{([^}]*)\}")
_DEFINITION = re.compile(
    r"\\(?:newcommand|renewcommand|DeclareMathOperator\*?)\s*\{?\\([A-Za-z]+)\}?(?:\[\d\])?\s*\{"
)
# TeX that latex2mathml leaves as text, and what MathJax makes of it.
_FIXES = (
    (re.compile(r"\\(big|Big|bigg|Bigg)([lrm]?)\\vert(?![A-Za-z])"), r"\\\1\2|"),
    (re.compile(r"\\(big|Big|bigg|Bigg)([lrm]?)\\Vert(?![A-Za-z])"), r"\\\1\2\\|"),
    (re.compile(r"\\(?:nolimits|displaylimits)(?![A-Za-z])"), ""),
    (re.compile(r"\\arg\s*\\(min|max)(?![A-Za-z])"), r"\\operatorname*{arg\\,\1}"),
    (re.compile(r"\\(argmin|argmax)(?![A-Za-z])"), r"\\operatorname*{\1}"),
    (re.compile(r"\\(arg|sech|csch)(?![A-Za-z])"), r"\\operatorname{\1}"),
    (re.compile(r"\\textbackslash(?![A-Za-z])"), r"\\backslash "),
    (re.compile(r"\\P(?![A-Za-z])"), r"\\text{¶}"),
    (re.compile(r"\\require\{[^}]*\}"), ""),
    (re.compile(r"(?<!\\)((?:\\\\)*)\\\n"), r"\1 "),  # a backslash ending a line: a space
)
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


class TexError(ValueError):
    """TeX that cannot be converted (its message says why)."""


@dataclass
class MathPage:
    """What one page's formulas share, as MathJax keeps it per page: macros defined so far."""

    macros: dict[str, str] = field(default_factory=dict)


_PAGE: ContextVar[MathPage | None] = ContextVar("math_page", default=None)


@contextlib.contextmanager
def math_page() -> Iterator[MathPage]:
    """Within it, formulas share their macros (a \\newcommand in one cell serves the next)."""
    page = MathPage()
    token = _PAGE.set(page)
    try:
        yield page
    finally:
        _PAGE.reset(token)


def label_code(label: str) -> str:
    """A label as a class name can hold it, exactly (hex of its UTF-8)."""
    return label.encode().hex()


def equation_id(label: str) -> str:
    """The id of a labelled equation's number on the page (a link target)."""
    return "eq-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-") or label_code(label))


def _number_cell(tag: str | None, label: str | None) -> ET.Element:
    """The number of a row: a placeholder `(#)` that number_equations fills, or a \\tag."""
    kind = "tag" if tag is not None else "auto"
    cell = ET.Element("mtd", {"class": "eqno"})
    text = ET.SubElement(
        cell, "mtext", {"class": f"eqno-{kind}" + (f" kr-label-{label_code(label)}" if label else "")}
    )
    if label:
        text.set("id", equation_id(label))
    text.text = f"({tag})" if tag is not None else "(#)"
    return cell


def _rows(body: str) -> list[str]:
    """The rows of an environment's body, split at its top-level `\\\\` (nested environments
    and groups kept whole)."""
    rows: list[str] = []
    current: list[str] = []
    depth = 0
    for token in _TOKEN.findall(body):
        if token.startswith("\\begin{") or token == "{":
            depth += 1
        elif token.startswith("\\end{") or token == "}":
            depth -= 1
        elif token.startswith("\\\\") and depth == 0:
            rows.append("".join(current))
            current = []
            continue
        current.append(token)
    rows.append("".join(current))
    return rows if rows[-1].strip() or len(rows) == 1 else rows[:-1]


@dataclass
class _Row:
    tex: str
    tag: str | None
    label: str | None
    numbered: bool


def _take_marks(tex: str, numbered: bool) -> _Row:
    """A row without its \\label, \\tag and \\notag, and what they said."""
    label = _LABEL.search(tex)
    tag = _TAG.search(tex)
    off = bool(_NOTAG.search(tex))
    tex = _NOTAG.sub("", _TAG.sub("", _LABEL.sub("", tex)))
    return _Row(tex, tag.group(1) if tag else None, label.group(1) if label else None, numbered and not off)


def _rewrite_environments(tex: str) -> str:
    """Environments latex2mathml lacks as ones it has (aligned -> align*, gather -> array)."""

    def swap(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if name not in _REWRITE:
            return match.group(0)
        target = _REWRITE[name]
        if not target:
            return ""
        if kind == "end":
            return "\\end{" + target.split("}")[0] + "}"
        return "\\begin{" + target + "}"

    return _ENV.sub(swap, tex)


def _group_end(tex: str, start: int) -> int | None:
    """The index just past the group that opens at tex[start] ("{"), None if it never closes."""
    depth, i = 0, start
    while i < len(tex):
        char = tex[i]
        if char == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        i += 1
        if depth == 0:
            return i
    return None


_DECLARE = re.compile(r"\\DeclareMathOperator(\*?)\s*\{?\\([A-Za-z]+)\}?\s*(?=\{)")


def _declared_operators(tex: str) -> str:
    """\\DeclareMathOperator*{\\argmax}{arg\\,max} as the \\newcommand it means (latex2mathml
    reads no star, and draws the name where it is declared)."""
    while match := _DECLARE.search(tex):
        end = _group_end(tex, match.end())
        if end is None:
            break
        body = tex[match.end() + 1 : end - 1]
        command = f"\\newcommand{{\\{match.group(2)}}}{{\\operatorname{match.group(1)}{{{body}}}}}"
        tex = tex[: match.start()] + command + tex[end:]
    return tex


def _macros_used(tex: str, page: MathPage | None) -> str:
    """The macros this formula defines, remembered for the page; the definitions of those it
    uses from earlier formulas, to put before it (latex2mathml expands \\newcommand within one
    formula, MathJax across the page)."""
    if page is None:
        return ""
    for match in _DEFINITION.finditer(tex):
        end = _group_end(tex, match.end() - 1)
        if end is not None:
            page.macros[match.group(1)] = tex[match.start() : end]
    used = [
        definition
        for name, definition in page.macros.items()
        if re.search(rf"\\{name}(?![A-Za-z])", tex) and definition not in tex
    ]
    return " ".join(used) + " " if used else ""


_OPERATORNAME = re.compile(r"\\operatorname(\*?)\s*\{((?:[^{}\\]|\\[,;:! ])*)\}")
_OPERATORNAME_WORD = re.compile(r"<mtext>KROPN(s?)x([0-9a-f]*)</mtext>")
_TEX_SPACE = re.compile(r"\\[,;:! ]")


def _operator_names(tex: str) -> str:
    """\\operatorname{arg\\,min} as a word that _operator_markup turns to MathML (latex2mathml
    sets a name with a space in it as italic letters after an empty operator)."""

    def word(match: re.Match[str]) -> str:
        name = _TEX_SPACE.sub("\u2009", match.group(2)).strip()
        return rf"\text{{KROPN{'s' if match.group(1) else ''}x{name.encode().hex()}}}"

    return _OPERATORNAME.sub(word, tex)


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


def _command(tex: str) -> str:
    """The name of the command a piece of TeX starts with ("" if none)."""
    match = re.match(r"\\([A-Za-z]+)", tex)
    return match.group(1) if match else ""


def _convert(tex: str, display: bool) -> str:
    """latex2mathml's MathML, with its identifiers-as-operators and \\operatorname mended."""
    # Imported here: 0.06 s that a render worker pays only once it meets math.
    from latex2mathml.converter import convert as latex_to_mathml

    defined = {match.group(1) for match in _DEFINITION.finditer(tex)}  # (an author's \\argmax: theirs)
    for pattern, replacement in _FIXES:

        def mend(match: re.Match[str], replacement: str = replacement) -> str:
            return match.group(0) if _command(match.group(0)) in defined else match.expand(replacement)

        tex = pattern.sub(mend, tex)
    tex = _operator_names(tex)
    try:
        mathml = latex_to_mathml(tex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises many types for unsupported input
        raise TexError(f"{type(exc).__name__}: {exc}") from exc
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


def _refs(tex: str) -> str:
    """\\eqref{x} and \\ref{x} as a word that _placeholders turns to a number's placeholder."""
    return _REF.sub(lambda m: rf"\text{{KRREF{m.group(1)}x{label_code(m.group(2))}}}", tex)


_REF_WORD = re.compile(r"<mtext>KRREF(eqref|ref)x([0-9a-f]*)</mtext>")


def _placeholders(mathml: str) -> str:
    """Each reference a number that number_equations fills (`(???)` until then, as MathJax
    shows a reference to nothing)."""

    def ref(match: re.Match[str]) -> str:
        kind, code = match.group(1), match.group(2)
        text = "(???)" if kind == "eqref" else "???"
        return f'<mtext class="kr-{kind} kr-ref-{code}">{text}</mtext>'

    return _REF_WORD.sub(ref, mathml)


def _with_numbers(mathml: str, rows: list[_Row], single: bool) -> str:
    """The numbers of the rows put in a last column of the formula's table (a one-cell table
    for a single equation), after an empty column each side of the formula that CSS widens, so
    that the formula stays centred and the numbers stand at the right margin, as MathJax sets
    them."""
    if not any(row.numbered or row.tag is not None for row in rows):
        return mathml
    root = ET.fromstring(mathml.replace(f' xmlns="{MATHML_NS}"', "", 1))
    if single:
        table = ET.Element("mtable")
        cell = ET.SubElement(ET.SubElement(table, "mtr"), "mtd")
        cell.extend(list(root))
        root[:] = [table]
    else:
        tables = list(root.iter("mtable"))
        if not tables or len(tables[0].findall("mtr")) != len(rows):
            return mathml  # (not the table of the rows counted: left unnumbered)
        table = tables[0]
        if "".join(root.itertext()) == "".join(table.itertext()):
            root[:] = [table]  # (directly under <math>, where CSS can widen it to the margins)
    table.set("class", "numbered")
    for tr, row in zip(table.findall("mtr"), rows, strict=True):
        tr.insert(0, ET.Element("mtd", {"class": "eqpad"}))
        tr.append(ET.Element("mtd", {"class": "eqpad"}))
        numbered = row.numbered or row.tag is not None
        tr.append(_number_cell(row.tag, row.label) if numbered else ET.Element("mtd", {"class": "eqno"}))
    xml = ET.tostring(root, encoding="unicode")
    return xml.replace("<math", f'<math xmlns="{MATHML_NS}"', 1)


def tex_to_mathml(latex: str, display: bool) -> str:
    """MathML for one formula (`display`: a block of its own), its equation numbers and
    references as placeholders; raises TexError if the TeX cannot be converted."""
    tex = _declared_operators(latex.strip()) if "DeclareMathOperator" in latex else latex.strip()
    macros = _macros_used(tex, _PAGE.get())
    top = _TOP.match(tex)
    name, star = (top.group(1), top.group(2)) if top else ("", "")
    numbered_rows = display and name in _NUMBERED_ROWS and not star
    once = display and name in _NUMBERED_ONCE and not star
    if top and (name in _NUMBERED_ROWS or name in _NUMBERED_ONCE):
        body = top.group(3)
        if name in _NUMBERED_ONCE:
            rows = [_take_marks(body, once)]
        else:
            rows = [_take_marks(row, numbered_rows) for row in _rows(body)]
            body = "\\\\".join(row.tex for row in rows)
        single = name in _NUMBERED_ONCE
        inner = rows[0].tex if single else body
        target = _REWRITE[name]
        if target:  # (multline too: its lines in a table, one number for them all)
            inner = "\\begin{" + target + "}" + inner + "\\end{" + target.split("}")[0] + "}"
        mathml = _placeholders(_convert(macros + _refs(_rewrite_environments(inner)), display=True))
        if target.startswith("array"):  # (gather and its kin are display style, as in TeX)
            mathml = mathml.replace("<mtable>", '<mtable displaystyle="true">', 1)
        if name == "multline" and mathml.count('columnalign="center"') > 1:  # first line left, last right
            mathml = mathml.replace('columnalign="center"', 'columnalign="left"', 1)
            head, _center, tail = mathml.rpartition('columnalign="center"')
            mathml = head + 'columnalign="right"' + tail
        return _with_numbers(mathml, rows, single)
    row = _take_marks(tex, False)
    mathml = _placeholders(_convert(macros + _refs(_rewrite_environments(row.tex)), display))
    if display and (row.tag is not None):
        return _with_numbers(mathml, [row], single=True)
    return mathml
