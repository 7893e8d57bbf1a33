"""A zoo of notebooks as they are found in the wild, built together in one repository: every
nbformat 4.x minor, an nbformat 3 notebook, legacy widget state, attachments, SVG, LaTeX, broken
base64, ANSI colours, many MIME types, script in HTML and unicode in names, front matter and
outputs. Each builds, or fails on one line, and never takes the others down.

Every notebook is written as raw JSON, so each field is exactly what the case needs. They carry
stored outputs and no `parameters` cell, so they are published as they are, without a kernel."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from conftest import run_knowrepo

UPGRADE = "jupyter nbconvert --to notebook --nbformat 4"
TRACEBACK = "Traceback (most recent call last)"
ESC = "\x1b"


# --- real tiny images -------------------------------------------------------------------------


def tiny_png(width: int = 3, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real RGB PNG, written by hand (signature, IHDR, IDAT, IEND with their CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def tiny_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 128, 255)).save(out, "JPEG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ATTACHED_PNG = tiny_png(5, 4, (10, 200, 10))
OUTPUT_PNG = tiny_png(3, 2, (200, 30, 30))
JPEG = tiny_jpeg()
SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20">\n'
    '  <rect x="1" y="1" width="38" height="18" fill="#36c"/>\n'
    '  <text x="4" y="14" font-size="10">zoo-svg-ok ✓</text>\n'
    "</svg>\n"
)
HOSTILE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" onload="alert(\'svg-onload\')">\n'
    "  <script>alert('svg-script')</script>\n"
    '  <circle cx="10" cy="10" r="8" fill="red" onclick="alert(\'svg-click\')"/>\n'
    '  <text x="2" y="12">zoo-svg-hostile</text>\n'
    "</svg>\n"
)


# --- notebook JSON, field by field -------------------------------------------------------------


def lines(text: str) -> list[str]:
    """Text as .ipynb files store it: a list of lines, each with its newline."""
    return text.splitlines(keepends=True)


def front(**fields: Any) -> dict:
    """The front-matter raw cell (YAML whose values are written as JSON, a subset of YAML)."""
    yaml = "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in fields.items())
    return {"cell_type": "raw", "metadata": {}, "source": lines(f"---\n{yaml}---")}


def md(text: str, attachments: dict | None = None) -> dict:
    cell: dict[str, Any] = {"cell_type": "markdown", "metadata": {}, "source": lines(text)}
    if attachments is not None:
        cell["attachments"] = attachments
    return cell


def code(source: str, *outputs: dict, count: int = 1) -> dict:
    return {
        "cell_type": "code",
        "execution_count": count,
        "metadata": {},
        "outputs": list(outputs),
        "source": lines(source),
    }


def stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": lines(text)}


def display(data: dict, metadata: dict | None = None) -> dict:
    return {"output_type": "display_data", "data": data, "metadata": metadata or {}}


def result(data: dict, count: int = 1) -> dict:
    return {"output_type": "execute_result", "execution_count": count, "data": data, "metadata": {}}


def nb4(minor: int, cells: list[dict], metadata: dict | None = None) -> dict:
    """An nbformat 4.<minor> notebook; cell ids exist from 4.5 on (and are invalid before)."""
    if minor >= 5:
        cells = [{"id": f"zoo-cell-{n}", **cell} for n, cell in enumerate(cells)]
    meta = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3", "version": "3.11.4"},
        **(metadata or {}),
    }
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": minor}


NBFORMAT3 = {
    "metadata": {"name": "old analysis"},
    "nbformat": 3,
    "nbformat_minor": 0,
    "worksheets": [
        {
            "metadata": {},
            "cells": [
                {"cell_type": "heading", "level": 1, "metadata": {}, "source": ["An IPython 2 notebook"]},
                {
                    "cell_type": "code",
                    "collapsed": False,
                    "input": ["print('old')"],
                    "language": "python",
                    "metadata": {},
                    "outputs": [{"output_type": "stream", "stream": "stdout", "text": ["old\n"]}],
                    "prompt_number": 1,
                },
            ],
        }
    ],
}


# --- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # under reports/zoo/
    title: str | None  # None: the case must not be published
    notebook: dict


def versioned(minor: int) -> Case:
    title = f"Zoo nbformat 4.{minor}"
    cells = [
        front(title=title, tags=["zoo", f"nbformat-4-{minor}"], authors=["Zoo Keeper"]),
        md(f"# Heading of 4.{minor}\n\nProse of the 4.{minor} notebook."),
        code(f"print('marker-4-{minor}')", stream(f"marker-4-{minor}\n")),
        code("6 * 7", result({"text/plain": f"42 from 4.{minor}"}), count=2),
        {"cell_type": "raw", "metadata": {}, "source": f"raw cell of 4.{minor}"},
    ]
    return Case(f"nbformat-4.{minor}", f"format_4_{minor}.ipynb", title, nb4(minor, cells))


WIDGET_STATE = {
    "state": {
        "a1b2c3": {
            "model_name": "IntSliderModel",
            "model_module": "jupyter-js-widgets",
            "model_module_version": "~2.1.4",
            "state": {"value": 3, "min": 0, "max": 10},
        }
    },
    "version": "1.2.0",
}
WIDGET_VIEW = {"model_id": "a1b2c3", "version_major": 2, "version_minor": 0}

CASES = [
    *(versioned(minor) for minor in range(6)),
    Case("nbformat-3", "legacy_v3.ipynb", None, NBFORMAT3),
    Case(
        "legacy-widgets",  # E70 of docs/errors.md
        "widgets.ipynb",
        "Zoo legacy widgets",
        nb4(
            2,
            [
                front(title="Zoo legacy widgets"),
                code(
                    "IntSlider(3)",
                    display(
                        {
                            "application/vnd.jupyter.widget-view+json": WIDGET_VIEW,
                            "text/plain": "IntSlider(value=3, zoo-widget-fallback)",
                        }
                    ),
                ),
                code(
                    "IntSlider(4)",
                    result({"application/vnd.jupyter.widget-view+json": WIDGET_VIEW}, count=2),
                    count=2,
                ),
            ],
            {"widgets": WIDGET_STATE},
        ),
    ),
    Case(
        "attachment",
        "attachment.ipynb",
        "Zoo attachment",
        nb4(
            4,
            [
                front(title="Zoo attachment"),
                md(
                    "## Attached picture\n\n![x](attachment:pic.png)\n",
                    {"pic.png": {"image/png": b64(ATTACHED_PNG)}},
                ),
                code("print('attached')", stream("zoo-attached\n")),  # stored outputs: no kernel
            ],
        ),
    ),
    Case(
        "svg",
        "svg.ipynb",
        "Zoo SVG",
        nb4(
            5,
            [
                front(title="Zoo SVG"),
                code("plot()", display({"image/svg+xml": lines(SVG), "text/plain": "<Figure size 40x20>"})),
            ],
        ),
    ),
    Case(
        "svg-hostile",
        "svg_hostile.ipynb",
        "Zoo hostile SVG",
        nb4(
            5,
            [
                front(title="Zoo hostile SVG"),
                code("evil()", display({"image/svg+xml": HOSTILE_SVG, "text/plain": "<IPython.SVG>"})),
            ],
        ),
    ),
    Case(
        "latex",
        "latex.ipynb",
        "Zoo LaTeX",
        nb4(
            4,
            [
                front(title="Zoo LaTeX"),
                code(
                    "Math(r'\\frac{a}{b}')", display({"text/latex": "$$\\frac{a}{b}$$", "text/plain": "a/b"})
                ),
            ],
        ),
    ),
    Case(
        "invalid-base64",
        "bad_base64.ipynb",
        "Zoo invalid base64",
        nb4(
            4,
            [
                front(title="Zoo invalid base64"),
                code(
                    "broken_plot()",
                    display(
                        {
                            "image/png": "iVBORw0K!!! this is *not* base64 ~~~",
                            "text/plain": "zoo-broken-fallback",
                        }
                    ),
                ),
                code("print('after the broken image')", stream("zoo-after-broken\n"), count=2),
                code(
                    "plot()", display({"image/png": b64(OUTPUT_PNG), "text/plain": "zoo-good-png"}), count=3
                ),
                code(  # old notebooks wrapped base64 at 76 columns
                    "plot()",
                    display(
                        {"image/png": base64.encodebytes(OUTPUT_PNG).decode(), "text/plain": "zoo-wrapped"}
                    ),
                    count=4,
                ),
            ],
        ),
    ),
    Case(  # not base64 either, but with 4n letters left once the others are dropped
        "invalid-base64-lenient",
        "bad_base64_lenient.ipynb",
        "Zoo lenient base64",
        nb4(
            4,
            [
                front(title="Zoo lenient base64"),
                code("broken()", display({"image/png": "not valid", "text/plain": "zoo-lenient-1"})),
                code("broken()", display({"image/png": "@@@@", "text/plain": "zoo-lenient-2"}), count=2),
            ],
        ),
    ),
    Case(
        "ansi-stream",
        "ansi_stream.ipynb",
        "Zoo ANSI stream",
        nb4(
            4,
            [
                front(title="Zoo ANSI stream"),
                code(
                    "colours()",
                    stream("\u001b[31mred\u001b[0m and \u001b[1;32mbold green\u001b[0m\n"),
                    stream("\u001b[33mwarned\u001b[0m on stderr\n", name="stderr"),
                ),
            ],
        ),
    ),
    Case(
        "ansi-error",
        "ansi_error.ipynb",
        "Zoo ANSI error",
        nb4(
            4,
            [
                front(title="Zoo ANSI error"),
                code(
                    "1 / 0",
                    {
                        "output_type": "error",
                        "ename": "ZeroDivisionError",
                        "evalue": "division by zero",
                        "traceback": [
                            "\u001b[0;31m" + "-" * 75 + "\u001b[0m",
                            f"\u001b[0;31mZeroDivisionError\u001b[0m                         {TRACEBACK}",
                            "Cell \u001b[0;32mIn[1], line 1\u001b[0m\n\u001b[0;32m----> 1\u001b[0m "
                            "\u001b[38;5;241m1\u001b[39m / \u001b[38;5;241m0\u001b[39m",
                            "\u001b[0;31mZeroDivisionError\u001b[0m: division by zero",
                        ],
                    },
                ),
            ],
        ),
    ),
    Case(
        "mime-bundle",
        "mime_bundle.ipynb",
        "Zoo MIME bundle",
        nb4(
            4,
            [
                front(title="Zoo MIME bundle"),
                code(
                    "df",
                    result(
                        {
                            "text/html": lines(
                                '<table class="dataframe"><thead><tr><th>k</th></tr></thead>\n'
                                "<tbody><tr><td>zoo-html-cell</td></tr></tbody></table>\n"
                            ),
                            "text/markdown": "**zoo-markdown**",
                            "application/json": {"zoo": [1, 2, 3], "nested": {"ok": True}},
                            "text/plain": "zoo-plain-of-bundle",
                            "image/jpeg": b64(JPEG),
                        }
                    ),
                ),
                code("Markdown('*only md*')", display({"text/markdown": "zoo-only-**markdown**"}), count=2),
                code("IPython.display.JSON(x)", display({"application/json": {"zoo-json-only": 1}}), count=3),
                code(
                    "Image(jpeg)", display({"image/jpeg": b64(JPEG), "text/plain": "zoo-jpeg-alt"}), count=4
                ),
                code(
                    "custom()",
                    display({"application/x-unknown": "zoo-unknown-payload", "text/plain": "zoo-unk"}),
                    count=5,
                ),
            ],
        ),
    ),
    Case(
        "html-script",
        "html_script.ipynb",
        "Zoo HTML script",
        nb4(
            3,
            [
                front(title="Zoo HTML script"),
                code(
                    "HTML(both)",
                    display(
                        {
                            "text/html": "<p>zoo-both</p><script>alert(1)</script>"
                            "<img src=x onerror=alert(1)>",
                            "text/plain": "<IPython.core.display.HTML object>",
                        }
                    ),
                ),
                code(
                    "HTML(script)",
                    display({"text/html": "<b>zoo-script-kept</b><script>alert(1)</script>"}),
                    count=2,
                ),
                code(
                    "HTML(img)",
                    display({"text/html": '<i>zoo-img-kept</i><img src="x" onerror="alert(1)">'}),
                    count=3,
                ),
            ],
        ),
    ),
    Case(
        "unicode-cjk",
        "数据分析.ipynb",
        "数据分析报告 📊",
        nb4(
            5,
            [
                front(
                    title="数据分析报告 📊",
                    authors=["李华", "Иван Петров"],
                    tags=["数据", "аналитика", "تحليل"],
                ),
                md("# 结果\n\nПривет, мир — مرحبا بالعالم — 你好，世界 🌍"),
                code("print('你好')", stream("输出：你好，世界 🌍 Привет مرحبا\n")),
                code("df", result({"text/plain": "列 значение قيمة", "text/html": "<b>表格 ✓</b>"}), count=2),
            ],
        ),
    ),
    Case(
        "unicode-cjk-second",
        "机器学习.ipynb",
        "机器学习笔记",
        nb4(
            5,
            [
                front(title="机器学习笔记", authors=["王芳"], tags=["机器学习", "🤖"]),
                code("print('模型')", stream("模型准确率 97% ✅\n")),
            ],
        ),
    ),
    Case(
        "unicode-latin",
        "Über Daten.ipynb",
        "Über Daten: Cafe\u0301, naïve, Ωmega ☕",
        nb4(
            4,
            [
                front(
                    title="Über Daten: Cafe\u0301, naïve, Ωmega ☕",
                    authors=["Zoë Ångström", "محمد علي", "Jose\u0301 Nun\u0303ez"],
                    tags=["Straße", "😀", "🎉", "עִבְרִית"],
                    summary="Zusammenfassung mit Umlauten: äöü ß — and RTL: سلام",
                ),
                md("## Größe\n\nCafe\u0301 crème brûlée — שלום — 🙂"),
                code("print('ü')", stream("Ergebnis: Größe = 3 µm, Cafe\u0301, 😀\n")),
            ],
        ),
    ),
]
BY_ID = {case.id: case for case in CASES}


# --- the one build -----------------------------------------------------------------------------


def site_files(site: Path) -> dict[str, tuple[str, int]]:
    """Every file of the published site: relative path -> (sha256, mtime_ns)."""
    files = {}
    for path in sorted(site.rglob("*")):
        if path.is_file():
            stat = path.stat()
            files[path.relative_to(site).as_posix()] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                stat.st_mtime_ns,
            )
    return files


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.lstrip().startswith("error:")]


@dataclass
class Zoo:
    repo: Path
    site: Path
    first: Any  # CompletedProcess of the first build
    files: dict[str, tuple[str, int]]  # the site after the first build
    pages: dict[str, list[Path]]  # h1 title -> pages under _site/zoo/


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Zoo:
    repo = tmp_path_factory.mktemp("zoo") / "repo"
    (repo / "reports/zoo").mkdir(parents=True)
    (repo / "knowrepo.toml").write_text('[site]\ntitle = "Zoo"\n')
    for case in CASES:
        with open(repo / "reports/zoo" / case.file, "w", encoding="utf-8") as handle:
            json.dump(case.notebook, handle, ensure_ascii=False, indent=1)
    (repo / "reports/ok.md").write_text(
        "---\ntitle: Always fine\ntags: [zoo]\n---\n\n# Always fine\n\nzoo-ok-body $x^2$\n", encoding="utf-8"
    )
    first = run_knowrepo("build", str(repo), check=False)
    site = (repo / "_site").resolve()
    pages: dict[str, list[Path]] = {}
    for path in sorted(site.glob("zoo/**/index.html")):
        h1 = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select_one("h1#report-title")
        if h1 is not None:
            pages.setdefault(h1.get_text(), []).append(path)
    return Zoo(repo, site, first, site_files(site), pages)


@dataclass
class Page:
    path: Path
    html: str
    soup: BeautifulSoup

    @property
    def body(self) -> Any:
        return self.soup.select_one(".report-body")

    def asset(self, src: str) -> Path:
        """The file an <img src> of this page points at."""
        return (self.path.parent / src).resolve()

    def images(self) -> list[Any]:
        return self.body.select("img")


def page_of(zoo: Zoo, case: Case) -> Page:
    assert case.title is not None
    paths = zoo.pages.get(case.title, [])
    assert len(paths) == 1, (
        f"{case.file}: {len(paths)} pages titled {case.title!r}; titles: {sorted(zoo.pages)}"
    )
    html = paths[0].read_text(encoding="utf-8")
    return Page(paths[0], html, BeautifulSoup(html, "html.parser"))


def test_build_fails_only_for_the_nbformat3_notebook(zoo: Zoo):
    stderr = zoo.first.stderr
    assert zoo.first.returncode == 1, stderr
    errors = error_lines(stderr)
    assert len(errors) == 1, stderr
    assert "reports/zoo/legacy_v3.ipynb" in errors[0] and UPGRADE in errors[0]
    # The summary after "1 problem(s)" repeats that one line, and nothing else names the file.
    mentions = [line.strip().removeprefix("error: ") for line in stderr.splitlines() if "legacy_v3" in line]
    assert len(set(mentions)) == 1, stderr
    assert "1 problem(s)" in stderr, stderr


def test_no_traceback_in_stderr(zoo: Zoo):
    assert TRACEBACK not in zoo.first.stderr
    assert "this is a bug" not in zoo.first.stderr


def test_the_rest_of_the_site_publishes(zoo: Zoo):
    ok = zoo.site / "ok/index.html"
    assert ok.is_file()
    soup = BeautifulSoup(ok.read_text(encoding="utf-8"), "html.parser")
    assert soup.select_one("h1#report-title").get_text() == "Always fine"
    assert "zoo-ok-body" in soup.get_text() and soup.select_one(".report-body math") is not None
    index = (zoo.site / "index.html").read_text(encoding="utf-8")
    for case in CASES:
        if case.title is not None:
            assert case.title in index, case.id
    published = {path for paths in zoo.pages.values() for path in paths}
    assert len(published) == sum(case.title is not None for case in CASES), sorted(zoo.pages)


def test_cjk_only_names_get_two_pages(zoo: Zoo):
    first = page_of(zoo, BY_ID["unicode-cjk"]).path
    second = page_of(zoo, BY_ID["unicode-cjk-second"]).path
    assert first != second
    assert first.parent.name == "数据分析" and second.parent.name == "机器学习"


# --- per-case checks ---------------------------------------------------------------------------

CHECKS: dict[str, Callable[[Zoo, Page], None]] = {}


def check(*case_ids: str):
    def register(fn: Callable[[Zoo, Page], None]) -> Callable[[Zoo, Page], None]:
        for case_id in case_ids:
            CHECKS[case_id] = fn
        return fn

    return register


@check(*(f"nbformat-4.{minor}" for minor in range(6)))  # E73 of docs/errors.md
def _versioned(zoo: Zoo, page: Page) -> None:
    minor = page.soup.select_one("h1#report-title").get_text().rsplit(".", 1)[1]
    text = page.body.get_text()
    assert f"Prose of the 4.{minor} notebook." in text
    assert f"marker-4-{minor}" in text and f"42 from 4.{minor}" in text
    assert f"raw cell of 4.{minor}" in text
    assert page.path.parent.name.replace("-", "_") == f"format_4_{minor}"


@check("legacy-widgets")
def _widgets(zoo: Zoo, page: Page) -> None:
    text = page.body.get_text()
    # a widget says what it is, never its kernel-side repr IntSlider(value=3, ...)
    assert "Interactive widget (IntSlider): it works in the running notebook." in text
    assert "zoo-widget-fallback" not in text
    assert "a1b2c3" not in page.html and "widget-view+json" not in page.html
    assert "jupyter-js-widgets" not in page.html  # the legacy state is not embedded
    assert "Interactive widget: it works in the running notebook." in text  # (no text/plain at all)


@check("attachment")
def _attachment(zoo: Zoo, page: Page) -> None:
    assert "attachment:" not in page.html
    (img,) = page.images()
    assert img["alt"] == "x"
    assert "/assets/img/" in "/" + img["src"] and img["src"].endswith(".png")
    assert page.asset(img["src"]).read_bytes() == ATTACHED_PNG


@check("svg")
def _svg(zoo: Zoo, page: Page) -> None:
    (img,) = page.images()
    assert img["src"].endswith(".svg") and "assets/img/" in img["src"]
    published = page.asset(img["src"]).read_text(encoding="utf-8")
    assert "zoo-svg-ok ✓" in published and "<rect" in published
    assert "<svg" not in page.body.decode_contents()  # written as a file, never inlined


@check("svg-hostile")
def _svg_hostile(zoo: Zoo, page: Page) -> None:
    (img,) = page.images()
    published = page.asset(img["src"])
    assert published.parent == zoo.site / "assets/img"
    svg = published.read_text(encoding="utf-8")
    assert "zoo-svg-hostile" in svg and "<circle" in svg
    assert "<script" not in svg and "onload" not in svg and "onclick" not in svg and "alert" not in svg
    for other in (zoo.site / "assets/img").glob("*.svg"):
        assert "svg-script" not in other.read_text(encoding="utf-8"), other


@check("latex")
def _latex(zoo: Zoo, page: Page) -> None:
    math = page.body.select_one("math")
    assert math is not None, page.body
    assert math.select_one("mfrac") is not None
    assert "$$" not in page.body.get_text() and "\\frac" not in page.body.get_text().replace(
        math.get("alttext", ""), ""
    )


@check("invalid-base64")
def _invalid_base64(zoo: Zoo, page: Page) -> None:
    assert "zoo-after-broken" in page.body.get_text()
    pngs = [img for img in page.images() if img["src"].endswith(".png")]
    assert [img["alt"] for img in pngs] == ["zoo-good-png", "zoo-wrapped"]
    for img in pngs:
        assert page.asset(img["src"]).read_bytes() == OUTPUT_PNG
        assert (img["width"], img["height"]) == ("3", "2")
    assert "zoo-broken-fallback" in page.body.get_text()  # the text/plain fallback instead
    assert_warned(zoo, "reports/zoo/bad_base64.ipynb", "base64")


def assert_warned(zoo: Zoo, source: str, about: str, times: int = 1) -> None:
    warnings = [line for line in zoo.first.stderr.splitlines() if line.startswith("warning:")]
    mine = [line for line in warnings if source in line and about in line]
    assert len(set(mine)) == times, zoo.first.stderr


@check("invalid-base64-lenient")
def _invalid_base64_lenient(zoo: Zoo, page: Page) -> None:
    text = page.body.get_text()
    assert "zoo-lenient-1" in text and "zoo-lenient-2" in text  # the text/plain fallback instead
    for img in page.images():  # no image of bytes that are not an image
        assert page.asset(img["src"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", img
    assert_warned(zoo, "reports/zoo/bad_base64_lenient.ipynb", "base64", times=2)


@check("ansi-stream")
def _ansi_stream(zoo: Zoo, page: Page) -> None:
    assert ESC not in page.html and "[31m" not in page.html and "[0m" not in page.html
    text = page.body.get_text()
    assert "red and bold green" in text and "warned on stderr" in text
    red = [span for span in page.body.select("span") if span.get_text() == "red"]
    assert red and "ansi-red" in " ".join(red[0].get("class", [])), page.body


@check("ansi-error")
def _ansi_error(zoo: Zoo, page: Page) -> None:
    assert ESC not in page.html and "[0;31m" not in page.html and "[38;5;241m" not in page.html
    text = page.body.get_text()
    assert "ZeroDivisionError" in text and "division by zero" in text


@check("mime-bundle")
def _mime_bundle(zoo: Zoo, page: Page) -> None:
    text = page.body.get_text()
    assert page.body.select_one("table.dataframe") is not None and "zoo-html-cell" in text
    assert "zoo-plain-of-bundle" not in text  # one representation per output: the richest
    only_md = page.body.select_one(".output_markdown")
    assert only_md is not None and "zoo-only-" in only_md.get_text() and only_md.select_one("strong")
    jpegs = [img for img in page.images() if img["src"].endswith(".jpg")]
    assert len(jpegs) == 1 and jpegs[0]["alt"] == "zoo-jpeg-alt"
    assert page.asset(jpegs[0]["src"]).read_bytes() == JPEG
    assert "zoo-unk" in text and "zoo-unknown-payload" not in page.html


@check("html-script")
def _html_script(zoo: Zoo, page: Page) -> None:
    assert "alert(1)" not in page.html and "onerror" not in page.html
    for script in page.soup.select("script"):
        assert "alert" not in script.get_text()
    text = page.body.get_text()
    assert "zoo-script-kept" in text and "zoo-img-kept" in text
    assert page.body.select_one("b") is not None


def front_fields(case: Case) -> dict[str, Any]:
    """The front matter `front()` wrote for a case (one JSON value a line)."""
    yaml = "".join(case.notebook["cells"][0]["source"]).strip("-\n")
    return {key: json.loads(value) for key, value in (line.split(": ", 1) for line in yaml.splitlines())}


def _unicode(zoo: Zoo, page: Page) -> None:
    case = next(c for c in CASES if c.title == page.soup.select_one("h1#report-title").get_text())
    fields = front_fields(case)
    tags = page.soup.select(".report-header a.tag")
    authors = page.soup.select(".report-header a.author")
    assert [a.get_text() for a in tags] == fields["tags"]
    assert [a.get_text() for a in authors] == fields["authors"]
    if "summary" in fields:
        assert page.soup.select_one(".report-header .lede").get_text() == fields["summary"]
    assert page.soup.select_one("title").get_text().startswith(case.title)
    output = "".join("".join(o.get("text", [])) for c in case.notebook["cells"] for o in c.get("outputs", []))
    for line in output.splitlines():
        assert line in page.body.get_text(), line


check("unicode-cjk", "unicode-cjk-second", "unicode-latin")(_unicode)


KNOWN_DEFECTS: dict[str, str] = {}  # cases that fail today: none


def case_params(ids: list[str], defects: dict[str, str]) -> list[Any]:
    return [
        pytest.param(i, marks=pytest.mark.xfail(strict=True, reason=defects[i])) if i in defects else i
        for i in ids
    ]


@pytest.mark.parametrize("case_id", case_params([case.id for case in CASES], KNOWN_DEFECTS))
def test_zoo_case(zoo: Zoo, case_id: str):
    case = BY_ID[case_id]
    if case.title is None:
        assert not any(zoo.site.glob(f"zoo/{Path(case.file).stem.lower()}*"))
        line = [line for line in error_lines(zoo.first.stderr) if case.file in line]
        assert len(line) == 1 and UPGRADE in line[0], zoo.first.stderr
        return
    page = page_of(zoo, case)
    assert page.soup.select_one(".report-body") is not None
    assert "rendering failed" not in page.html
    CHECKS[case_id](zoo, page)


@pytest.mark.parametrize("case_id", [case.id for case in CASES])
def test_fixture_is_valid_for_its_nbformat(case_id: str):
    """The zoo tests knowrepo, not broken fixtures: each notebook is valid for the version it claims."""
    import nbformat

    nb = BY_ID[case_id].notebook
    nbformat.validate(copy.deepcopy(nb), version=nb["nbformat"], version_minor=nb["nbformat_minor"])


def test_every_published_case_has_a_check():
    assert set(CHECKS) == {case.id for case in CASES if case.title is not None}


def test_inline_script_beside_an_image_keeps_the_rest_of_the_html(zoo: Zoo):
    assert "zoo-both" in page_of(zoo, BY_ID["html-script"]).body.get_text()


UNICODE_CASES = ["unicode-cjk", "unicode-cjk-second", "unicode-latin"]


@pytest.mark.parametrize("case_id", case_params(UNICODE_CASES, {}))
def test_tag_and_author_pages(zoo: Zoo, case_id: str):
    """Each tag and author link of a page leads to that tag's (author's) own page, which lists it."""
    case = BY_ID[case_id]
    page = page_of(zoo, case)
    links = page.soup.select(".report-header a.tag, .report-header a.author")
    assert len(links) == len(front_fields(case)["tags"]) + len(front_fields(case)["authors"])
    for link in links:
        name = link.get_text()
        target = (page.path.parent / link["href"] / "index.html").resolve()
        assert target.is_file(), f"{name}: {link['href']}"
        listed = BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser")
        assert listed.select_one("h1").get_text() == name, f"{name!r} links to the page of {listed.h1}"
        assert case.title in listed.get_text(), f"{name!r}: {target} does not list {case.title!r}"


def test_published_as_they_are_without_a_kernel(zoo: Zoo):
    assert "(0 executed," in zoo.first.stderr, zoo.first.stderr
    assert not (zoo.repo / "runs").exists()


def test_stderr_holds_only_knowrepo_lines(zoo: Zoo):
    assert "UserWarning" not in zoo.first.stderr and ".j2:" not in zoo.first.stderr, zoo.first.stderr


def test_each_warning_is_printed_once(zoo: Zoo):
    warnings = [line for line in zoo.first.stderr.splitlines() if line.startswith("warning:")]
    assert warnings and len(warnings) == len(set(warnings)), zoo.first.stderr


def test_second_build_prints_the_same_error_and_changes_nothing(zoo: Zoo):
    before = site_files(zoo.site)
    assert before == zoo.files  # the per-case tests only read the site
    again = run_knowrepo("build", str(zoo.repo), check=False)
    assert again.returncode == 1, again.stderr
    assert error_lines(again.stderr) == error_lines(zoo.first.stderr)
    assert TRACEBACK not in again.stderr
    after = site_files((zoo.repo / "_site").resolve())
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert after == before  # not even rewritten with the same bytes
