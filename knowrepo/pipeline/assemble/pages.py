"""Assemble: every page of the site as bytes, from reports, rendered bodies and the theme.

Pure functions of their arguments: the build decides what to render and where to write.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knowrepo import __version__
from knowrepo.config import Config
from knowrepo.errors import KnowrepoError
from knowrepo.model import RenderedPage, Report

# Top-level site paths that report slugs may not take.
RESERVED = {
    "tags", "authors", "assets", "search", "pagefind", "404.html", "index.html", "feed.xml", "sitemap.xml",
}  # fmt: skip
_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"#?]+\.(?:ipynb|md))((?:#[^"]*)?")', re.I)


@functools.lru_cache(maxsize=4096)  # a few names, met once per card that carries them
def slug_text(text: str) -> str:
    """A tag or author name as a URL segment: José García -> jose-garcia, 数据 -> 数据."""
    from knowrepo.pipeline.discover import opaque_slug, unicode_slug

    return re.sub(r"[-_]+", "-", unicode_slug(text)).strip("-") or opaque_slug(text)


def page_path(slug: str) -> str:
    return f"{slug}/index.html"


def relative_root(path: str) -> str:
    """The relative prefix from the page at `path` back to the site root ('' or '../..')."""
    return "../" * path.count("/")


def check_slug(report: Report) -> None:
    if report.slug.split("/", 1)[0] in RESERVED:
        raise KnowrepoError(
            report.source,
            f"slug '{report.slug}' would overwrite the site's own '{report.slug.split('/')[0]}' pages;"
            " rename the file",
        )


def card(
    report: Report, page: RenderedPage, run: dict[str, Any] | None = None, failed: bool = False
) -> dict[str, Any]:
    """What listing pages show of a report (stored in the manifest, so a report that fails
    later keeps its card)."""
    meta = report.meta
    return {
        "slug": report.slug,
        "title": meta.title,
        "authors": list(meta.authors),
        "tags": list(meta.tags),
        "date": report.date,
        "summary": meta.summary or page.excerpt,
        "thumbnail": page.thumbnail,
        "kind": report.kind,
        "unlisted": meta.unlisted,
        "metrics": dict(list((run or {}).get("metrics", {}).items())[:3]),
        "failed": failed,
    }


def rewrite_report_links(body: str, source: str, page: str, slug_by_source: dict[str, str]) -> str:
    """Links to other report sources (../churn.ipynb#x, other.md) become links to their pages.
    `page` is the site path of the page the body goes on."""
    here = posixpath.dirname(source)
    from_dir = posixpath.dirname(page)

    def swap(match: re.Match[str]) -> str:
        target = posixpath.normpath(posixpath.join(here, match.group(2)))
        target_slug = slug_by_source.get(target)
        if target_slug is None:
            return match.group(0)
        url = posixpath.relpath(target_slug, from_dir) + "/"
        return f"{match.group(1)}{url}{match.group(3)}"

    return _HREF.sub(swap, body)


@dataclass(frozen=True)
class SiteContext:
    """What every template gets besides its own data."""

    config: Config
    absolute_url: str | None
    generated: str  # ISO date of the newest report: deterministic, not the clock

    def common(self, path: str) -> dict[str, Any]:
        site = self.config.site
        return {
            "site": site,
            "root": relative_root(path),
            "base_path": site.base_path,
            "version": __version__,
            "path": path,
        }


def _group(cards: list[dict[str, Any]], key: str) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    for item in cards:
        for name in item[key]:
            slug = slug_text(name)
            groups.setdefault(slug, (name, []))[1].append(item)
    return dict(sorted(groups.items(), key=lambda kv: kv[1][0].lower()))


def card_key(card: dict[str, Any]) -> str:
    """A hash of everything a card shows (kept with the report between builds)."""
    return hashlib.sha256(json.dumps(card, sort_keys=True, default=str).encode()).hexdigest()[:32]


def listing_pages(
    env: Any,
    ctx: SiteContext,
    cards: list[dict[str, Any]],
    digest: str = "",
    reuse: Callable[[str, str], bool] | None = None,
    card_keys: dict[int, str] | None = None,
) -> tuple[dict[str, bytes | None], dict[str, str]]:
    """Index, tag and author pages, feed, sitemap and 404: every page that lists reports.

    Returns (pages, keys). A page's key hashes everything it shows; when `reuse(path, key)`
    says the published page has that key, the page is not rendered again (its value is None).
    `card_keys`: card_key() of cards already known, by id(card).
    """
    listed = sorted(
        (c for c in cards if not c["unlisted"]), key=lambda c: (c["date"], c["title"]), reverse=True
    )
    tags = _group(listed, "tags")
    authors = _group(listed, "authors")
    out: dict[str, bytes | None] = {}
    keys: dict[str, str] = {}

    # A card is hashed once, not once per page that lists it (1,000 reports, cProfile: the keys'
    # json.dumps took 0.08 s; hashing each card once and shaping the pages 0.05 s).
    known = card_keys or {}
    keyed = {id(c): known.get(id(c)) or card_key(c) for c in listed}

    def shape(value: Any) -> Any:
        """`value` with every card replaced by its hash: what a page's key is made of."""
        if isinstance(value, dict):
            key = keyed.get(id(value))
            return key if key else {k: shape(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [shape(v) for v in value]
        return value

    def emit(path: str, template: str, context: dict[str, Any]) -> None:
        key = hashlib.sha256(
            json.dumps([digest, template, shape(context)], sort_keys=True, default=str).encode()
        ).hexdigest()[:20]
        keys[path] = key
        if reuse is not None and reuse(path, key):
            out[path] = None
            return
        out[path] = env.get_template(template).render(**context).encode()

    def page(path: str, template: str, **data: Any) -> None:
        common = ctx.common(path)
        if path == "404.html":  # served at any depth: only absolute links work
            common["root"] = ctx.config.site.base_path
        emit(path, template, {**common, **data})

    page("index.html", "index.html", cards=listed, tags=tags, authors=authors, title=None)
    page("tags/index.html", "tags.html", groups=tags, title="Tags")
    for slug, (name, items) in tags.items():
        page(f"tags/{slug}/index.html", "tag.html", name=name, cards=items, title=f"Tag: {name}")
    page("authors/index.html", "authors.html", groups=authors, title="Authors")
    for slug, (name, items) in authors.items():
        page(f"authors/{slug}/index.html", "author.html", name=name, cards=items, title=name)
    page("404.html", "404.html", title="Page not found")
    page("search/index.html", "search.html", title="Search")
    base = ctx.absolute_url or ctx.config.site.base_path
    emit(
        "feed.xml",
        "feed.xml",
        {"site": ctx.config.site, "base": base, "cards": listed[:50], "updated": ctx.generated},
    )
    emit("sitemap.xml", "sitemap.xml", {"base": base, "cards": listed, "tags": tags, "authors": authors})
    return out, keys


def rel(from_page: str, target: str) -> str:
    """A relative link from the page at `from_page` to the site path `target`."""
    link = posixpath.relpath(target or ".", posixpath.dirname(from_page) or ".")
    return link + ("/" if target.endswith("/") and not link.endswith("/") else "")


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def rerun_command(record: dict[str, Any]) -> str:
    """The exact command that reruns a recorded run (private values are asked for again)."""
    return f"knowrepo run --from {record['id']}"


def report_pages(
    env: Any,
    ctx: SiteContext,
    report: Report,
    plan: Any,
    views: dict[str, Any],
    bodies: dict[str, RenderedPage],
    slug_by_source: dict[str, str],
    digest: str,
    reuse: Callable[[str, str], bool],
    pdfs: dict[str, str] | None = None,
) -> tuple[dict[str, tuple[str, Any, str]], dict[str, Any]]:
    """Every page of one report: the latest, one per variant, one per run, the run history.
    `pdfs` maps a page's path to the site path of its PDF, when PDFs are built.

    Returns ({site path: (kind, value, key)}, manifest entry). kind is "bytes", "file" (copy a
    file) or "reuse" (the published page already has this key).
    """
    from markupsafe import Markup

    from knowrepo.pipeline.render.job import ROOT_TOKEN

    slug = report.slug
    out: dict[str, tuple[str, Any, str]] = {}
    images: list[str] = []
    meta_json = report.meta.to_json()

    listed = not (report.meta.unlisted or report.meta.draft)
    searchable: dict[str, str] = {}  # indexed page -> its key

    def page(path: str, view: Any, indexed: bool = False, variant: str = "", **extra: Any) -> None:
        body_page = bodies[view.key]
        thumb = f"{ctx.config.site.base_path}assets/img/{body_page.thumbnail}" if body_page.thumbnail else ""
        if pdfs and path in pdfs:
            pdf = {"href": pdfs[path], "label": "PDF", "name": posixpath.basename(pdfs[path])}
            extra["downloads"] = [_download(path, pdf), *extra.get("downloads", [])]
        extra["search"] = {
            "indexed": indexed and listed,
            "thumbnail": thumb,
            "variant": variant,
            "year": report.date[:4],
            "type": report.kind,
        }
        key = _key(digest, view.key, meta_json, report.date, extra)
        if indexed and listed:
            searchable[path] = key
        if reuse(path, key):
            out[path] = ("reuse", None, key)
            return
        body = rewrite_report_links(body_page.body, report.source, path, slug_by_source)
        body = body.replace(ROOT_TOKEN, relative_root(path))
        html = env.get_template("report.html").render(
            **ctx.common(path),
            title=report.meta.title,
            report=report,
            meta=report.meta,
            body=Markup(body),
            toc=body_page.toc,
            **extra,
        )
        out[path] = ("bytes", html.encode(), key)

    source_download = {
        "href": f"{slug}/{report.filename}",
        "label": "Source " + ("notebook" if report.kind == "notebook" else "Markdown"),
        "name": report.filename,
    }
    runs_with_variants = [(v, r) for v in (plan.variants if plan else []) for r in v.runs]

    if not runs_with_variants:
        view = views["source"]
        page(
            page_path(slug),
            view,
            indexed=True,
            downloads=[_download(page_path(slug), source_download)],
            run=None,
            variants=[],
            links={},
            banner=None,
            page_kind="latest",
        )
        shown_body = bodies[view.key]
        images += shown_body.images + ([shown_body.thumbnail] if shown_body.thumbnail else [])
        entry_card = card(report, shown_body)
    else:
        variant_pages = []
        for variant in plan.variants:
            if variant.shown is not None:
                variant_pages.append(variant)
        default = variant_pages[0]
        switcher = [
            {
                "name": v.name,
                "path": f"{slug}/v/{v.name}/",
                "status": v.latest.record["status"],
                "params": v.shown.record["params"],
            }
            for v in variant_pages
        ]
        history = f"{slug}/runs/"

        def run_extra(path: str, variant: Any, run: Any, kind: str) -> dict[str, Any]:
            record = run.record
            latest = variant.latest.record
            banner = None
            if kind != "run" and latest["status"] != "ok":
                banner = {
                    "latest": latest,
                    "showing_ok": run.ok,
                    "href": rel(path, f"{slug}/runs/{latest['id']}/"),
                }
            elif kind == "run" and not run.ok:
                banner = {"latest": record, "showing_ok": False, "href": None}
            notebook = f"{slug}/runs/{run.id}/notebook.ipynb"
            downloads = [_download(path, source_download)]
            if run.has_notebook:
                executed = {"href": notebook, "label": "Executed notebook", "name": f"{run.id}.ipynb"}
                downloads.append(_download(path, executed))
            return {
                "downloads": downloads,
                "run": record,
                "variants": [
                    {**v, "href": rel(path, v["path"]), "current": v["name"] == variant.name}
                    for v in switcher
                ]
                if len(switcher) > 1
                else [],
                "links": {
                    "history": rel(path, history),
                    "run": rel(path, f"{slug}/runs/{run.id}/"),
                    "latest": rel(path, f"{slug}/"),
                },
                "banner": banner,
                "page_kind": kind,
                "rerun": rerun_command(record),
            }

        for variant in variant_pages:
            shown = variant.shown
            page(
                f"{slug}/v/{variant.name}/index.html",
                views[shown.id],
                indexed=variant is not default,  # the default variant is indexed as the report page
                variant=variant.name,
                **run_extra(f"{slug}/v/{variant.name}/index.html", variant, shown, "variant"),
            )
            for run in variant.runs:
                path = f"{slug}/runs/{run.id}/index.html"
                page(path, views[run.id], **run_extra(path, variant, run, "run"))
                if run.has_notebook:
                    out[f"{slug}/runs/{run.id}/notebook.ipynb"] = ("file", run.notebook, "")
                body = bodies[views[run.id].key]
                images += body.images + ([body.thumbnail] if body.thumbnail else [])
        shown = default.shown
        page(
            page_path(slug),
            views[shown.id],
            indexed=True,
            variant=default.name if len(variant_pages) > 1 else "",
            **run_extra(page_path(slug), default, shown, "latest"),
        )
        history_path = f"{slug}/runs/index.html"
        out[history_path] = ("bytes", history_page(env, ctx, report, plan, history_path), "")
        shown_body = bodies[views[shown.id].key]
        entry_card = card(report, shown_body, shown.record, failed=default.latest.record["status"] != "ok")
    out[source_download["href"]] = ("file", ctx.config.root / report.source, "")
    files = list(out)
    entry = {
        "source": report.source,
        "files": files,
        "images": sorted(set(images)),
        "card": entry_card,
        "searchable": searchable,
    }
    return out, entry


def _download(page: str, item: dict[str, str]) -> dict[str, str]:
    return {**item, "href": rel(page, item["href"])}


def history_page(env: Any, ctx: SiteContext, report: Report, plan: Any, path: str) -> bytes:
    """Every run of every variant: parameters, status, timing, metrics, with sparklines."""
    from knowrepo.pipeline.assemble.sparkline import sparkline

    runs = sorted((r for v in plan.variants for r in v.runs), key=lambda r: r.id, reverse=True)
    param_names: list[str] = []
    metric_names: list[str] = []
    for run in runs:
        for name in run.record.get("params", {}):
            if name not in param_names:
                param_names.append(name)
        for name in run.record.get("metrics", {}):
            if name not in metric_names:
                metric_names.append(name)
    rows = [
        {
            "record": r.record,
            "href": rel(path, f"{report.slug}/runs/{r.id}/"),
            "notebook": rel(path, f"{report.slug}/runs/{r.id}/notebook.ipynb") if r.has_notebook else "",
        }
        for r in runs
    ]
    trends = []
    for variant in plan.variants:
        ok = [r for r in variant.runs if r.ok]
        for name in metric_names:
            values = [r.record.get("metrics", {}).get(name) for r in ok]
            numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
            if numbers:
                trends.append(
                    {
                        "variant": variant.name,
                        "metric": name,
                        "latest": numbers[-1],
                        "count": len(numbers),
                        "svg": sparkline(numbers),
                    }
                )
    from markupsafe import Markup

    return (
        env.get_template("history.html")
        .render(
            **ctx.common(path),
            title=f"Run history: {report.meta.title}",
            report=report,
            meta=report.meta,
            rows=rows,
            param_names=param_names,
            metric_names=metric_names,
            trends=[{**t, "svg": Markup(t["svg"])} for t in trends],
            latest_href=rel(path, f"{report.slug}/"),
        )
        .encode()
    )


def format_date(value: str) -> str:
    """2026-11-02 -> 2 Nov 2026 (unparseable values pass through)."""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {day:%b %Y}"


def newest_date(cards: list[dict[str, Any]]) -> str:
    dates = [c["date"] for c in cards if c["date"]]
    return max(dates) if dates else dt.date(2000, 1, 1).isoformat()
