"""PDF export: WeasyPrint lays out the same rendered body with the theme's print stylesheet.

WeasyPrint runs no JavaScript and lays out no MathML, so formulas are drawn as SVG by ziamath,
from the page's own MathML. The output is deterministic: dates come from the
run and the PDF identifier from its content, so one run always gives the same bytes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from knowrepo import __version__
from knowrepo.errors import KnowrepoError, WriteError, write_error
from knowrepo.model import RenderedPage, Report, Run
from knowrepo.pipeline.assemble.links import ATTRIBUTES, page_body, relative_root
from knowrepo.pipeline.assemble.theme import template_failure
from knowrepo.pipeline.render.equations import drawable_parts
from knowrepo.pipeline.render.job import ASSET_PREFIX
from knowrepo.plugins import PageContext, Part
from knowrepo.support.atomic import write_atomic
from knowrepo.support.hashing import key_of
from knowrepo.support.pool import run_parallel
from knowrepo.support.quiet import captured
from knowrepo.support.text import read_text

if TYPE_CHECKING:
    from jinja2 import Environment
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    from knowrepo.config import Config
    from knowrepo.pipeline.execute.plan import ReportPlan
    from knowrepo.pipeline.render.views import View
    from knowrepo.pipeline.state import BuildState

_MATH = re.compile(r'<math\b[^>]*?\balttext="([^"]*)"[^>]*?\bdisplay="(block|inline)"[^>]*>.*?</math>', re.S)
# Pygments spans that only carry the default text colour: on paper they change nothing but
# cost WeasyPrint an inline box each (code cells are most of a notebook's layout time).
_PLAIN_TOKENS = re.compile(r'<span class="(?:n|p|o|w|nn|nv)">([^<]*)</span>')
_TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.S)
_CLASSES = re.compile(r'class="([^"]*)"')
_TOKEN_RULE = re.compile(r"^\.highlight \.(\S+) \{[^}]*\}", re.M)
_HEAD_CELLS = re.compile(r"<tr\b.*?</tr>", re.S)


@functools.cache
def _token_rules() -> dict[str, str]:
    """Pygments' colour rule of each token class (its rules for pre, line numbers and the
    block's background are the print stylesheet's job)."""
    from pygments.formatters import HtmlFormatter  # (Pygments: only where its stylesheet is made)

    defs = HtmlFormatter(style="xcode").get_style_defs(".highlight")
    return {match.group(1): match.group(0) for match in _TOKEN_RULE.finditer(defs)}


def token_css(body: str) -> str:
    """The colour rules of the token classes a body uses: WeasyPrint matches every rule against
    every element, and a report uses a tenth of Pygments' 80 (5% of a PDF's time, measured)."""
    used = {name for names in _CLASSES.findall(body) for name in names.split()}
    return "\n".join(rule for name, rule in _token_rules().items() if name in used)


def pdf_name(slug: str, variant: str = "") -> str:
    """`sales/monthly-revenue` -> `sales-monthly-revenue.pdf` (slashes as dashes)."""
    return slug.replace("/", "-") + (f"-{variant}" if variant else "") + ".pdf"


def _svg_image(mathml: str, size: float, css_class: str, alt: str) -> str:
    """One MathML drawing as an <img> of its SVG (ziamath)."""
    import ziamath  # (ziamath: only for formulas in a PDF)

    data = base64.b64encode(ziamath.Math(mathml, size=size).svg().encode()).decode()
    return f'<img class="{css_class}" alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{data}">'


def math_to_svg(body: str) -> str:
    """Each MathML formula as an SVG image that ziamath draws from the same MathML the page
    shows (numbers and references filled in); a numbered one as the formula centred and its
    numbers at the right margin, beside their rows."""

    def draw(match: re.Match[str]) -> str:
        latex, display = html.unescape(match.group(1)), match.group(2)
        size = 14  # (px: the text is 9.8pt = 13px; math 1.08 times it, as on the page)
        try:
            formula, numbers = drawable_parts(match.group(0))
            image = _svg_image(formula, size, f"math-{display}", latex)
            if numbers is None:
                return image
            return f'<span class="math-numbered">{image}{_svg_image(numbers, size, "math-eqno", "")}</span>'
        except Exception:  # ziamath raises many types for MathML it cannot draw: keep the source
            return f'<code class="math-error">{html.escape(latex)}</code>'

    return _MATH.sub(draw, body)


# Text widths (points) of the page less its 18 mm margins, portrait and landscape. Measured in
# pdftotext: a character of Inter is up to 0.6 em wide (0.66 em bold, in a header cell); a
# cell's padding is 1.2 em.
_TEXT_WIDTH = {"A4": (493.0, 740.0), "Letter": (510.0, 690.0)}
_CHAR_EM = {"h": 0.66, "d": 0.6}
_CELL = re.compile(r"<t([hd])\b([^>]*)>(.*?)</t[hd]>", re.S)
_MIN_PT, _MAX_PT = 6.0, 8.0


def table_em(table: str) -> float:
    """The width in em a table needs when no cell breaks inside a word (nor a number at all)."""
    widths: dict[int, float] = {}
    for row in _HEAD_CELLS.findall(table):
        for column, (kind, attrs, inner) in enumerate(_CELL.findall(row)):
            text = html.unescape(re.sub(r"<[^>]+>", " ", inner)).strip()
            unbreakable = text if 'class="num' in attrs else max(text.split() or [""], key=len)
            widths[column] = max(widths.get(column, 0.0), len(unbreakable) * _CHAR_EM[kind] + 1.2)
    return sum(widths.values())


def fit_tables(body: str, paper: str = "A4") -> str:
    """Wide tables set small enough for the page, never broken inside a word or a number: the
    size their longest words need, at most 8 pt; one that needs less than 6 pt turns to a
    landscape page of its own (where it still needs less, it is set at 6 pt and wraps)."""
    portrait, landscape = _TEXT_WIDTH.get(paper, _TEXT_WIDTH["A4"])

    def mark(match: re.Match[str]) -> str:
        em = table_em(match.group(2)) or 1.0
        size, turned = min(_MAX_PT, portrait / em), ""
        if size < _MIN_PT:
            size, turned = max(_MIN_PT, min(_MAX_PT, landscape / em)), " table-landscape"
        attrs = re.sub(r'\s(class|style)="[^"]*"', "", match.group(1))  # (pandas' own: not for print)
        style = f"font-size: {size:.1f}pt"
        return f'<table{attrs} class="fitted{turned}" style="{style}">{match.group(2)}</table>'

    return _TABLE.sub(mark, body)


# An <a> with its href in either quotes.
_LINK = re.compile(rf"""<a\b({ATTRIBUTES})\bhref=(["'])(.*?)\2({ATTRIBUTES})>(.*?)</a>""", re.S | re.I)


def print_links(
    body: str,
    report: Report,
    slug_by_source: dict[str, str],
    site_url: str | None,
    page_passes: Sequence[Part] = (),
) -> str:
    """Links as a PDF reader can follow them: to other reports and site files, the page on the
    site when base_url is absolute, else plain text; never a file:// URL of the build machine.
    The body goes through the registry's `page_passes` first, as on the report's page."""
    page = f"{report.slug}/index.html"
    body = page_body(body, PageContext(report.source, page, relative_root(page), slug_by_source), page_passes)

    def follow(match: re.Match[str]) -> str:
        before, _quote, href, after, inner = match.groups()
        target = html.unescape(href).strip()
        parts = urlsplit(target)
        if target.startswith("#") or parts.scheme.lower() in ("http", "https", "mailto"):
            return match.group(0)
        here = urlsplit(urljoin("https://site.invalid/" + page, target))
        if not parts.scheme and here.fragment and here.path in (f"/{report.slug}/", f"/{page}"):
            return f'<a{before}href="#{html.escape(here.fragment)}"{after}>{inner}</a>'  # (within the PDF)
        unpublished = parts.path.lower().endswith((".ipynb", ".md", ".py"))  # (a draft, a missing report)
        if site_url is None or parts.scheme or unpublished:  # (file:, javascript: ...)
            return f"<span{before}{after}>{inner}</span>"
        url = html.escape(urljoin(site_url + page, target))
        return f'<a{before}href="{url}"{after}>{inner}</a>'

    return _LINK.sub(follow, body)


def print_html(
    env: Environment,
    config: Config,
    report: Report,
    body: RenderedPage,
    run: Run | None,
    variant: str,
    assets_dir: Path,
    slug_by_source: dict[str, str],
    page_passes: Sequence[Part],
) -> str:
    """The standalone print document of one report (or one run of it), without the theme's
    print stylesheet: PdfJob carries that, to be parsed once per process. The theme's
    print.html failing on this report is a KnowrepoError naming the report."""
    from markupsafe import Markup  # (jinja2's: where pages are assembled)

    text = body.body.replace(ASSET_PREFIX, assets_dir.resolve().as_uri() + "/")
    text = print_links(text, report, slug_by_source, config.site.absolute_url, page_passes)
    text = fit_tables(math_to_svg(_PLAIN_TOKENS.sub(r"\1", text)), config.pdf.paper)
    date = (run.started if run else "") or report.date
    try:
        return env.get_template("print.html").render(
            site=config.site,
            report=report,
            meta=report.meta,
            body=Markup(text),
            toc=body.toc,
            run=run,
            variant=variant,
            created=date,
            paper=config.pdf.paper,
            version=__version__,
            pygments=Markup(token_css(text)),
        )
    except Exception as exc:  # the theme's print.html fails on this report
        raise KnowrepoError(report.source, f"PDF: {template_failure(exc)}") from None


def print_stylesheet(files: dict[str, Path]) -> str:
    """The theme's print.css (empty when the theme has none)."""
    return read_text(files["static/print.css"]) if "static/print.css" in files else ""


def pdf_base_url(config: Config, report: Report) -> str:
    """What a link print_links left relative resolves against: the report's page on the site,
    or nothing (a relative link), never the build folder (file:// links in the PDF)."""
    site_url = config.site.absolute_url
    return f"{site_url}{report.slug}/" if site_url else ""


@dataclass(frozen=True)
class PdfJob:
    """One PDF to lay out (picklable, for worker processes)."""

    key: str
    source: str
    html: str
    base_url: str
    allowed: tuple[str, ...] = ()  # folders whose files the PDF may embed (the site's images)
    stylesheet: str = ""  # the theme's print.css


def site_fetcher(allowed: tuple[str, ...]) -> URLFetcher:
    """WeasyPrint's URL fetcher, limited to data: URLs and files in `allowed`: a report's HTML
    can neither embed a local file (an image or rel="attachment" of file:///...) nor make the
    build fetch a URL."""
    from urllib.request import url2pathname  # (~10 ms, and WeasyPrint: where a PDF is laid out)

    from weasyprint.urls import URLFetcher

    folders = [Path(folder).resolve() for folder in allowed]

    class SiteFetcher(URLFetcher):  # type: ignore[misc]  # (WeasyPrint ships no types: its class is Any)
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "file":
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if any(path.is_relative_to(folder) for folder in folders) and path.is_file():
                    return super().fetch(url, headers)
            elif scheme == "data":
                return super().fetch(url, headers)
            raise ValueError(f"a PDF embeds only the site's own files, not {url[:200]}")

    return SiteFetcher(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=5)


_fonts: FontConfiguration | None = None


def _font_config() -> FontConfiguration:
    """One WeasyPrint font configuration per process: loaded faces are reused across PDFs."""
    global _fonts
    if _fonts is None:
        from weasyprint.text.fonts import FontConfiguration  # (WeasyPrint: only where a PDF is laid out)

        _fonts = FontConfiguration()
    return _fonts


@functools.lru_cache(maxsize=4)
def _parsed(stylesheet: str) -> CSS:
    """The theme's print stylesheet parsed once per process (8% of each PDF's time when it was
    parsed in every document). WeasyPrint takes it as a user stylesheet, so a report's own
    styles win over it where both set a property, as they do on the site's pages."""
    from weasyprint import CSS  # (WeasyPrint: only where a PDF is laid out)

    return CSS(string=stylesheet, font_config=_font_config())


def _faster_compression() -> None:
    """pydyf compresses each PDF stream at zlib level 9 and has no setting for it; level 6 takes
    40% of the time for 0.8% more bytes (the example's fonts and pages, measured), 7% of a PDF's
    time. So pydyf's zlib is one whose compressobj caps the level at 6."""
    import pydyf  # (WeasyPrint's: only where a PDF is written)

    class CappedZlib:
        def __getattr__(self, name: str) -> Any:
            return getattr(zlib, name)

        @staticmethod
        def compressobj(level: int = -1, *args: Any, **kwargs: Any) -> Any:
            return zlib.compressobj(min(level, 6), *args, **kwargs)

    if getattr(pydyf, "zlib", None) is zlib:
        pydyf.zlib = CappedZlib()


def render_pdf(job: PdfJob) -> bytes | KnowrepoError:
    """The PDF bytes, or the error naming the report (never raised: one report never stops
    the others)."""
    return lay_out(job)[0]


def lay_out(job: PdfJob) -> tuple[bytes | KnowrepoError, list[str]]:
    """render_pdf, and what WeasyPrint said meanwhile (unsupported CSS, fonts): for the build to
    show once, with -v, however many PDFs and worker processes said it."""
    with captured("weasyprint") as notes:
        outcome = _write_pdf(job)
    return outcome, notes


def _write_pdf(job: PdfJob) -> bytes | KnowrepoError:
    try:
        from weasyprint import HTML  # (WeasyPrint: only where a PDF is laid out)

        identifier = hashlib.sha256(job.html.encode()).hexdigest()[:32].encode()
        _faster_compression()
        document = HTML(string=job.html, base_url=job.base_url, url_fetcher=site_fetcher(job.allowed))
        sheets = [_parsed(job.stylesheet)] if job.stylesheet.strip() else []
        options = {"pdf_identifier": identifier, "font_config": _font_config(), "stylesheets": sheets}
        pdf: bytes
        try:  # PDF/UA-1: tagged (structure, reading order, alt text) for screen readers
            pdf = document.write_pdf(pdf_variant="pdf/ua-1", **options)
        except Exception:  # tagging fails on some layouts (WeasyPrint #2601): untagged, not none
            pdf = document.write_pdf(**options)
        return pdf
    except Exception as exc:  # WeasyPrint's errors are many and undocumented
        return write_error(exc) or KnowrepoError(
            job.source, f"PDF export failed: {type(exc).__name__}: {exc}"
        )


# ---- the build's PDF step ---------------------------------------------------------------


def pdf_targets(
    report: Report, plan: ReportPlan | None, views: dict[str, View]
) -> list[tuple[str, str, View, str]]:
    """(page path, PDF path, view, variant label) of every PDF a report's pages offer: its
    latest page and each variant's."""
    slug = report.slug
    if plan is None or not any(v.runs for v in plan.variants):
        return [(f"{slug}/index.html", f"{slug}/{pdf_name(slug)}", views["source"], "")]
    shown = [(v, run) for v in plan.variants if (run := v.shown) is not None]
    targets = []
    for variant, run in shown:
        name = variant.name if len(shown) > 1 else ""
        view = views[run.id]
        pdf = pdf_name(slug, name)
        targets.append((f"{slug}/v/{variant.name}/index.html", f"{slug}/v/{variant.name}/{pdf}", view, name))
        if variant is shown[0][0]:
            targets.append((f"{slug}/index.html", f"{slug}/{pdf}", view, name))
    return targets


def build_pdfs(state: BuildState) -> None:
    """A PDF of each report's latest page and of each variant, cached by what shapes it, into
    state.pdfs ({slug: {page path: PDF site path}}) and state.pdf_files ({PDF path: file})."""
    caches = state.config.caches
    stylesheet = print_stylesheet(state.theme_files)
    jobs: dict[str, tuple[PdfJob, list[tuple[str, str, str]]]] = {}
    for report in state.reports:
        if report.source in state.failed or report.slug in state.kept:
            continue
        for page, pdf_path, view, variant in pdf_targets(
            report, state.plans.get(report.slug), state.views[report.slug]
        ):
            key = _pdf_key(state, report, view, variant)
            if key is None:
                continue
            if key not in jobs and not caches.pdf(key).exists():
                if (job := _pdf_job(state, report, view, variant, key, stylesheet)) is None:
                    continue
                jobs[key] = (job, [])
            if key in jobs:
                jobs[key][1].append((report.slug, page, pdf_path))
            else:
                state.pdfs.setdefault(report.slug, {})[page] = pdf_path
                state.pdf_files[pdf_path] = caches.pdf(key)
    if not jobs:
        return

    said: set[str] = set()

    def done(job: PdfJob, result: tuple[bytes | KnowrepoError, list[str]]) -> None:
        outcome, notes = result
        for note in notes:
            if note not in said:
                said.add(note)
                state.reporter.detail(f"PDF of {job.source}: {note}")
        if isinstance(outcome, WriteError):
            raise outcome
        if isinstance(outcome, KnowrepoError):
            state.complain(outcome)
        else:
            write_atomic(caches.pdf(job.key), outcome)
            state.result.pdfs += 1
            for slug, page, pdf_path in jobs[job.key][1]:
                state.pdfs.setdefault(slug, {})[page] = pdf_path
                state.pdf_files[pdf_path] = caches.pdf(job.key)
        state.reporter.advance(job.source)

    state.reporter.phase("PDF", len(jobs))
    try:
        run_parallel(
            lay_out, [job for job, _targets in jobs.values()], state.workers, done, on_crash=_crashed
        )
    finally:
        state.reporter.end_phase()


def _pdf_key(state: BuildState, report: Report, view: View, variant: str) -> str | None:
    """What shapes the PDF of a view (None: its body did not render)."""
    if view.key not in state.bodies:
        return None
    record = view.run.to_json() if view.run is not None else None
    return key_of(
        view.key,
        report.meta.to_json(),
        report.date,
        record,
        variant,
        state.digest,
        state.config.pdf.paper,
        _code_digest(),
    )


@functools.cache
def _code_digest() -> str:
    """This module's source and that of the formulas it draws (equations.py): a change to how
    PDFs are made remakes the cached ones."""
    sources = (Path(__file__), Path(drawable_parts.__code__.co_filename))
    return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]


def _pdf_job(
    state: BuildState, report: Report, view: View, variant: str, key: str, stylesheet: str
) -> PdfJob | None:
    caches = state.config.caches
    assert state.env is not None
    try:
        html_text = print_html(
            state.env,
            state.config,
            report,
            state.bodies[view.key],
            view.run,
            variant,
            caches.assets,
            state.slug_by_source,
            state.load_registry().page_passes(),
        )
    except KnowrepoError as exc:
        state.complain(exc)
        return None
    base = pdf_base_url(state.config, report)
    return PdfJob(key, report.source, html_text, base, (str(caches.assets),), stylesheet)


def _crashed(job: PdfJob) -> tuple[KnowrepoError, list[str]]:
    """What lay_out would have returned: the error, and nothing WeasyPrint said."""
    return KnowrepoError(job.source, "its PDF killed the worker process twice"), []
