"""Cross-references: the 'crossrefs' body pass numbers a report's floats in document order and
makes each reference a link with its number.

- Quarto: `@fig-x` ("Figure 2"), `@tbl-x` ("Table 1"), `@sec-x` (the section's title);
  `[-@fig-x]` the number alone; `[@fig-x]` as `@fig-x`.
- MyST: `` {numref}`x` `` ("Figure 2"; `` {numref}`Fig. %s <x>` `` with its own text, `%s` or
  `{number}` the number), `` {ref}`x` `` (the caption or section title; `` {ref}`text <x>` ``).

Figures and tables (floats.py made them) are numbered apart, across all the cells of the report;
a section is a heading with an id given in the text (`{#sec-x}`, `(x)=`). A reference to a
label nothing has is a warning naming it (E200), shown as `?@fig-x` on the page, as Quarto
shows it; `knowrepo check` finds the same (`source_references`, `source_labels`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from knowrepo.pipeline.render.floats import FLOAT_KINDS, cell_float, cell_options
from knowrepo.pipeline.render.htmltext import map_prose, plain
from knowrepo.plugins import BodyContext

# A Quarto cross-reference's label: its kind, a dash, then letters, digits, `_`, and `-`/`:`/`.`
# inside (a sentence's full stop after it is no part of it).
QUARTO_KINDS = ("fig", "tbl", "sec")
_QUARTO_LABEL = r"(?:fig|tbl|sec)-[\w]+(?:[-:.][\w]+)*"
_QUARTO_REF = re.compile(rf"\[(-?)@({_QUARTO_LABEL})\]|(?<![\w@.\-/])@({_QUARTO_LABEL})", re.I)
_CANDIDATE = re.compile(r"@(?:fig|tbl|sec)-", re.I)  # (a literal first: a fast search)
_ROLE = re.compile(r"\{(numref|ref)\}<code>([^<]*)</code>")
_FIGURE_TAG = re.compile(r"<figure\b(?:[^>\"']|\"[^\"]*\")*>")
_HEADING = re.compile(r"<h([1-6])\b((?:[^>\"']|\"[^\"]*\")*)>(.*?)</h\1>", re.S)
_ATTR = re.compile(r'\s(id|data-kr-kind|data-kr-title|data-kr-sub)="([^"]*)"')
_NUMBER = re.compile(r'<span class="kr-float-number" data-kr-for="([^"]*)"></span>')
_EXPLICIT = re.compile(r"^(.*?)\s*&lt;([^<>]+?)&gt;\s*$", re.S)


@dataclass(frozen=True)
class Target:
    """What a reference to a label shows."""

    kind: str  # "fig", "tbl" or "sec"
    number: str  # "2", "2(a)"; "" for a section
    title: str  # the caption or the heading's text (escaped HTML text)

    @property
    def name(self) -> str:
        """ "Figure 2", "Table 1", or a section's title."""
        return f"{FLOAT_KINDS[self.kind]} {self.number}" if self.kind in FLOAT_KINDS else self.title


def collect_targets(body: str, warn: Callable[[str], None]) -> dict[str, Target]:
    """Every label of the body: floats numbered by kind in document order (a subfigure as its
    float's number and letter), headings with an id. A label given twice keeps its first."""
    targets: dict[str, Target] = {}
    counts = dict.fromkeys(FLOAT_KINDS, 0)
    parent = ("fig", "")

    def add(label: str, target: Target) -> None:
        if label in targets:
            warn(f"label '{label}' is given twice; references go to the first")
        else:
            targets[label] = target

    for tag in _FIGURE_TAG.finditer(body):
        attrs = dict(_ATTR.findall(tag.group(0)))
        label, kind = attrs.get("id", ""), attrs.get("data-kr-kind", "")
        if kind in FLOAT_KINDS:
            number = ""
            if label:
                counts[kind] += 1
                number = str(counts[kind])
                add(label, Target(kind, number, attrs.get("data-kr-title", "")))
            parent = (kind, number)
        elif "data-kr-sub" in attrs and label and parent[1]:
            add(label, Target(parent[0], f"{parent[1]}({attrs['data-kr-sub']})", ""))
    for heading in _HEADING.finditer(body):
        label = dict(_ATTR.findall(heading.group(2))).get("id", "")
        if label:
            add(label, Target("sec", "", plain(heading.group(3))))
    return targets


def resolve_references(body: str, ctx: BodyContext) -> str:
    """The 'crossrefs' body pass: float numbers filled in, references made links."""
    if "kr-float" not in body and "}<code>" not in body and not _CANDIDATE.search(body):
        return body
    targets = collect_targets(body, lambda line: ctx.warn(f"{ctx.source}: {line}"))
    body = _NUMBER.sub(lambda m: _float_name(targets.get(html.unescape(m.group(1)))), body)
    body = re.sub(r'\sdata-kr-(?:kind|title|sub)="[^"]*"', "", body) if "data-kr-" in body else body
    missing: list[str] = []

    def link(label: str, text: str) -> str:
        return f'<a class="kr-xref" href="#{html.escape(label)}">{text}</a>'

    def unresolved(shown: str, label: str) -> str:
        missing.append(label)
        return f'<strong class="kr-xref-missing">?{shown}</strong>'

    def quarto(match: re.Match[str]) -> str:
        label = match.group(2) or match.group(3)
        target = targets.get(label)
        if target is None:
            return unresolved(f"@{label}", label)
        bare = match.group(1) == "-" and bool(target.number)
        return link(label, target.number if bare else target.name)

    def role(match: re.Match[str]) -> str:
        kind, content = match.group(1), match.group(2)
        explicit = _EXPLICIT.match(content)
        text, label = (explicit.group(1), explicit.group(2)) if explicit else ("", content.strip())
        target = targets.get(html.unescape(label))
        if target is None:
            return unresolved(f"{{{kind}}}`{label}`", label)
        if kind == "numref":
            number = target.number or target.title
            shown = text.replace("%s", number).replace("{number}", number) if text else target.name
            return link(label, shown.replace("{name}", target.title))
        return link(label, text or target.title or target.name)

    if _CANDIDATE.search(body):  # (the walk only where one may be: ~20 ms a 300 kB body)
        body = map_prose(body, lambda text: _QUARTO_REF.sub(quarto, text) if "@" in text else text)
    if "}<code>" in body:
        body = _ROLE.sub(role, body)
    for label in dict.fromkeys(missing):
        ctx.warn(f"{ctx.source}: {missing_label_message(label, targets)}")
    return body


def _float_name(target: Target | None) -> str:
    return f'<span class="kr-float-number">{target.name}</span>' if target else ""


def missing_label_message(label: str, known: Iterable[str]) -> str:
    """E200's line: the label, what the report has."""
    labels = sorted(known)
    has = f" (its labels: {', '.join(labels[:8])}{', ...' if len(labels) > 8 else ''})" if labels else ""
    return f"the reference to '{label}' leads to no figure, table or section of the report{has}"


# ---- what `knowrepo check` reads in the sources, without rendering -------------------------

_CODE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[ \t]*$|(`+)[^`].*?\2", re.S | re.M)
_SOURCE_ROLE = re.compile(r"\{(numref|ref)\}`([^`]*)`")
_LABELS = (
    re.compile(r"^#\|\s*label:\s*[\"']?([^\s\"']+)", re.M),  # a cell option (percent scripts too)
    re.compile(r"\{#([^\s}]+)[^}\n]*\}"),  # an image's, a heading's, a table caption's id
    re.compile(r"^\(([^()\s]+)\)=[ \t]*$", re.M),  # a MyST target
    re.compile(r"^[ \t]*:(?:name|label):[ \t]*(\S+)", re.M),  # a MyST directive's name
)


def source_labels(text: str) -> set[str]:
    """The labels a Markdown text or a code cell's source defines."""
    return {match.group(1) for pattern in _LABELS for match in pattern.finditer(text)}


def source_references(text: str) -> list[tuple[int, str]]:
    """(offset in `text`, label) of each cross-reference in Markdown prose (code left out)."""
    prose = _CODE.sub(lambda m: " " * len(m.group(0)), text)
    found = [(m.start(), m.group(2) or m.group(3)) for m in _QUARTO_REF.finditer(prose)]
    for match in _SOURCE_ROLE.finditer(text):
        explicit = re.match(r"^(.*?)\s*<([^<>]+?)>\s*$", match.group(2), re.S)
        found.append((match.start(), explicit.group(2) if explicit else match.group(2).strip()))
    return sorted(found)


def notebook_labels(notebook: dict[str, Any]) -> set[str]:
    """The labels a notebook's code cells define: their `#| label:` options and MyST-NB's
    figure names."""
    found: set[str] = set()
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        options, _problem = cell_options(dict(cell))
        spec = cell_float(options, cell.get("metadata") or {})
        found.update(spec.labels if spec else ())
    return found
