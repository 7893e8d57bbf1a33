"""Assemble: every page of the site as bytes, from reports, rendered bodies and the theme.

Pure functions of their arguments: the build decides what to render and where to write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import __version__
from .config import Config
from .errors import KnowrepoError
from .model import RenderedPage, Report

# Top-level site paths that report slugs may not take.
RESERVED = {"tags", "authors", "assets", "search", "404.html", "index.html", "feed.xml", "sitemap.xml"}
_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"#?]+\.(?:ipynb|md))((?:#[^"]*)?")', re.I)


def slug_text(text: str) -> str:
    """A tag or author name as a URL segment."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "_"


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


def card(report: Report, page: RenderedPage) -> dict[str, Any]:
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
    }


def rewrite_report_links(body: str, source: str, slug: str, slug_by_source: dict[str, str]) -> str:
    """Links to other report sources (../churn.ipynb#x, other.md) become links to their pages."""
    here = posixpath.dirname(source)
    from_dir = slug  # the page lives at <slug>/index.html

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


def listing_pages(
    env: Any,
    ctx: SiteContext,
    cards: list[dict[str, Any]],
    digest: str = "",
    reuse: Callable[[str, str], bool] | None = None,
) -> tuple[dict[str, bytes | None], dict[str, str]]:
    """Index, tag and author pages, feed, sitemap and 404: every page that lists reports.

    Returns (pages, keys). A page's key hashes everything it shows; when `reuse(path, key)`
    says the published page has that key, the page is not rendered again (its value is None).
    """
    listed = sorted(
        (c for c in cards if not c["unlisted"]), key=lambda c: (c["date"], c["title"]), reverse=True
    )
    tags = _group(listed, "tags")
    authors = _group(listed, "authors")
    out: dict[str, bytes | None] = {}
    keys: dict[str, str] = {}

    def page(path: str, template: str, **data: Any) -> None:
        common = ctx.common(path)
        if path == "404.html":  # served at any depth: only absolute links work
            common["root"] = ctx.config.site.base_path
        key = hashlib.sha256(
            json.dumps([digest, template, data], sort_keys=True, default=str).encode()
        ).hexdigest()[:20]
        keys[path] = key
        if reuse is not None and reuse(path, key):
            out[path] = None
            return
        out[path] = env.get_template(template).render(**common, **data).encode()

    page("index.html", "index.html", cards=listed, tags=tags, authors=authors, title=None)
    page("tags/index.html", "tags.html", groups=tags, title="Tags")
    for slug, (name, items) in tags.items():
        page(f"tags/{slug}/index.html", "tag.html", name=name, cards=items, title=f"Tag: {name}")
    page("authors/index.html", "authors.html", groups=authors, title="Authors")
    for slug, (name, items) in authors.items():
        page(f"authors/{slug}/index.html", "author.html", name=name, cards=items, title=name)
    page("404.html", "404.html", title="Page not found")
    base = ctx.absolute_url or ctx.config.site.base_path
    out["feed.xml"] = (
        env.get_template("feed.xml")
        .render(site=ctx.config.site, base=base, cards=listed[:50], updated=ctx.generated)
        .encode()
    )
    out["sitemap.xml"] = (
        env.get_template("sitemap.xml").render(base=base, cards=listed, tags=tags, authors=authors).encode()
    )
    return out, keys


def report_page(
    env: Any,
    ctx: SiteContext,
    report: Report,
    page: RenderedPage,
    slug_by_source: dict[str, str],
    downloads: list[dict[str, str]],
) -> bytes:
    """The HTML page of one report."""
    from markupsafe import Markup

    path = page_path(report.slug)
    body = rewrite_report_links(page.body, report.source, report.slug, slug_by_source)
    return (
        env.get_template("report.html")
        .render(
            **ctx.common(path),
            title=report.meta.title,
            report=report,
            meta=report.meta,
            body=Markup(body),
            toc=page.toc,
            downloads=downloads,
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
