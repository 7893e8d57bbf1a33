"""A notebook made ready for nbconvert's template: cell tags and options applied, each output
shown by its registered renderer or as a static output, images written as asset files."""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

from knowrepo.pipeline.frontmatter import notebook_front_matter
from knowrepo.pipeline.render.assets import IMAGE_TYPES, AssetStore, png_size
from knowrepo.pipeline.render.floats import cell_float, cell_options, float_marker
from knowrepo.pipeline.render.markdown import render_markdown
from knowrepo.pipeline.render.nbtext import joined as _text
from knowrepo.pipeline.render.outputs import cap_output, json_mime, static_outputs
from knowrepo.pipeline.render.sanitize import clean_html, clean_svg
from knowrepo.pipeline.render.widgets import saved_widgets
from knowrepo.plugins import Registry, RenderContext

MAX_DEPTH = 2  # outputs a renderer shows in an output's place, and theirs: no deeper (no loops)
_DEFAULT_REPR = re.compile(r"^<(Figure|matplotlib|Axes|IPython)\b.*>$", re.S)
_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
PAPERMILL_ERROR = "papermill-error-cell-tag"


def _rejoin(nb: dict[str, Any]) -> dict[str, Any]:
    """Join the line lists of .ipynb JSON into strings, as nbformat's reader does."""
    for cell in nb.get("cells", []):
        cell["source"] = _text(cell.get("source"))
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _text(output["text"])
            data = output.get("data")
            if isinstance(data, dict):
                for mime, value in data.items():
                    if isinstance(value, list) and not json_mime(mime):  # (a JSON list is data)
                        data[mime] = _text(value)
    return nb


def option_tags(values: dict[str, Any]) -> set[str]:
    """Quarto's cell options as knowrepo's cell tags."""
    tags = {str(t) for t in values.get("tags") or [] if isinstance(values.get("tags"), list)}
    false = (False, "false")
    if values.get("include") in false:
        tags.add("remove-cell")
    if values.get("echo") in false:
        tags.add("remove-input")
    if values.get("output") in false:
        tags.add("remove-output")
    if values.get("code-fold") in (True, "true", "show"):
        tags.add("hide-input")
    return tags


def _inline(fragment: str) -> str:
    """A one-paragraph Markdown rendering without its <p>: a caption's inline markup."""
    fragment = fragment.strip()
    if fragment.startswith("<p>") and fragment.endswith("</p>") and fragment.count("<p>") == 1:
        return fragment[3:-4]
    return fragment


def _pixels(value: Any) -> int | None:
    """A width or height from output metadata, as a whole number of pixels (or none)."""
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 < number < 100_000 else None


class NotebookPreparer:
    """Turns a notebook into what the template shows: tags applied, images written as files."""

    def __init__(
        self,
        store: AssetStore,
        prefix: str,
        code: str,
        title: str,
        sanitize: bool = True,
        max_output: int = 1 << 20,
        source: str = "",
        *,
        registry: Registry,
    ) -> None:
        self.store, self.prefix, self.code, self.title = store, prefix, code, title
        self.sanitize, self.max_output, self.source = sanitize, max_output, source
        self.figures = 0
        self.widgets: dict[str, dict[str, Any]] = {}  # the notebook's saved widget state, by model id
        self.cell = 0  # the cell being prepared (1-based, as warnings name it)
        self.section = ""  # the last heading before it
        self.warnings: list[str] = []
        self.found: list[str] = []  # the asset files of the cell being prepared, in order
        self.registry = registry  # (its renderers)

    def _blob(self, mime: str, raw: str) -> bytes | None:
        """The image's bytes (an SVG cleaned when sanitizing), or None with a warning."""
        if mime == "image/svg+xml":
            if not self.sanitize:
                return raw.encode()

            cleaned = clean_svg(raw.encode())
            if cleaned is None:
                self.warnings.append(
                    f"{self.source}: cell {self.cell}: an SVG output is not well-formed SVG; not shown"
                )
            return cleaned
        try:
            blob = base64.b64decode("".join(raw.split()), validate=True)  # (lines wrapped at 76: fine)
        except (ValueError, TypeError):
            blob = b""
        if not blob.startswith(_MAGIC.get(mime, b"")) or not blob:
            self.warnings.append(
                f"{self.source}: cell {self.cell}: an {mime} output is not valid base64 {mime}; not shown"
            )
            return None
        return blob

    def image(self, output: dict[str, Any], section: str) -> None:
        data, meta = output.get("data", {}), output.setdefault("metadata", {})
        for mime, suffix in IMAGE_TYPES.items():
            if mime not in data:
                continue
            blob = self._blob(mime, _text(data[mime]))
            if blob is None:
                del data[mime]
                continue
            name = self.store.put(blob, suffix)
            self.figures += 1
            plain = _text(data.get("text/plain", "")).strip()
            mime_meta = meta.get(mime, {}) if isinstance(meta.get(mime), dict) else {}
            alt = mime_meta.get("alt") or meta.get("alt")
            if not alt and plain and not _DEFAULT_REPR.match(plain):
                alt = plain
            if not alt:
                alt = f"Figure {self.figures}" + (f": {section}" if section else "")
            size = png_size(blob) if mime == "image/png" else None
            width = _pixels(mime_meta.get("width")) or (size[0] if size else None)
            height = _pixels(mime_meta.get("height")) or (size[1] if size else None)
            meta["knowrepo"] = {
                "src": self.prefix + name,
                "alt": alt,
                "name": name,
                "width": width,
                "height": height,
            }
            data[mime] = ""  # the bytes now live in the file; keep the page small

    def prepare(self, nb: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(a notebook ready for the template, asset names of its images in page order)."""
        nb = _rejoin(copy.deepcopy(nb))
        self.widgets = saved_widgets(nb)  # (shown statically, cell by cell)
        nb.setdefault("metadata", {}).pop("widgets", None)  # legacy ipywidgets state crashes nbconvert
        # papermill's "An Exception was encountered" cells (giant red headings, put before the
        # front matter too): the run's page says it failed in knowrepo's own banner instead.
        nb["cells"] = [
            c for c in nb.get("cells", []) if PAPERMILL_ERROR not in c.get("metadata", {}).get("tags", [])
        ]
        _yaml, fm_index = notebook_front_matter(nb.get("cells", []))
        cells, images = [], []
        self.section = ""
        for index, cell in enumerate(nb.get("cells", [])):
            self.cell = index + 1
            tags = set(cell.get("metadata", {}).get("tags", []))
            options: dict[str, Any] = {}
            if cell.get("cell_type") == "code":
                options, problem = cell_options(cell)
                if problem:
                    self.warnings.append(f"{self.source}: cell {self.cell}: {problem}")
                tags |= option_tags(options)
            if index == fm_index or "remove-cell" in tags:
                continue
            if "injected-parameters" in tags:  # shown as the values this run used
                cell.setdefault("metadata", {})["knowrepo_injected"] = True
            kind = cell.get("cell_type")
            if kind == "raw" and self.sanitize:  # nbconvert shows raw cells as HTML as they are
                cell["source"] = clean_html(_text(cell.get("source")))
            elif kind == "markdown":
                images += self._markdown_cell(cell)
                cell.setdefault("metadata", {})["knowrepo_cell"] = self.cell  # (its warnings name it)
            elif kind == "code":
                images += self._code_cell(cell, tags)
                self._float(cell, options)
                if not _text(cell.get("source")).strip() and not cell["outputs"]:
                    continue
            cells.append(cell)
        nb["cells"] = cells
        return nb, images

    def _markdown_cell(self, cell: dict[str, Any]) -> list[str]:
        """Attachments written as assets; the cell's last heading names the figures after it."""
        source, images = _text(cell.get("source")), []
        for name, bundle in (cell.get("attachments") or {}).items():
            for mime, payload in (bundle or {}).items() if isinstance(bundle, dict) else ():
                wanted = mime in IMAGE_TYPES and mime != "image/svg+xml"
                if wanted and (blob := self._blob(mime, _text(payload))) is not None:
                    asset = self.store.put(blob, IMAGE_TYPES[mime])
                    source = source.replace(f"attachment:{name}", self.prefix + asset)
                    images.append(asset)
        cell["source"] = source
        heads = re.findall(r"^#{1,6}\s+(.+)$", source, re.M)
        self.section = heads[-1].strip() if heads else self.section
        return images

    def _code_cell(self, cell: dict[str, Any], tags: set[str]) -> list[str]:
        """Cell tags and the code setting applied; each output as its renderer or the static
        fallback shows it; the asset names of its files, in order."""
        meta = cell.setdefault("metadata", {})
        if "remove-input" in tags or self.code == "hide":
            meta.setdefault("transient", {})["remove_source"] = True
        elif "hide-input" in tags or self.code == "fold":
            meta["knowrepo"] = {"fold": True}
        if "remove-output" in tags:
            cell["outputs"] = []
        self.found = []
        cell["outputs"] = [shown for output in cell.get("outputs", []) for shown in self._shown(output)]
        return self.found

    def _float(self, cell: dict[str, Any], options: dict[str, Any]) -> None:
        """A cell whose options caption its outputs: its images' alt text, and the float the
        template marks around them (the 'floats' body pass makes the figure)."""
        cell.setdefault("metadata", {}).pop("knowrepo_float", None)  # (knowrepo's to write, never the file's)
        spec = cell_float(options, cell["metadata"])
        if spec is None or not cell.get("outputs"):
            return
        images = [
            o["metadata"]["knowrepo"]
            for o in cell["outputs"]
            if "alt" in o.get("metadata", {}).get("knowrepo", {})
        ]
        for index, image in enumerate(images):
            alt = spec.alt[min(index, len(spec.alt) - 1)] if spec.alt else ""
            sub = spec.subcaptions[index] if index < len(spec.subcaptions) else ""
            image["alt"] = alt or " ".join(part for part in (spec.caption, sub) if part) or image["alt"]
        caption = _inline(render_markdown(spec.caption, self.sanitize)) if spec.caption else ""
        subs = [_inline(render_markdown(text, self.sanitize)) for text in spec.subcaptions]
        cell["metadata"]["knowrepo_float"] = float_marker(spec, caption, subs)

    def _shown(self, output: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
        """What an output shows: the first registered renderer of a MIME type it holds that
        takes it (HTML, or outputs shown in its place, one level deep), else its static form.
        A plugin's HTML is report HTML: cut and sanitized as any HTML output."""
        data = found if isinstance(found := output.get("data"), dict) else {}
        for mime, renderer, owner in self.registry.renderers_for(data):
            result = renderer(data[mime], self._context(output))
            if result is None or isinstance(result, list) and depth >= MAX_DEPTH:
                continue
            if isinstance(result, list):
                return [shown for item in result for shown in self._shown(item, depth + 1)]
            drawn = {**output, "data": {"text/html": str(result)}, "metadata": {}}
            return [drawn] if owner.builtin else [self._static(drawn)]
        return [self._static(output)]

    def _static(self, output: dict[str, Any]) -> dict[str, Any]:
        """An output without what needs a kernel or a CDN, capped, its images written as files."""
        output = static_outputs(cap_output(output, self.max_output), self.sanitize, self.max_output)
        self.image(output, self.section)
        if name := output.get("metadata", {}).get("knowrepo", {}).get("name"):
            self.found.append(name)
        return output

    def _context(self, output: dict[str, Any]) -> RenderContext:
        return RenderContext(
            source=self.source,
            cell=self.cell,
            output=output,
            sanitize=self.sanitize,
            max_output=self.max_output,
            widgets=self.widgets,
            asset=self._asset,
            image=self._blob,
            warn=self.warnings.append,
        )

    def _asset(self, blob: bytes, suffix: str) -> str:
        """A file a renderer made, stored by content: its URL on the page."""
        name = self.store.put(blob, suffix)
        self.found.append(name)
        return self.prefix + name
