"""Site paths and the links between pages: every link inside the site is relative, so the site
works under any base_url path and from any web server."""

from __future__ import annotations

import functools
import html
import posixpath
import re
from collections.abc import Mapping, Sequence
from urllib.parse import unquote

from knowrepo.errors import KnowrepoError
from knowrepo.model import Report
from knowrepo.pipeline.slugs import opaque_slug, unicode_slug
from knowrepo.plugins import PageContext, Part, apply_passes

# Top-level site paths that report slugs may not take.
RESERVED = {
    "tags", "authors", "assets", "search", "pagefind", "404.html", "index.html", "feed.xml", "sitemap.xml",
}  # fmt: skip
# A tag's attributes, whose quoted values may hold ">" (raw HTML, with sanitize = false).
ATTRIBUTES = r"""(?:[^>"']|"[^"]*"|'[^']*')*?"""
# A link to a report source, its href in either quotes.
_HREF = re.compile(
    rf"""(<a\b{ATTRIBUTES}\bhref=(["']))((?:(?!\2)[^#?])+\.(?:ipynb|md|py))((?:#(?:(?!\2).)*)?\2)""", re.I
)


@functools.lru_cache(maxsize=4096)  # a few names, met once per card that carries them
def slug_text(text: str) -> str:
    """A tag or author name as a URL segment: José García -> jose-garcia, 数据 -> 数据."""
    return re.sub(r"[-_]+", "-", unicode_slug(text)).strip("-") or opaque_slug(text)


def page_path(slug: str) -> str:
    return f"{slug}/index.html"


def relative_root(path: str) -> str:
    """The relative prefix from the page at `path` back to the site root ('' or '../..')."""
    return "../" * path.count("/")


def rel(from_page: str, target: str) -> str:
    """A relative link from the page at `from_page` to the site path `target`."""
    link = posixpath.relpath(target or ".", posixpath.dirname(from_page) or ".")
    return link + ("/" if target.endswith("/") and not link.endswith("/") else "")


def check_slug(report: Report) -> None:
    if report.slug.split("/", 1)[0] in RESERVED:
        raise KnowrepoError(
            report.source,
            f"slug '{report.slug}' would overwrite the site's own '{report.slug.split('/')[0]}' pages;"
            " rename the file",
        )


def rewrite_report_links(body: str, source: str, page: str, slug_by_source: Mapping[str, str]) -> str:
    """Links to other report sources (../churn.ipynb#x, other.md, a percent script's .py)
    become links to their pages; links to other files stay.
    `page` is the site path of the page the body goes on."""
    here = posixpath.dirname(source)
    from_dir = posixpath.dirname(page)

    def swap(match: re.Match[str]) -> str:
        # (%20 and the like: Jupyter writes the link to "Q3 review.ipynb" as Q3%20review.ipynb)
        target = posixpath.normpath(posixpath.join(here, html.unescape(unquote(match.group(3)))))
        target_slug = slug_by_source.get(target)
        if target_slug is None:
            return match.group(0)
        url = posixpath.relpath(target_slug, from_dir) + "/"
        return f"{match.group(1)}{url}{match.group(4)}"

    return _HREF.sub(swap, body)


def page_body(body: str, ctx: PageContext, page_passes: Sequence[Part]) -> str:
    """A rendered body as it goes on one page (and into its PDF): through the registry's page
    passes."""
    return apply_passes(list(page_passes), body, ctx)
