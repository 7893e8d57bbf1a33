"""Every path under .knowrepo/ (never published, never committed), named in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowrepo.support.hashing import content_hash


@dataclass(frozen=True)
class Caches:
    """The repository's state folder: caches keyed by content, the build records, the lock."""

    state: Path  # <repository>/.knowrepo

    @property
    def assets(self) -> Path:
        """Images and thumbnails, named by their content (shared by every build and export)."""
        return self.state / "cache" / "assets"

    @property
    def jinja(self) -> Path:
        """Compiled templates (nbconvert's and the theme's)."""
        return self.state / "cache" / "jinja"

    def rendered(self, key: str) -> Path:
        """A rendered body, by its view key."""
        return self.state / "cache" / "render" / f"{key}.json"

    def pdf(self, key: str) -> Path:
        return self.state / "cache" / "pdf" / f"{key}.pdf"

    def facts(self, source_hash: str) -> Path:
        """What planning knows of a notebook source (parameters, kernel, code hash)."""
        return self.state / "cache" / "facts" / f"v2-{source_hash}.json"

    def run_code(self, run_id: str) -> Path:
        """The hash of the code cells a run executed (runs never change: kept by run id)."""
        return self.state / "cache" / "run-code" / f"{run_id}.txt"

    def text_notebook(self, source_hash: str) -> Path:
        """The .ipynb that jupytext makes of a percent script or Markdown notebook (for papermill)."""
        return self.state / "cache" / "text-notebooks" / f"{source_hash}.ipynb"

    def pygments_css(self, version: str) -> Path:
        return self.state / "cache" / f"pygments-{version}-xcode.css"

    def math_font(self, version: str) -> Path:
        return self.state / "cache" / f"math-font-{version}.woff"

    def vega_bundle(self, version: str) -> Path:
        """vl-convert's Vega-Embed bundle (slow to make: it starts a JavaScript engine)."""
        return self.state / "cache" / f"vega-embed-{version}.js"

    def diagram(self, key: str) -> Path:
        """A Mermaid diagram's static SVG, by its source (slow to make: Mermaid in a JavaScript engine)."""
        return self.state / "cache" / "diagrams" / f"{key}.svg"

    def _for_output(self, output: Path) -> str:
        return content_hash(str(output).encode())[:10]

    def manifest(self, output: Path) -> Path:
        """The record of the last build into `output` (serve's preview and the site each have one)."""
        return self.state / f"manifest-{self._for_output(output)}.json"

    def search_scratch(self, output: Path) -> Path:
        """The folders of hard links the search indexer crawls, kept between builds."""
        return self.state / f"search-{self._for_output(output)}"

    @property
    def preview(self) -> Path:
        return self.state / "preview" / "site"

    @property
    def lock(self) -> Path:
        return self.state / "lock"

    @property
    def render_log(self) -> Path:
        return self.state / "render-server.log"
