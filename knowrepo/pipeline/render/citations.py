"""Citations: `[@key]`, `[@key, p. 3]`, `[see @a; @b]`, `[-@key]` and narrative `@key` in a
report's prose, formatted by citeproc-py from the bibliography its front matter names
(`bibliography: refs.bib`, BibTeX, or `refs.json`, CSL-JSON; a path relative to the report, or
a list of them), with a "References" list at the end of the report. The style is the one
citeproc-py ships (harvard-cite-them-right, author-date), or `csl: style.csl`, a CSL file of
the repository (nothing is fetched).

The syntax is Pandoc's, as Quarto and Jupyter Book users write it. A bracketed citation of a
key the bibliography lacks is a warning (E201) and shows as `?key`; a narrative `@word` that is
no key stays text (an `@name` in prose is often no citation). A bibliography or style that is
missing or does not parse fails the report (E202, E203). The files are read through the body
context: a change to one re-renders the report.
"""

from __future__ import annotations

import html
import io
import json
import posixpath
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.frontmatter import notebook_front_matter, split_markdown
from knowrepo.pipeline.render.htmltext import map_prose
from knowrepo.pipeline.textnotebook import script_front_matter
from knowrepo.plugins import BodyContext
from knowrepo.support.yamltext import YamlProblem, load_yaml

if TYPE_CHECKING:
    from citeproc import CitationStylesBibliography

DEFAULT_STYLE = "harvard-cite-them-right"  # the one style citeproc-py ships
# Pandoc's citation key: a letter, digit or _ first, then those and internal punctuation.
KEY = r"[\w][\w]*(?:[:.#$%&+?<>~/-][\w]+)*"
_BRACKETED = re.compile(r"\[([^\[\]]*?@[^\[\]]*)\]")
_ITEM = re.compile(rf"^\s*(?P<prefix>.*?)(?P<minus>-?)@(?P<key>{KEY})(?P<suffix>.*?)\s*$", re.S)
_NARRATIVE = rf"(?<![\w@.\-/])@({KEY})"
_CITATION = re.compile(rf"{_BRACKETED.pattern}|{_NARRATIVE}")  # bracketed (group 1) or narrative (2)
_LOCATOR = re.compile(
    r"^,?\s*(?P<label>pp?\.|pages?|chap\.|chapters?|ch\.|sec\.|sections?|§|vol\.|fig\.|para\.|"
    r"n\.|l\.|ll\.)?\s*(?P<value>\d[\w\u2013\-–, ]*)$",
    re.I,
)
_LABELS = {
    "p.": "page", "pp.": "page", "page": "page", "pages": "page", "chap.": "chapter",
    "chapter": "chapter", "chapters": "chapter", "ch.": "chapter", "sec.": "section",
    "section": "section", "sections": "section", "§": "section", "vol.": "volume",
    "fig.": "figure", "para.": "paragraph", "n.": "note", "l.": "line", "ll.": "line",
}  # fmt: skip


@dataclass(frozen=True)
class Cite:
    """One cited item: its key, the text before and after it, a locator, author suppressed."""

    key: str
    prefix: str = ""
    suffix: str = ""
    locator: tuple[str, str] | None = None  # (label, value): ("page", "3")
    bare: bool = False  # `-@key`: the year alone (author-date styles)


def parse_bracketed(inner: str) -> list[Cite] | None:
    """The items of `[...]`, split at `;`; None when one of them cites no key (then it is no
    citation, as Pandoc reads it)."""
    cites = []
    for part in inner.split(";"):
        match = _ITEM.match(part)
        if match is None:
            return None
        prefix = match.group("prefix")
        if prefix and not prefix.endswith((" ", "\u00a0")):  # (an e-mail's `a@b`: no citation)
            return None
        suffix = match.group("suffix")
        locator = _LOCATOR.match(suffix)
        found = None
        if locator:
            label = _LABELS.get((locator.group("label") or "p.").lower(), "page")
            found, suffix = (label, locator.group("value").strip()), ""
        elif suffix and not suffix.startswith((",", " ")):
            return None
        cites.append(
            Cite(match.group("key"), prefix.strip(), suffix.strip(), found, match.group("minus") == "-")
        )
    return cites


# ---- the bibliography ----------------------------------------------------------------------


def front_matter(relpath: str, data: bytes) -> dict[str, Any]:
    """A source's front matter as YAML reads it ({} if it has none or it is no mapping)."""
    text = data.decode("utf-8-sig", errors="replace")
    if relpath.endswith(".ipynb"):
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return {}
        yaml_text, _ = notebook_front_matter(cells)
    elif relpath.endswith(".py"):
        yaml_text, _ = script_front_matter(text)
    else:
        yaml_text, _ = split_markdown(text)
    try:
        found = load_yaml(yaml_text or "")
    except YamlProblem:
        return {}
    return found if isinstance(found, dict) else {}


def bibliography_paths(source: str, meta: dict[str, Any]) -> list[str]:
    """The bibliography files front matter names, as paths in the repository."""
    value = meta.get("bibliography")
    names = value if isinstance(value, list) else [value] if value else []
    base = posixpath.dirname(source)
    return [posixpath.normpath(posixpath.join(base, str(name))) for name in names]


def load_references(path: str, data: bytes) -> Any:
    """citeproc-py's source of one BibTeX (`.bib`) or CSL-JSON (`.json`) file; KnowrepoError
    naming the file if it does not parse (E202)."""
    from citeproc.source.bibtex import BibTeX  # (citeproc-py: only where a report cites)
    from citeproc.source.json import CiteProcJSON  # (citeproc-py: only where a report cites)

    try:
        text = data.decode("utf-8-sig")
        with warnings.catch_warnings():  # (an unsupported BibTeX field, a URL: warned on stderr)
            warnings.simplefilter("ignore")
            if path.lower().endswith(".bib"):
                return BibTeX(io.StringIO(text))
            if path.lower().endswith(".json"):
                return CiteProcJSON(json.loads(text))
    except Exception as exc:  # noqa: BLE001 - any parse failure, named in one line
        what = "BibTeX" if path.lower().endswith(".bib") else "CSL-JSON"
        raise KnowrepoError(path, f"bibliography is not valid {what}: {' '.join(str(exc).split())}") from None
    raise KnowrepoError(path, "bibliography must be a BibTeX .bib or a CSL-JSON .json file")


def load_style(source: str, meta: dict[str, Any], read: Callable[[str], bytes]) -> Any:
    """The CSL style: `csl:`, a file of the repository relative to the report, or citeproc's
    own; KnowrepoError naming the file if it is missing or no CSL (E203)."""
    from citeproc import CitationStylesStyle  # (citeproc-py: only where a report cites)

    name = str(meta.get("csl") or "")
    if not name:
        return CitationStylesStyle(DEFAULT_STYLE, validate=False)
    path = posixpath.normpath(posixpath.join(posixpath.dirname(source), name))
    try:
        data = read(path)
    except OSError as exc:
        raise KnowrepoError(source, f"csl '{name}': cannot read {path}: {exc.strerror or exc}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            style = CitationStylesStyle(io.BytesIO(data), validate=False)
            style.root.citation  # noqa: B018 - a CSL file without <citation> fails here, not later
    except Exception as exc:  # noqa: BLE001 - lxml's or citeproc's, named in one line
        raise KnowrepoError(path, f"csl style is not a CSL file: {' '.join(str(exc).split())}") from None
    return style


def read_sources(
    source: str, meta: dict[str, Any], read: Callable[[str], bytes], warn: Callable[[str], None]
) -> dict[str, Any]:
    """Every reference the report's bibliography files hold, by lower-case key. A file that is
    missing is a warning (as a missing image is: its citations show as such, and its coming
    renders the report again); one that does not parse fails the report (E202)."""
    found: dict[str, Any] = {}
    for path in bibliography_paths(source, meta):
        try:
            data = read(path)
        except OSError as exc:
            warn(f"{source}: bibliography '{path}': {exc.strerror or exc}; its citations are not formatted")
            continue
        references = load_references(path, data)
        for key in references:
            found.setdefault(key, references[key])
    return found


# ---- the 'citations' body pass -------------------------------------------------------------


def cite_references(body: str, ctx: BodyContext) -> str:
    """The 'citations' body pass: citations formatted, the References list at the end."""
    if "@" not in body:
        return body
    meta: dict[str, Any] = {}
    references: dict[str, Any] | None = None  # read at the first possible citation

    def known() -> dict[str, Any]:
        nonlocal meta, references
        if references is None:
            data = ctx.read(ctx.source)  # (no YAML or notebook JSON parsed for a report that names none)
            meta = front_matter(ctx.source, data) if b"bibliography" in data else {}
            # (a missing file is said where the report cites in brackets: a leftover
            # `bibliography:` of a report that cites nothing is no fault on the page)
            references = read_sources(ctx.source, meta, ctx.read, ctx.warn if bracketed else _quiet)
        return references

    bracketed = _BRACKETED.search(body) is not None
    if not bracketed and not known():  # (no walk of a body that can cite nothing)
        return body
    found: list[tuple[str, list[Cite] | Cite]] = []  # each citation, in order: bracketed or narrative

    def scan(text: str) -> str:
        if "@" not in text:
            return text
        # (one walk for both kinds: the citations are numbered in the order they are read)
        return _CITATION.sub(
            lambda m: _mark(m, found) if m.group(1) is not None else _mark_narrative(m, found, known()), text
        )

    body = map_prose(body, scan)
    if not found:
        return body
    try:
        return _format(body, ctx, found, known(), meta)
    except KnowrepoError:
        raise
    except Exception as exc:  # noqa: BLE001 - citeproc-py on an entry it cannot format: one line
        raise KnowrepoError(
            ctx.source,
            f"citations could not be formatted: {type(exc).__name__}: {' '.join(str(exc).split())}",
        ) from None


def _quiet(line: str) -> None:
    """A warning nobody needs."""


_MARK = "\ue000kr-cite-{}\ue001"  # (private-use characters: no author writes them)


def _mark(match: re.Match[str], found: list[tuple[str, list[Cite] | Cite]]) -> str:
    cites = parse_bracketed(html.unescape(match.group(1)))
    if cites is None or any(c.key.split("-", 1)[0] in ("fig", "tbl", "sec", "eq") for c in cites):
        return match.group(0)
    found.append((match.group(0), cites))
    return _MARK.format(len(found) - 1)


def _mark_narrative(
    match: re.Match[str], found: list[tuple[str, list[Cite] | Cite]], keys: dict[str, Any]
) -> str:
    if match.group(2).lower() not in keys:
        return match.group(0)
    found.append((match.group(0), Cite(match.group(2))))
    return _MARK.format(len(found) - 1)


def _format(
    body: str, ctx: BodyContext, found: list[tuple[str, list[Cite] | Cite]], keys: dict[str, Any],
    meta: dict[str, Any],
) -> str:  # fmt: skip
    """Each marked citation as citeproc formats it, and the References list after the body."""
    from citeproc import CitationStylesBibliography, formatter  # (citeproc-py: where a report cites)

    unknown = [c.key for _, item in found for c in (item if isinstance(item, list) else [item])]
    unknown = [key for key in dict.fromkeys(unknown) if key.lower() not in keys]
    for key in unknown:
        where = "names no bibliography" if not bibliography_paths(ctx.source, meta) else "has no entry"
        ctx.warn(f"{ctx.source}: {citation_message(key, where)}")
    if len(unknown) == len({c.key for _, i in found for c in (i if isinstance(i, list) else [i])}):
        return _unresolved(body, found)
    style = load_style(ctx.source, meta, ctx.read)
    bibliography = CitationStylesBibliography(style, _Source(keys), formatter.html)
    citations = [_citations(item, keys) for _, item in found]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for citation in citations:
            if citation is not None:
                bibliography.register(citation)
        bibliography.sort()
        shown = [
            _shown(original, item, citation, bibliography, style)
            for (original, item), citation in zip(found, citations, strict=True)
        ]
        entries = [
            (item.key, "".join(str(part) for part in style.render_bibliography([item])))
            for item in bibliography.items
        ]
    body = re.sub("\ue000kr-cite-(\\d+)\ue001", lambda m: shown[int(m.group(1))], body)
    return body + _references(entries)


class _Source(dict):  # type: ignore[type-arg]
    """The references of several files as one citeproc source (a dict by lower-case key)."""


def _citations(item: list[Cite] | Cite, keys: dict[str, Any], affixes: bool = True) -> Any:
    """citeproc's Citation of the known keys of one citation (None: it cites none);
    without `affixes`, the text around each item left out (what its link covers)."""
    from citeproc import Citation, CitationItem, Locator  # (citeproc-py: where a report cites)

    cites = item if isinstance(item, list) else [item]
    made = []
    for cite in cites:
        if cite.key.lower() not in keys:
            continue
        extra: dict[str, Any] = {}
        if cite.locator:
            extra["locator"] = Locator(*cite.locator)
        if cite.prefix and affixes:
            extra["prefix"] = html.escape(cite.prefix) + " "
        if cite.suffix and affixes:
            extra["suffix"] = html.escape(cite.suffix if cite.suffix.startswith(",") else " " + cite.suffix)
        made.append(CitationItem(cite.key, **extra))
    return Citation(made) if made else None


def _shown(
    original: str,
    item: list[Cite] | Cite,
    citation: Any,
    bibliography: CitationStylesBibliography,
    style: Any,
) -> str:
    """One citation's HTML: citeproc's text, each item linked to its entry."""
    cites = item if isinstance(item, list) else [item]
    missing = [c.key for c in cites if c.key.lower() not in bibliography.source]
    if citation is None:
        return _missing(original)
    text = str(bibliography.cite(citation, lambda _item: None))
    if isinstance(item, Cite) or all(c.bare for c in cites):
        text = _narrative(text, cites[0], bibliography, style, bare=not isinstance(item, Cite))
        text = _link(text, cites[0].key)
    else:
        text = _link_items(
            text, [c for c in cites if c.key.lower() in bibliography.source], bibliography, style
        )
    text += "".join(f' <strong class="kr-cite-missing">?{html.escape(k)}</strong>' for k in missing)
    keys = " ".join(c.key for c in cites)
    return f'<span class="citation" data-cites="{html.escape(keys)}">{text}</span>'


def _link(text: str, key: str) -> str:
    return f'<a class="kr-cite" href="#ref-{html.escape(key.lower())}" role="doc-biblioref">{text}</a>'


def _link_items(text: str, cites: list[Cite], bibliography: Any, style: Any) -> str:
    """Each item of a formatted citation linked to its entry: found as the style formats it
    alone, without the citation's brackets; the whole text to the first entry when the style
    merged them (`Doe 2020a, b`)."""
    layout = style.root.citation.layout
    before, after = layout.get("prefix", ""), layout.get("suffix", "")
    spans: list[tuple[int, int, str]] = []
    for cite in cites:
        single = _citations([cite], bibliography.source, affixes=False)
        single.bibliography = bibliography  # (what register() sets: the item's references)
        alone = str(bibliography.cite(single, lambda _item: None))
        bracketed = bool(after) and alone.startswith(before) and alone.endswith(after)
        core = alone[len(before) : len(alone) - len(after)] if bracketed else alone
        at = text.find(core)
        if not core or at < 0 or any(start < at + len(core) and at < end for start, end, _ in spans):
            return _link(text, cites[0].key)
        spans.append((at, at + len(core), cite.key))
    for start, end, key in sorted(spans, reverse=True):
        text = text[:start] + _link(text[start:end], key) + text[end:]
    return text


def _narrative(text: str, cite: Cite, bibliography: Any, style: Any, bare: bool) -> str:
    """`@key` as "Author (2021)", `[-@key]` as "(2021)", in an author-date style; in a numeric
    or note style, "Author [1]" (citeproc-py has no author-only form: names from the entry)."""
    reference = bibliography.source.get(cite.key.lower())
    given = [_part(n, "family") or _part(n, "literal") for n in (_part(reference, "author") or [])]
    names = [str(name) for name in given if name]
    author = (
        (names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al.")
        if names
        else ""
    )
    year = _year(reference)
    category = style.root.find("cs:info/cs:category[@citation-format]", style.root.nsmap)
    author_date = category is None or category.get("citation-format") == "author-date"
    if not author_date or not author:  # (no author to name: the citation as the style writes it)
        return text if bare or not author else f"{html.escape(author)} {text}"
    locator = f", {_locator_text(cite)}" if cite.locator else ""
    when = f"({year}{locator})"
    return when if bare else f"{html.escape(author)} {when}"


def _part(record: Any, name: str) -> Any:
    """A field of a citeproc record, or None (a missing one raises its VariableError)."""
    try:
        return record[name]
    except Exception:  # noqa: BLE001 - citeproc's VariableError, KeyError: the field is not there
        return None


def _year(reference: Any) -> str:
    issued = _part(reference, "issued")
    year = getattr(issued, "year", None) if issued is not None else None
    return str(year) if year else "n.d."


def _locator_text(cite: Cite) -> str:
    label, value = cite.locator or ("", "")
    short = {"page": "p.", "chapter": "ch.", "section": "sec."}.get(label, label)
    if label == "page" and re.search(r"[-–,]", value):
        short = "pp."
    return f"{short} {html.escape(value)}"


def _missing(original: str) -> str:
    return f'<strong class="kr-cite-missing">?{original}</strong>'


def _unresolved(body: str, found: list[tuple[str, list[Cite] | Cite]]) -> str:
    return re.sub("\ue000kr-cite-(\\d+)\ue001", lambda m: _missing(found[int(m.group(1))][0]), body)


_URL = re.compile(r"(https?://[^\s<>\"]+[^\s<>\".,;:)])")


def _url_link(match: re.Match[str]) -> str:
    return f'<a href="{match.group(1)}">{match.group(1)}</a>'


def _references(entries: list[tuple[str, str]]) -> str:
    """The References section, each entry with the id its citations link to (URLs as links)."""
    if not entries:
        return ""
    items = "".join(
        f'<li class="csl-entry" id="ref-{html.escape(key)}">{_URL.sub(_url_link, text)}</li>'
        for key, text in entries
    )
    return (
        '<section class="references" id="references" role="doc-bibliography">'
        f'<h2 id="references-title">References</h2><ul class="csl-bib-body">{items}</ul></section>'
    )


_SOURCE_CODE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[ \t]*$|(`+)[^`].*?\2", re.S | re.M)


def source_citations(text: str) -> list[tuple[int, str]]:
    """(offset, key) of each key cited in brackets in Markdown prose (code left out), for
    `knowrepo check`."""
    prose = _SOURCE_CODE.sub(lambda m: " " * len(m.group(0)), text)
    found = []
    for match in _BRACKETED.finditer(prose):
        cites = parse_bracketed(match.group(1))
        if cites and not any(c.key.split("-", 1)[0] in ("fig", "tbl", "sec", "eq") for c in cites):
            found += [(match.start(), cite.key) for cite in cites]
    return found


def citation_message(key: str, where: str = "has no entry") -> str:
    """E201's line."""
    if where == "names no bibliography":
        return f"the citation of '{key}' cannot be resolved: the front matter names no bibliography"
    return f"the citation of '{key}' leads to no entry of the report's bibliography"
