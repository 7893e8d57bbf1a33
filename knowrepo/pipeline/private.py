"""Private parameter values out of the files a site publishes: a report's source (its
download) and its runs' notebooks hold the front matter, which holds the private values.

Published in their place: the same file with each private value of the front matter written as
"***" (found by its place in the YAML) and every text of one masked wherever else it appears
(outputs a notebook was saved with). A file with nothing to hide is published as it is.
"""

from __future__ import annotations

import json

from knowrepo.model import Meta
from knowrepo.pipeline.frontmatter import front_matter_span
from knowrepo.pipeline.masking import mask_front_matter, mask_notebook
from knowrepo.pipeline.textnotebook import mask_script_header
from knowrepo.support.secrets import scrub, secrets_in


def report_secrets(meta: Meta) -> list[str]:
    """The texts of the private values a report's front matter sets: in params and in every
    variant, in every form text shows them."""
    return secrets_in([meta.params, *meta.variants.values()], meta.private_params)


def published_source(name: str, data: bytes, secrets: list[str]) -> bytes:
    """The bytes of a report source or run notebook named `name` as a site publishes them:
    its front matter's private values masked, and every text of `secrets`; `data` itself when
    it holds none."""
    if name.endswith(".ipynb"):
        try:
            notebook = json.loads(data)
        except ValueError:
            notebook = None
        if isinstance(notebook, dict):
            clean = scrub(mask_notebook(notebook), secrets)
            text = json.dumps(clean, indent=1, ensure_ascii=False) + "\n"  # (as nbformat writes)
            return data if clean == notebook else text.encode()
    text = data.decode("utf-8", errors="replace")
    clean = scrub(_masked_text(name, text), secrets)
    return data if clean == text else clean.encode("utf-8")


def _masked_text(name: str, text: str) -> str:
    """A text source (Markdown, a percent script) with its front matter's private values masked."""
    if name.endswith(".py"):
        return mask_script_header(text)
    span = front_matter_span(text) if name.endswith(".md") else None
    if span is None:
        return text
    start, end = span
    return text[:start] + mask_front_matter(text[start:end]) + text[end:]
