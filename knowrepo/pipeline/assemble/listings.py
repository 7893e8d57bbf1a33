"""Every page that lists reports: the index, tag and author pages, search, 404, feed, sitemap.

A page's key hashes everything it shows (each card by its own key, made once): when the
published page has that key it is reused, not rendered again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from knowrepo import __version__
from knowrepo.config import Config
from knowrepo.model import Card
from knowrepo.pipeline.assemble.authors import author_names
from knowrepo.pipeline.assemble.links import relative_root, slug_text
from knowrepo.support.hashing import key_of

if TYPE_CHECKING:
    from jinja2 import Environment


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


Groups = dict[str, tuple[str, list[Card]]]  # slug -> (name, cards)


def _group(cards: list[Card], field: str) -> Groups:
    groups: Groups = {}
    for card in cards:
        names = author_names(card.authors) if field == "authors" else card.tags  # (a person once)
        for name in names:
            groups.setdefault(slug_text(name), (name, []))[1].append(card)
    return dict(sorted(groups.items(), key=lambda kv: kv[1][0].lower()))


def filter_counts(cards: list[Card]) -> dict[str, list[tuple[str, int]]]:
    """The search page's filter options, each with the number of reports it holds. (Pagefind's
    own counts are of pages, and each variant of a report is a page: "sales (3)" for one.)"""
    counts: dict[str, Counter[str]] = {name: Counter() for name in ("tag", "author", "year", "type")}
    for card in cards:
        counts["tag"].update(set(card.tags))
        counts["author"].update(author_names(card.authors))
        counts["year"].update([card.date[:4]] if card.date else [])
        counts["type"]["notebook" if card.kind == "notebook" else "markdown"] += 1
    ordered = {name: sorted(found.items(), key=lambda kv: kv[0].lower()) for name, found in counts.items()}
    ordered["year"].reverse()  # newest first
    return ordered


def card_key(card: Card) -> str:
    """A hash of everything a card shows (kept with the report between builds)."""
    return key_of(card.to_json())


def newest_date(cards: list[Card]) -> str:
    dates = [c.date for c in cards if c.date]
    return max(dates) if dates else dt.date(2000, 1, 1).isoformat()


def listing_pages(
    env: Environment,
    ctx: SiteContext,
    cards: list[Card],
    digest: str,
    reuse: Callable[[str, str], bool],
    card_keys: dict[int, str],
    searchable: set[str],
) -> tuple[dict[str, bytes | None], dict[str, str]]:
    """Returns (pages, keys): a page whose published version has its key is None (reused).
    `card_keys`: card_key() of the cards, by id(card); `searchable`: the slugs of the reports
    that search finds (not drafts, which a --drafts build lists, nor unlisted ones)."""
    listed = sorted((c for c in cards if not c.unlisted), key=lambda c: (c.date, c.title), reverse=True)
    tags, authors = _group(listed, "tags"), _group(listed, "authors")
    out: dict[str, bytes | None] = {}
    keys: dict[str, str] = {}

    def shape(value: object) -> object:
        """`value` with every card replaced by its key: what a page's key is made of (1,000
        reports, cProfile: hashing the cards inside every page's key took 0.08 s)."""
        if isinstance(value, Card):
            return card_keys.get(id(value)) or card_key(value)
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [shape(v) for v in value]
        return value

    def emit(path: str, template: str, context: dict[str, Any]) -> None:
        keys[path] = key = key_of(digest, template, shape(context))
        out[path] = None if reuse(path, key) else env.get_template(template).render(**context).encode()

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
    found = [card for card in listed if card.slug in searchable]
    page("search/index.html", "search.html", title="Search", filters=filter_counts(found))
    base = ctx.absolute_url or ctx.config.site.base_path
    feed = {"site": ctx.config.site, "base": base, "cards": listed[:50], "updated": ctx.generated}
    emit("feed.xml", "feed.xml", feed)
    emit("sitemap.xml", "sitemap.xml", {"base": base, "cards": listed, "tags": tags, "authors": authors})
    return out, keys
