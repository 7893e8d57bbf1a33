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
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from knowrepo.pipeline.render.mathml import MATHML_NS, mend

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
_TEX_SPACE = re.compile(r"\\[,;:! ]")


def _operator_names(tex: str) -> str:
    """\\operatorname{arg\\,min} as a word that _operator_markup turns to MathML (latex2mathml
    sets a name with a space in it as italic letters after an empty operator)."""

    def word(match: re.Match[str]) -> str:
        name = _TEX_SPACE.sub("\u2009", match.group(2)).strip()
        return rf"\text{{KROPN{'s' if match.group(1) else ''}x{name.encode().hex()}}}"

    return _OPERATORNAME.sub(word, tex)


def _command(tex: str) -> str:
    """The name of the command a piece of TeX starts with ("" if none)."""
    match = re.match(r"\\([A-Za-z]+)", tex)
    return match.group(1) if match else ""


def _convert(tex: str, display: bool) -> str:
    """latex2mathml's MathML of TeX it reads (mended first: \\big\\vert, \\arg\\min...), mended
    (mathml.py)."""
    # Imported here: 0.06 s that a render worker pays only once it meets math.
    from latex2mathml.converter import convert as latex_to_mathml

    defined = {match.group(1) for match in _DEFINITION.finditer(tex)}  # (an author's \\argmax: theirs)
    for pattern, replacement in _FIXES:

        def fix(match: re.Match[str], replacement: str = replacement) -> str:
            return match.group(0) if _command(match.group(0)) in defined else match.expand(replacement)

        tex = pattern.sub(fix, tex)
    tex = _operator_names(tex)
    try:
        mathml = latex_to_mathml(tex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises many types for unsupported input
        raise TexError(f"{type(exc).__name__}: {exc}") from exc
    return mend(mathml, display)


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
