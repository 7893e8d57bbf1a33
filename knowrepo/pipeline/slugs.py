"""Slugs: a report's path under reports/ as its place in the site (sales/q3-review), and any
name (a tag, an author) as a URL segment, in any script."""

from __future__ import annotations

import re
import unicodedata

from knowrepo.pipeline.sources import KNOWLEDGE_POST
from knowrepo.support.hashing import content_hash


def slugify_path(relpath: str) -> str:
    """reports/Sales/Q3 Review.ipynb -> sales/q3-review (lowercase, URL-safe, `/` kept; a
    knowledge-repo post, Q3.kp/knowledge.md, -> q3). A part
    with no ASCII letter or digit (数据.md) keeps its own letters, so such names never collide."""
    post = f".kp/{KNOWLEDGE_POST}"
    stem = relpath.removesuffix(post) if relpath.endswith(post) else relpath.rsplit(".", 1)[0]
    parts = [
        re.sub(r"[^a-z0-9_]+", "-", part.lower()).strip("-") or unicode_slug(part) for part in stem.split("/")
    ]
    return "/".join(part or opaque_slug(name) for part, name in zip(parts, stem.split("/"), strict=True))


def opaque_slug(text: str) -> str:
    """For a name with no letter or digit at all (😀): '_' and a short hash, so two never meet."""
    return "_" + content_hash(text.encode(errors="surrogatepass"))[:8] if text else "_"


def unicode_slug(text: str) -> str:
    """Lowercase letters and digits of any script, accents dropped, the rest as '-'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^\w]+", "-", plain.lower()).strip("-_")
