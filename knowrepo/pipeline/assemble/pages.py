"""One report's pages: its latest page, a page per variant and per run (history.py makes its run
history and compare pages).

A page's key hashes everything it shows; when the published page has that key, it is reused.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import posixpath
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from knowrepo.model import Card, RenderedPage, Report, Run
from knowrepo.pipeline.assemble.history import (
    compare_page,
    history_pages,
    latest_of,
    run_data,
    script_json,
    shown_of,
)
from knowrepo.pipeline.assemble.links import page_body, page_path, rel, relative_root
from knowrepo.pipeline.assemble.listings import SiteContext
from knowrepo.pipeline.assemble.provenance import provenance, run_linker
from knowrepo.pipeline.assemble.skeleton import LEAN_SUFFIX, skeleton
from knowrepo.pipeline.dates import page_dated
from knowrepo.pipeline.files import BYTES, COPY, REUSE
from knowrepo.pipeline.private import published_source, report_secrets
from knowrepo.pipeline.textnotebook import SOURCE_KINDS, SourceKind, source_kind_of
from knowrepo.plugins import PageContext, Part
from knowrepo.support.hashing import key_of
from knowrepo.support.numbers import bounded_map
from knowrepo.support.tracebacks import repository_roots, shorten_outputs

if TYPE_CHECKING:
    from jinja2 import Environment

    from knowrepo.pipeline.execute.plan import ReportPlan, VariantPlan
    from knowrepo.pipeline.render.views import View


def make_card(report: Report, page: RenderedPage, run: Run | None = None, failed: bool = False) -> Card:
    """What listing pages show of a report."""
    meta, dated = report.meta, page_dated(report, run)
    return Card(
        slug=report.slug,
        title=meta.title,
        authors=meta.authors,
        tags=meta.tags,
        date=dated["date"],
        summary=meta.summary or page.excerpt,
        thumbnail=page.thumbnail,
        kind=report.kind,
        unlisted=meta.unlisted,
        metrics=bounded_map(dict(list((run.metrics if run else {}).items())[:3])),
        failed=failed,
        dated=dated["word"],
        period=dated["period"],
        variant=run.variant if run and meta.variants else "",
        metric_styles=dict(run.metric_styles) if run else {},
    )


def rerun_command(run: Run) -> str:
    """The exact command that reruns a recorded run (private values are asked for again),
    quoted for a shell: a reader pastes it."""
    return shlex.join(["knowrepo", "run", "--from", run.id])


class Download(TypedDict):
    """A download a page offers (the source, the executed notebook, the PDF)."""

    href: str
    label: str
    name: str
    assemble: NotRequired[bool]  # site.js puts the images back into this lean notebook


def _plain(value: object) -> object:
    """`value` with runs as their records: what a page's key is made of."""
    if isinstance(value, Run):
        return value.to_json()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class ReportPages:
    """Builds the pages of one report; `files` and `searchable` are the result."""

    env: Environment
    ctx: SiteContext
    report: Report
    plan: ReportPlan | None  # None for a Markdown report or one shown as it is
    views: dict[str, View]
    bodies: dict[str, RenderedPage]
    slug_by_source: dict[str, str]
    digest: str
    reuse: Callable[[str, str], bool]
    pdfs: dict[str, str]  # page path -> the site path of its PDF
    page_passes: list[Part]  # the registry's passes over a body as it goes on a page
    files: list[tuple[str, str, bytes | str | None, str]] = field(
        default_factory=list
    )  # (path, kind, value, key)
    stale: str = ""  # why a published run of it is stale (its card says so)
    code_changed: str = ""  # what changed of its code since a published run (its card says so)
    searchable: dict[str, str] = field(default_factory=dict)  # indexed page -> its key
    images: set[str] = field(default_factory=set)
    # A notebook download's site path -> where it is published and whether site.js assembles it.
    notebooks: dict[str, tuple[str, bool]] = field(default_factory=dict)

    @property
    def _source_download(self) -> Download:
        report = self.report
        label = self._kind.download
        href = f"{report.slug}/{report.filename}"
        if report.source.endswith(".ipynb"):
            href = self._notebook(href, str(self.ctx.config.root / report.source))
        return {"href": href, "label": label, "name": report.filename, "assemble": href in self._lean}

    def build(self) -> Card:
        """Every page (into self.files); returns the report's card."""
        report = self.report
        variants = [v for v in (self.plan.variants if self.plan else []) if v.shown is not None]
        shown = [self.views[r.id] for v in variants for r in v.runs] if variants else [self.views["source"]]
        bodies = [self.bodies[v.key] for v in shown if v.key in self.bodies]
        self.images = {name for b in bodies for name in [*b.images, b.thumbnail] if name}  # (all pages')
        if variants:
            card = self._run_pages(variants)
        else:
            view = self.views["source"]
            path = page_path(report.slug)
            downloads = [self._download(path, self._source_download)]
            self._page(
                path,
                view,
                indexed=True,
                downloads=downloads,
                run=None,
                variants=[],
                links={},
                banner=None,
                superseded=None,
                stale="",
                code_changed="",
                page_kind="latest",
            )
            card = make_card(report, self.bodies[view.key])
        if not report.source.endswith(".ipynb"):
            source = str(self.ctx.config.root / report.source)
            hidden = self._without_secrets(source)
            self.files.append(
                (self._source_download["href"], *((COPY, source) if hidden is None else (BYTES, hidden)), "")
            )
        return replace(card, source_kind=self._kind.card)

    @functools.cached_property  # (a MyST notebook's header is read once, not once per run page)
    def _kind(self) -> SourceKind:
        """What the source is (a notebook, a percent script, a MyST notebook...), as shown."""
        return SOURCE_KINDS[source_kind_of(self.ctx.config.root, self.report.source, self.report.kind)]

    def _without_secrets(self, source: str) -> bytes | None:
        """The file at `source` as published when it holds the report's private values (its
        front matter, a run notebook's copy of it), else None: it is published as it is."""
        meta = self.report.meta
        if not meta.private_params:
            return None

        with open(source, "rb") as handle:
            data = handle.read()
        clean = published_source(source, data, report_secrets(meta))
        return None if clean is data else clean

    def _without_server_paths(self, source: str, hidden: bytes | None) -> bytes | None:
        """The notebook at `source` (or `hidden`, its text as published) with no path of this
        machine in its tracebacks and stderr (shorten_outputs), when it has any; else `hidden`."""
        if not source.endswith(".ipynb"):
            return hidden
        with open(source, "rb") as handle:
            data = hidden if hidden is not None else handle.read()
        if not any(sign in data for sign in (b'"error"', b'"stderr"', b'_path": "/')):  # (most: not parsed)
            return hidden
        try:
            nb = json.loads(data)
        except (ValueError, RecursionError):
            return hidden
        if not shorten_outputs(nb, repository_roots(self.ctx.config.root)):
            return hidden
        return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode()

    @property
    def _lean(self) -> set[str]:
        return {published for published, lean in self.notebooks.values() if lean}

    def _notebook(self, path: str, source: str) -> str:
        """Publish a notebook download once; where it went. Without the images the report's
        pages publish, it goes to `<path>.lean.json` (site.js puts the images back on
        download): never a notebook with markers under a .ipynb name (curl, no JavaScript)."""
        if path not in self.notebooks:
            lean, hidden = None, self._without_server_paths(source, self._without_secrets(source))
            if self.ctx.config.site.notebook_downloads == "lean":
                with open(source, "rb") as handle:
                    lean = skeleton(hidden if hidden is not None else handle.read(), self.images)
            if lean is None:
                self.notebooks[path] = (path, False)
                self.files.append((path, *((COPY, source) if hidden is None else (BYTES, hidden)), ""))
            else:
                self.notebooks[path] = (path + LEAN_SUFFIX, True)
                self.files.append((path + LEAN_SUFFIX, BYTES, lean, ""))
        return self.notebooks[path][0]

    def _run_pages(self, variants: list[VariantPlan]) -> Card:
        assert self.plan is not None
        slug, default = self.report.slug, variants[0]
        switcher = [
            {
                "name": v.name,
                "path": f"{slug}/v/{v.name}/",
                "status": latest_of(v).status,
                "params": shown_of(v).params,
            }
            for v in variants
        ]
        for variant in variants:
            path = f"{slug}/v/{variant.name}/index.html"
            extra = self._run_extra(path, variant, shown_of(variant), "variant", switcher)
            # The default variant is indexed as the report page.
            self._page(
                path,
                self.views[shown_of(variant).id],
                indexed=variant is not default,
                variant=variant.name,
                **extra,
            )
            self._each_run_page(variant, switcher)
        for variant in self.plan.variants:  # (one tried only in scratch runs: its runs' pages,
            if variant.shown is None:  # which the history and compare link to, and no page of its own)
                self._each_run_page(variant, switcher)
        shown = shown_of(default)
        label = default.name if len(variants) > 1 else ""
        extra = self._run_extra(page_path(slug), default, shown, "latest", switcher)
        self._page(page_path(slug), self.views[shown.id], indexed=True, variant=label, **extra)
        compare = f"{slug}/compare/index.html"
        self.files.append(
            (compare, BYTES, compare_page(self.env, self.ctx, self.report, self.plan, compare), "")
        )
        for path, page in history_pages(self.env, self.ctx, self.report, self.plan, self.notebooks):
            self.files.append((path, BYTES, page, ""))
        failed = any(not latest_of(v).ok for v in variants)
        card = make_card(self.report, self.bodies[self.views[shown.id].key], shown, failed=failed)
        return replace(card, stale=self.stale, code_changed=self.code_changed)

    def _each_run_page(self, variant: VariantPlan, switcher: list[dict[str, Any]]) -> None:
        slug = self.report.slug
        for run in variant.runs:
            path = f"{slug}/runs/{run.id}/index.html"
            self._page(path, self.views[run.id], **self._run_extra(path, variant, run, "run", switcher))
            if run.has_notebook:
                self._notebook(f"{slug}/runs/{run.id}/notebook.ipynb", str(run.notebook))

    def _run_extra(
        self, path: str, variant: VariantPlan, run: Run, kind: str, switcher: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """What a page of one run shows around its body (a variant with only scratch runs has
        no latest run: a run page needs none)."""
        slug, latest = self.report.slug, variant.latest or run
        banner = None
        if kind != "run" and not latest.ok:
            banner = {"latest": latest, "showing_ok": run.ok, "href": rel(path, f"{slug}/runs/{latest.id}/")}
        elif kind == "run" and not run.ok:
            banner = {"latest": run, "showing_ok": False, "href": None}
        downloads = [self._download(path, self._source_download)]
        if run.has_notebook:
            href = self._notebook(f"{slug}/runs/{run.id}/notebook.ipynb", str(run.notebook))
            notebook: Download = {
                "href": href,
                "assemble": href in self._lean,
                "label": "Executed notebook",
                "name": f"{run.id}.ipynb",
            }
            downloads.append(self._download(path, notebook))
        others = [{**v, "href": rel(path, v["path"]), "current": v["name"] == variant.name} for v in switcher]
        links = {
            "history": rel(path, f"{slug}/runs/"),
            "run": rel(path, f"{slug}/runs/{run.id}/"),
            "latest": rel(path, f"{slug}/"),
        }
        shown = variant.shown
        stale = variant.stale if run is shown else ""
        if stale and kind != "run":
            self.stale = self.stale or stale
        code_changed = variant.code_changed if run is shown else ""
        if code_changed and kind != "run":
            self.code_changed = self.code_changed or code_changed
        superseded = None
        if kind == "run" and shown is not None and run.id != shown.id:
            where = f"{slug}/v/{variant.name}/" if len(switcher) > 1 else f"{slug}/"
            label = variant.name if len(switcher) > 1 else ""
            superseded = {
                "id": shown.id,
                "started": shown.started,
                "variant": label,
                "href": rel(path, where),
            }
        return {
            "stale": stale,
            "code_changed": code_changed,
            "superseded": superseded,
            "downloads": downloads,
            "run": run,
            "variants": others if len(switcher) > 1 else [],
            "links": links,
            "banner": banner,
            "page_kind": kind,
            "rerun": rerun_command(run),
            "run_record": script_json(run_data(run)) if kind == "run" else "",  # (for compare.js)
            "provenance": provenance(run, run_linker(path, slug, self._run_ids)),
        }

    @functools.cached_property
    def _run_ids(self) -> frozenset[str]:
        """The ids of the report's runs (each has its page)."""
        return frozenset(r.id for v in (self.plan.variants if self.plan else []) for r in v.runs)

    def _page(self, path: str, view: View, indexed: bool = False, variant: str = "", **extra: Any) -> None:
        from markupsafe import Markup  # (jinja2's: where pages are assembled)

        report, body = self.report, self.bodies[view.key]
        listed = not (report.meta.unlisted or report.meta.draft)
        if path in self.pdfs:
            pdf: Download = {
                "href": self.pdfs[path],
                "label": "PDF",
                "name": posixpath.basename(self.pdfs[path]),
            }
            extra["downloads"] = [self._download(path, pdf), *extra.get("downloads", [])]
        thumb = f"{self.ctx.config.site.base_path}assets/img/{body.thumbnail}" if body.thumbnail else ""
        extra["dated"] = dated = page_dated(report, extra.get("run"))
        extra["search"] = {
            "indexed": indexed and listed,
            "thumbnail": thumb,
            "variant": variant,
            "year": dated["date"][:4],
            "type": report.kind,
        }
        extra["source_kind"] = self._kind.label
        # (the files the body read: a body rendered again for an edited image or bibliography,
        # under the same view key, is a new page)
        key = key_of(
            self.digest,
            view.key,
            sorted(body.deps.items()),
            report.meta.to_json(),
            report.date,
            _plain(extra),
        )
        if indexed and listed:
            self.searchable[path] = key
        if self.reuse(path, key):
            self.files.append((path, REUSE, None, key))
            return
        html = page_body(
            body.body,
            PageContext(report.source, path, relative_root(path), self.slug_by_source),
            self.page_passes,
        )
        page = self.env.get_template("report.html").render(
            **self.ctx.common(path),
            title=report.meta.title,
            report=report,
            meta=report.meta,
            body=Markup(html),
            toc=body.toc,
            **extra,
        )
        self.files.append((path, BYTES, page.encode(), key))

    @staticmethod
    def _download(page: str, item: Download) -> Download:
        return {**item, "href": rel(page, item["href"])}


def format_date(value: str) -> str:
    """2026-11-02 -> 2 Nov 2026 (unparseable values pass through)."""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"
