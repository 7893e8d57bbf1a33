"""The catalogue of bad input and faults (docs/errors.md): each row's test is marked with its id.

One hostile repository holds most bad reports side by side and is built once: every bad one
must be named on one line, and the good ones must publish all the same. Faults kill real
processes (at pause points the build reaches), fill a real small filesystem, and race two
real builds.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import KNOWREPO, PROJECT, copy_example, run_knowrepo, write_notebook

TINY_PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
    )
).decode()


def md(front: str, body: str = "Some prose.\n") -> str:
    return f"---\n{front.strip()}\n---\n\n{body}"


def raw_notebook(cells: list, **top) -> str:
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells, **top}
    return json.dumps(nb)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_one_line_for(stderr: str, path: str, *fragments: str) -> str:
    """The build named `path` on exactly one error line that holds every fragment."""
    lines = [line for line in error_lines(stderr) if f"{path}:" in line]
    assert len(lines) == 1, (path, lines, stderr[-3000:])
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ---- the hostile repository ------------------------------------------------------------------

OUTSIDE_SECRET = "TOP-SECRET-OUTSIDE-THE-REPOSITORY"


def make_hostile(base: Path) -> Path:
    repo = base / "repo"
    outside = write(base / "outside" / "secret.md", md("title: Leaked", OUTSIDE_SECRET))
    write(base / "outside" / "secret.png", base64.b64decode(TINY_PNG))
    write(repo / "knowrepo.toml", '[site]\ntitle = "Hostile"\n')
    write(repo / ".git" / "config", "[core]\n\tsecret = " + OUTSIDE_SECRET + "\n")
    r = repo / "reports"
    write(r / "good.md", md("title: Good report\ntags: [fine]", "All is well here.\n"))
    write_notebook(
        r / "good-notebook.ipynb",
        [("markdown", "# Good notebook\n\nFine prose."), ("code", "print('hi')")],
        outputs={1: [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]},
    )
    # Notebook structure
    write(r / "bad-json.ipynb", '{"cells": [')
    write(r / "v3.ipynb", json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}))
    write(r / "no-source.ipynb", raw_notebook([{"cell_type": "markdown", "metadata": {}}]))
    write(r / "cell-not-object.ipynb", raw_notebook(["just text"]))
    write(
        r / "tags-text.ipynb", raw_notebook([{"cell_type": "code", "metadata": {"tags": "x"}, "source": "1"}])
    )
    bad_output = {"cell_type": "code", "metadata": {}, "source": "1", "outputs": [{"output_type": "weird"}]}
    write(r / "bad-output.ipynb", raw_notebook([bad_output]))
    # Front matter
    write(r / "bad-yaml.md", md("title: X\ntags: [a, b"))
    write(r / "unknown-field.md", md("title: X\nauhtors: Ken"))
    write(r / "bad-date.md", md("title: X\ncreated: 2026-02-30"))
    write(r / "int-key.md", md("title: X\nparams: {1: a}"))
    write(r / "big-int.md", md("title: X\nparams: {x: 123456789012345678901234567890}"))
    write(r / "deep.md", md("title: X\nparams: {x: " + "[" * 30 + "]" * 30 + "}"))
    write(r / "surrogate.md", md('title: "bad \\ud800 title"'))
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(5)
    )
    write(r / "alias-bomb.md", md(bomb))
    write(r / "latin1.md", "---\ntitle: Caf\xe9\n---\n".encode("latin-1"))
    write(r / "Dup.md", md("title: Dup one"))
    write(r / "dup.md", md("title: Dup two"))
    write(r / "pagefind.md", md("title: Reserved"))
    write(r / "variant-clash.md", md("title: X\nvariants: {matrix: {region: [EU, eu]}}"))
    write(r / "variant-blank.md", md("title: X\nvariants: {matrix: {region: ['', '!!']}}"))
    write(r / "email-bad.md", md("title: X\nemail: {variants: [eu]}"))
    write(r / "thumb-outside.md", md("title: X\nthumbnail: ../../outside/secret.png"))
    write(r / "image-outside.md", md("title: Image outside", "![leak](../../outside/secret.png)\n"))
    # Symlinks
    (r / "link-outside.md").symlink_to(outside)
    (r / "link-git.md").symlink_to(repo / ".git" / "config")
    (r / "broken-link.md").symlink_to(r / "does-not-exist.md")
    (r / "loop").symlink_to(r, target_is_directory=True)  # a folder linked into itself
    # Planning (notebooks with variants or inputs)
    many = "variants: {matrix: {a: [1, 2, 3, 4, 5, 6, 7, 8], b: [1, 2, 3, 4, 5, 6, 7, 8]}}"
    write_notebook(r / "too-many.ipynb", [("code", "x = 1")], front=f"title: Many\n{many}")
    write_notebook(r / "inputs-outside.ipynb", [("code", "x = 1")], front="inputs: ['../../outside/*']")
    write_notebook(r / "inputs-absolute.ipynb", [("code", "x = 1")], front="inputs: ['/etc/*']")
    # Content: hostile HTML, huge and broken outputs, lone surrogates
    write(
        r / "xss.md",
        md(
            "title: Hostile prose",
            "Hello <script>alert('md')</script> <img src=x onerror=\"alert('img')\">\n\n"
            "[click](javascript:alert('link')) <svg onload=\"alert('svg')\"><circle r='1'/></svg>\n\n"
            "<iframe src='https://evil.example/'></iframe><a href=\"data:text/html,x\">d</a>\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n\nSafe $x^2$ math.\n",
        ),
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'file\')"><script>alert(1)</script>'
        '<circle r="4"/></svg>'
    )
    html_out = {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "text/html": "<table><tr><td onclick='alert(1)'>cell</td></tr></table>"
            "<script>alert('out')</script><style>td {color: red}</style>",
            "text/plain": "table",
        },
    }
    svg_out = {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg}}
    raw = {"cell_type": "raw", "metadata": {}, "source": "<p>raw</p><script>alert('raw')</script>"}
    xss_cells = [
        raw,
        {"cell_type": "markdown", "metadata": {}, "source": "# Hostile notebook\n\n<img src=x onerror=alert(2)>"},  # noqa: E501
        {"cell_type": "code", "metadata": {}, "source": "show()", "outputs": [html_out, svg_out],
         "execution_count": 1},
    ]  # fmt: skip
    write(r / "xss-notebook.ipynb", raw_notebook(xss_cells))
    huge = {"output_type": "stream", "name": "stdout", "text": "line of output\n" * 200_000}
    huge_cell = {
        "cell_type": "code",
        "metadata": {},
        "source": "spam()",
        "outputs": [huge],
        "execution_count": 1,
    }
    title_cell = {"cell_type": "markdown", "metadata": {}, "source": "# Huge"}
    write(r / "huge-output.ipynb", raw_notebook([title_cell, huge_cell]))
    bad_png = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "!!!not base64!!!"}}
    bad_svg = {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": "<svg><g>unclosed"}}
    write(r / "bad-image.ipynb", raw_notebook([
        {"cell_type": "markdown", "metadata": {}, "source": "# Bad image\n\nProse stays."},
        {"cell_type": "code", "metadata": {}, "source": "plot()", "outputs": [bad_png, bad_svg],
         "execution_count": 1},
    ]))  # fmt: skip
    lone = '{"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Lone \\ud800 heading"}, ' \
        '{"cell_type": "code", "metadata": {}, "source": "x", "execution_count": 1, "outputs": ' \
        '[{"output_type": "stream", "name": "stdout", "text": "out \\udfff put"}]}], ' \
        '"metadata": {}, "nbformat": 4, "nbformat_minor": 5}'  # fmt: skip
    write(r / "lone-surrogate.ipynb", lone)
    write(r / "数据.md", md("title: Data in Chinese\ntags: [数据]"))
    # What a red-team pass found (E79-E84): script through math, copied "images", attributes
    write(r / "page.html", "<script>alert('html')</script>")
    write(r / "gadget.js", "alert('js')")
    write(
        r / "tex-script.md",
        md(
            "title: TeX script",
            "Grew $\\text{<script/src=gadget.js></script>}$ and $x^2$.\n\n![p](page.html) ![g](gadget.js)\n\n"
            "<style>p{}</sty<h1>TeX script</h1>le><img src=x onerror=alert(1)></style>\n\n"
            '## Intro {: #x }\n<style>p{}<h2 </sty id="x"le><img src=x id=pwn onerror=alert(2)></h2>'
            "</style>\n\n"
            '$a onmouseover=alert(3) b$ <a title="KRMATH0KR" id="x1">link</a> KRMATH7KR\n',
        ),
    )
    sized = {
        "output_type": "display_data",
        "data": {"image/png": TINY_PNG},
        "metadata": {"image/png": {"width": '1"><script src="x.js"></script><x y="', "height": 2}},
    }
    latex_out = {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/latex": "$\\text{<b id=fromlatex>bold</b>}$"},
    }
    write(
        r / "meta-inject.ipynb",
        raw_notebook(
            [
                {"cell_type": "markdown", "metadata": {}, "source": "# Meta inject"},
                {
                    "cell_type": "code",
                    "metadata": {},
                    "source": "x",
                    "outputs": [sized, latex_out],
                    "execution_count": 1,
                },
            ]
        ),
    )
    write(
        r / "frame.svg",
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml">'
        '<h:frame src="javascript:alert(1)"/><h:meta http-equiv="refresh" content="0;url=https://evil.example/"/>'
        "<style>@import url(https://evil.example/a.css); rect{fill:url(https://evil.example/p)}</style>"
        '<rect width="4" height="4" style="background:url(https://evil.example/b)"/></svg>',
    )
    write(r / "svg-namespace.md", md("title: SVG namespace", "![f](frame.svg)\n"))
    write(r / "nul-thumb.md", md('title: X\nthumbnail: "a\\0b.png"'))
    write(r / "ctrl-title.md", md('title: "Quarterly\\x0b review"'))
    write(
        r / "newline-subject.md",
        md('title: X\nemail: {to: a@example.com, subject: "Monthly\\nBcc: x@evil.example"}'),
    )
    write(
        r / "big-number.ipynb",
        '{"cells": [], "metadata": {"n": ' + "9" * 5000 + '}, "nbformat": 4, "nbformat_minor": 5}',
    )
    write(r / "nul-image.md", md("title: NUL image", "![x](%00.png) and prose.\n"))
    os.close(os.open(os.fsencode(r) + b"/bad-name-\xff.md", os.O_CREAT | os.O_WRONLY, 0o644))
    write(r / "模型.md", md("title: Model in Chinese\ntags: [模型]"))
    return repo


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    repo = make_hostile(tmp_path_factory.mktemp("hostile"))
    proc = run_knowrepo("build", str(repo), "--execute", "never", check=False)
    return repo, proc


PER_REPORT = [
    ("E22", "reports/bad-json.ipynb", ["invalid notebook JSON"]),
    ("E23", "reports/v3.ipynb", ["nbformat 3", "jupyter nbconvert --to notebook --nbformat 4"]),
    ("E24", "reports/no-source.ipynb", ["cell 1: has no 'source'"]),
    ("E25", "reports/cell-not-object.ipynb", ["cell 1: is not an object"]),
    ("E26", "reports/tags-text.ipynb", ["cell 1: 'metadata.tags' must be a list of text"]),
    ("E27", "reports/bad-output.ipynb", ["cell 1: has an output that is not"]),
    ("E28", "reports/bad-yaml.md", ["invalid YAML front matter at line"]),
    ("E29", "reports/unknown-field.md", ["unknown front-matter field 'auhtors'", "did you mean 'authors'"]),
    ("E30", "reports/bad-date.md", ["'created' must be a date like 2026-10-31, not '2026-02-30'"]),
    ("E31", "reports/int-key.md", ["'params' has the key 1, which is not text"]),
    ("E32", "reports/big-int.md", ["'params.x' is an integer too large to store"]),
    ("E33", "reports/deep.md", ["nested more than 12 levels deep"]),
    ("E34", "reports/surrogate.md", ["'title' holds an invalid character"]),
    ("E35", "reports/alias-bomb.md", ["front matter is too large"]),
    ("E36", "reports/latin1.md", ["not UTF-8 text"]),
    ("E37", "reports/dup.md", ["slug 'dup' is also the slug of reports/Dup.md"]),
    ("E38", "reports/pagefind.md", ["would overwrite the site's own 'pagefind' pages"]),
    ("E39", "reports/variant-clash.md", ["both give the variant name 'eu'"]),
    ("E40", "reports/variant-blank.md", ["has no letters or digits to name its variants by"]),
    ("E41", "reports/too-many.ipynb", ["has 64 variants, more than [execute] max_variants (50)"]),
    ("E42", "reports/link-outside.md", ["leads outside the repository", "not published"]),
    ("E43", "reports/link-git.md", ["leads into the repository's .git/ folder"]),
    ("E45", "reports/broken-link.md", ["a broken symlink"]),
    ("E47", "reports/inputs-outside.ipynb", ["inputs glob '../../outside/*' matches secret.md", "outside"]),
    ("E48", "reports/inputs-absolute.ipynb", ["inputs glob '/etc/*' must be relative"]),
    (
        "E49",
        "reports/thumb-outside.md",
        ["thumbnail '../../outside/secret.png' leads outside the repository"],
    ),
    ("E72", "reports/email-bad.md", ["'email.variants' must map variant names"]),
    ("E85", "reports/nul-thumb.md", ["front matter 'thumbnail' holds the control character \\x00"]),
    ("E86", "reports/ctrl-title.md", ["front matter 'title' holds the control character \\x0b"]),
    ("E87", "reports/newline-subject.md", ["'email.subject' must be one line"]),
    ("E88", "reports/big-number.ipynb", ["invalid notebook JSON", "digits"]),
    ("E89", "reports/bad-name-\\xff.md", ["its name is not UTF-8 text; rename it"]),
]


@pytest.mark.parametrize(("row", "path", "fragments"), PER_REPORT, ids=[r[0] for r in PER_REPORT])
def test_bad_report_is_one_line_and_is_not_published(hostile, row: str, path: str, fragments: list[str]):
    repo, proc = hostile
    assert_one_line_for(proc.stderr, path, *fragments)
    slug = Path(path).with_suffix("").name.lower()
    if path != "reports/dup.md":  # (its twin publishes under the shared slug)
        assert not (repo / "_site" / slug / "index.html").exists()


def test_the_hostile_build_publishes_every_good_report_and_no_traceback(hostile):
    repo, proc = hostile
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    site = repo / "_site"
    for page in ("good", "good-notebook", "xss", "xss-notebook", "huge-output", "bad-image",
                 "lone-surrogate", "image-outside", "数据", "模型"):  # fmt: skip
        assert (site / page / "index.html").is_file(), page
    assert len(error_lines(proc.stderr)) == len(PER_REPORT)  # nothing else went wrong
    for path in site.resolve().rglob("*"):  # nothing from outside the repository or from .git
        if path.is_file():
            assert OUTSIDE_SECRET.encode() not in path.read_bytes(), path


def test_E44_a_folder_linked_into_itself_is_read_once(hostile):
    repo, proc = hostile
    assert not (repo / "_site/loop").exists()
    assert "loop" not in "".join(error_lines(proc.stderr))


def test_E46_an_image_outside_the_repository_is_not_copied(hostile):
    repo, proc = hostile
    assert (
        "reports/image-outside.md: image '../../outside/secret.png' leads outside the repository"
        in proc.stderr
    )
    page = (repo / "_site/image-outside/index.html").read_text()
    assert "assets/img/" not in page.split('class="report-body"')[1]


def test_E63_E64_E65_E66_report_html_cannot_run_script(hostile):
    repo, _proc = hostile
    for slug in ("xss", "xss-notebook"):
        page = BeautifulSoup((repo / "_site" / slug / "index.html").read_text(), "html.parser")
        body = page.select_one(".report-body")
        assert body is not None
        assert not body.select("script, iframe, svg, object, embed")
        for tag in body.find_all(True):
            assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
            for attr in ("href", "src"):
                value = str(tag.get(attr, "")).strip().lower()
                assert not value.startswith(("javascript:", "data:text")), tag
        assert "alert(" not in body.get_text()
    prose = BeautifulSoup((repo / "_site/xss/index.html").read_text(), "html.parser").select_one(
        ".report-body"
    )
    assert prose.select("table") and prose.select("math")  # tables and math stay
    notebook = BeautifulSoup((repo / "_site/xss-notebook/index.html").read_text(), "html.parser")
    assert notebook.select_one(".report-body td").get_text() == "cell"
    assert ".report-body td {color: red}" in str(
        notebook.select_one(".report-body style")
    )  # Styler's CSS stays
    svgs = [p for p in (repo / "_site/assets/img").iterdir() if p.suffix == ".svg"]
    assert svgs
    for svg in svgs:  # E65: the file itself, opened at its own URL, runs nothing
        text = svg.read_text()
        assert "<script" not in text and "onload" not in text and ("<circle" in text or "<rect" in text)


def test_every_page_carries_a_strict_content_security_policy(hostile):
    repo, _proc = hostile
    pages = list((repo / "_site").resolve().rglob("*.html"))
    assert len(pages) > 10
    for path in pages:
        meta = BeautifulSoup(path.read_text(), "html.parser").select_one(
            'meta[http-equiv="Content-Security-Policy"]'
        )
        assert meta is not None, path
        policy = meta["content"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_E60_a_huge_output_is_cut_with_a_note(hostile):
    repo, _proc = hostile
    page = repo / "_site/huge-output/index.html"
    assert page.stat().st_size < 1_500_000  # the output alone is 3 MB
    assert "output cut at 1.0 MB of 3.0 MB; the whole output is in the executed notebook" in page.read_text()


def test_E61_E62_invalid_images_are_skipped_with_a_warning(hostile):
    repo, proc = hostile
    assert "reports/bad-image.ipynb: cell 2: an SVG output is not well-formed SVG; not shown" in proc.stderr
    assert (
        "reports/bad-image.ipynb: cell 2: an image/png output is not valid base64 image/png; not shown"
        in proc.stderr
    )
    assert "Prose stays." in (repo / "_site/bad-image/index.html").read_text()


def test_E68_lone_surrogates_in_a_notebook_become_replacement_characters(hostile):
    repo, _proc = hostile
    page = (repo / "_site/lone-surrogate/index.html").read_text(encoding="utf-8")
    assert "Lone \ufffd heading" in page and "out \ufffd put" in page


def test_E69_names_and_tags_in_other_scripts_get_their_own_pages(hostile):
    repo, _proc = hostile
    assert "Data in Chinese" in (repo / "_site/数据/index.html").read_text()
    assert "Model in Chinese" in (repo / "_site/模型/index.html").read_text()
    assert (repo / "_site/tags/数据/index.html").is_file() and (repo / "_site/tags/模型/index.html").is_file()


def test_a_second_hostile_build_changes_nothing_and_says_the_same(hostile):
    repo, proc = hostile
    again = run_knowrepo("build", str(repo), "--execute", "never", check=False)
    assert again.returncode == 1
    assert sorted(error_lines(again.stderr)) == sorted(error_lines(proc.stderr))


def test_E74_pages_work_under_their_policy_in_a_real_browser(browser, site_server: str):
    """No page of the example breaks its own Content-Security-Policy, and search works under it."""
    context = browser.new_context()  # no bypass: the policy applies
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        for path in ("", "product/churn-analysis/", "sales/monthly-revenue/runs/", "tags/", "404.html"):
            page.goto(site_server + path)
            page.wait_for_load_state("networkidle")
        page.goto(site_server + "search/?q=retention")
        page.locator(".result-title a").first.wait_for(timeout=15_000)
        assert "Customer churn" in page.locator(".result-title").first.inner_text()
    finally:
        context.close()
    assert violations == []


def test_E08_E09_config_errors_are_one_line(small: Path):
    (small / "knowrepo.toml").write_text("[site\ntitle = 'x'\n")
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1 and len(error_lines(proc.stderr)) == 1 and "invalid TOML" in proc.stderr
    (small / "knowrepo.toml").write_text("[site]\nbaseurl = '/kr/'\n")
    proc = run_knowrepo("build", str(small), check=False)
    assert (
        proc.returncode == 1 and "unknown key in [site] 'baseurl' (did you mean 'base_url'?)" in proc.stderr
    )


# ---- whole-build refusals: the published site stays --------------------------------------------


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    """A two-report Markdown repository, built once."""
    repo = tmp_path / "small"
    write(repo / "knowrepo.toml", '[site]\ntitle = "Small"\n')
    write(repo / "reports/a.md", md("title: Alpha", "First.\n"))
    write(repo / "reports/b.md", md("title: Beta", "Second.\n"))
    run_knowrepo("build", str(repo))
    return repo


def site_bytes(repo: Path) -> dict[str, bytes]:
    site = (repo / "_site").resolve()
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def test_E01_a_foreign_output_folder_is_refused_and_untouched(small: Path, tmp_path: Path):
    mine = write(tmp_path / "mine" / "notes.txt", "precious")
    proc = run_knowrepo("build", str(small), "-o", str(mine.parent), check=False)
    assert proc.returncode == 1
    assert_one_line_for(proc.stderr, str(mine.parent), "is not a site knowrepo published", "-o")
    assert mine.read_text() == "precious" and sorted(os.listdir(mine.parent)) == ["notes.txt"]
    assert not (tmp_path / ".mine.versions").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    run_knowrepo("build", str(small), "-o", str(empty))  # an empty folder is fine
    assert (empty / "index.html").is_file() and empty.is_symlink()


@pytest.mark.parametrize(
    ("row", "where", "fragment"),
    [
        ("E02", ".", "it would replace the repository"),
        ("E03", "reports", "it would replace reports/"),
        ("E04", "runs/site", "cannot publish the site inside runs/"),
        ("E04b", ".knowrepo", "it would replace .knowrepo/"),
        ("E04c", "..", "it would replace the repository"),
    ],
    ids=["E02", "E03", "E04", "E04-state", "E04-parent"],
)
def test_E02_E04_an_output_over_the_repository_is_refused(small: Path, row: str, where: str, fragment: str):
    before = sorted(p.relative_to(small).as_posix() for p in small.rglob("*"))
    config = small / "knowrepo.toml"
    config.write_text(f'[site]\ntitle = "Small"\noutput = "{where}"\n')
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1 and fragment in proc.stderr, proc.stderr
    assert len(error_lines(proc.stderr)) == 1
    config.write_text('[site]\ntitle = "Small"\n')
    assert sorted(p.relative_to(small).as_posix() for p in small.rglob("*")) == before


def test_E05_a_symlink_knowrepo_did_not_make_is_refused(small: Path, tmp_path: Path):
    other = tmp_path / "elsewhere"
    write(other / "keep.txt", "mine")
    link = tmp_path / "link"
    link.symlink_to(other)
    proc = run_knowrepo("build", str(small), "-o", str(link), check=False)
    assert proc.returncode == 1 and "a symlink knowrepo did not make" in proc.stderr
    assert os.readlink(link) == str(other) and (other / "keep.txt").read_text() == "mine"


def test_E06_E07_missing_or_emptied_reports_keep_the_site(small: Path):
    before = site_bytes(small)
    (small / "reports").rename(small / "reports-moved")
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1
    assert_one_line_for(proc.stderr, "reports", "no reports/ folder", "published site is unchanged")
    (small / "reports").mkdir()
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1 and "holds no reports, but the published site has 2" in proc.stderr
    assert site_bytes(small) == before


def test_E10_a_config_value_out_of_range_is_one_line(small: Path):
    (small / "knowrepo.toml").write_text("[execute]\ntimeout = 0\n")
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1
    assert error_lines(proc.stderr) == [
        f"error: {small / 'knowrepo.toml'}: [execute] timeout must be at least 1, not 0"
    ]


def test_E11_E12_E55_theme_template_errors_are_one_line(small: Path):
    before = site_bytes(small)
    theme = small / "themes/broken/templates"
    write(small / "knowrepo.toml", '[site]\ntitle = "Small"\ntheme = "broken"\n')
    write(theme / "tag.html", "{% extends 'base.html' %}{% block content %}{% for x in %}{% endblock %}")
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line = assert_one_line_for(proc.stderr, "tag.html", "theme template error at line 1")
    assert "tag.html" in line
    assert site_bytes(small) == before  # E11: nothing published
    (theme / "tag.html").unlink()
    write(theme / "index.html", "{{ cards[0].nothing.deeper }}")
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert (
        "the listing pages cannot be built: theme template" in proc.stderr
        and "index.html line 1" in proc.stderr
    )
    assert site_bytes(small) == before  # E12
    (theme / "index.html").unlink()
    write(
        theme / "report.html",
        "{% extends 'base.html' %}{% block content %}{{ meta.title.upper() }}"
        "{% if meta.title == 'Beta' %}{{ meta.params.missing.key }}{% endif %}{% endblock %}",
    )
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1
    assert_one_line_for(proc.stderr, "reports/b.md", "theme template", "report.html line 1")  # E55
    assert "ALPHA" in (small / "_site/a/index.html").read_text()  # the other report publishes
    assert b"Second." in site_bytes(small)["b/index.html"]  # and this one keeps its page


def test_E13_a_damaged_manifest_means_a_full_rebuild(small: Path):
    manifest = next((small / ".knowrepo").glob("manifest-*.json"))
    manifest.write_bytes(manifest.read_bytes()[:-50] + b'"reports": [], "x": 1}')
    write(small / "reports/c.md", md("title: Gamma"))
    proc = run_knowrepo("build", str(small))
    assert "the last build's record is not used (it is damaged); rebuilding all" in proc.stderr
    assert {"a/index.html", "b/index.html", "c/index.html"} <= set(site_bytes(small))
    proc = run_knowrepo("build", str(small))
    assert "Nothing changed" in proc.stderr


def _tmpfs(mountpoint: Path, size: str) -> bool:
    mountpoint.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)],
                          capture_output=True)  # fmt: skip
    return proc.returncode == 0


def test_E14_a_full_disk_is_one_line_and_the_site_stays(tmp_path: Path):
    disk = tmp_path / "disk"
    if not _tmpfs(disk, "4m"):  # (the site's math font takes 0.8 MB of it)
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        repo = disk / "repo"
        write(repo / "knowrepo.toml", '[site]\ntitle = "Full"\n')
        write(repo / "reports/a.md", md("title: Alpha", "First.\n"))
        run_knowrepo("build", str(repo))
        before = site_bytes(repo)
        noise = os.urandom(1_500_000)  # a big picture that cannot fit twice more
        write(repo / "reports/big.png", noise)
        write(repo / "reports/a.md", md("title: Alpha", "First, with a picture.\n\n![big](big.png)\n"))
        proc = run_knowrepo("build", str(repo), check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        lines = error_lines(proc.stderr)
        assert len(lines) == 1 and "No space left on device" in lines[0], proc.stderr
        assert "the published site is unchanged" in lines[0]
        assert site_bytes(repo) == before
        (repo / "reports/big.png").unlink()
        write(repo / "reports/a.md", md("title: Alpha", "Recovered.\n"))
        run_knowrepo("build", str(repo))
        assert b"Recovered." in site_bytes(repo)["a/index.html"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_E15_a_read_only_output_is_one_line(small: Path, tmp_path: Path):
    if os.geteuid() == 0:  # root writes through permissions: a read-only mount it must be
        ro = tmp_path / "ro"
        if not _tmpfs(ro, "1m"):
            pytest.skip("cannot mount a tmpfs here")
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
    try:
        proc = run_knowrepo("build", str(small), "-o", str(ro / "site"), check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        lines = error_lines(proc.stderr)
        assert len(lines) == 1 and "cannot write" in lines[0], proc.stderr
    finally:
        subprocess.run(["umount", "-l", str(ro)], capture_output=True)


def test_E16_two_builds_at_once_take_turns(tmp_path: Path, example_repo: Path):
    repo = copy_example(tmp_path / "repo", runs_from=example_repo)
    (repo / "knowrepo.toml").write_text(
        (repo / "knowrepo.toml").read_text().replace("enabled = true", "enabled = false")
    )
    for n in range(30):
        write(repo / f"reports/bulk/n{n}.md", md(f"title: Note {n}", "Words. " * 300))
    env = {**os.environ, "KNOWREPO_PAUSE_AT": "publish"}
    first = subprocess.Popen([*KNOWREPO, "build", str(repo)], env=env, stderr=subprocess.PIPE, text=True)
    marker = repo / ".knowrepo/paused-publish"
    _wait_for(marker)
    second = subprocess.Popen([*KNOWREPO, "build", str(repo), "--force"], stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert second.poll() is None  # it waits for the lock rather than interleave
    first.send_signal(signal.SIGKILL)  # the first never publishes; the second goes on
    first.wait()
    _out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "waiting for knowrepo build (pid" in err
    site = (repo / "_site").resolve()
    assert site.is_dir() and (site / "bulk/n29/index.html").is_file()
    assert not list((repo / "runs").rglob(".tmp-*"))


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's pid 1 may never reap the orphans it inherits)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_E78_two_runs_at_once_execute_a_notebook_once(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    front = "title: Two\nvariants: {one: {count: 1}, two: {count: 2}}"  # two runs: a pool of workers
    cells = [("code", "count = 0", ["parameters"]), ("code", "print(count)")]
    write_notebook(repo / "reports/p.ipynb", cells, front=front)
    env = {**os.environ, "KNOWREPO_PAUSE_AT": "run"}
    first = subprocess.Popen([*KNOWREPO, "run", "p"], cwd=repo, env=env, stderr=subprocess.PIPE, text=True)
    marker = repo / ".knowrepo/paused-run"
    _wait_for(marker)
    second = subprocess.Popen([*KNOWREPO, "run", "p"], cwd=repo, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert second.poll() is None  # it waits, rather than run the same notebook meanwhile
    os.kill(int(marker.read_text()), signal.SIGKILL)  # the first's worker dies: its run is retried
    assert first.wait(timeout=300) == 0, first.stderr.read()
    _out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "waiting for knowrepo run (pid" in err and "is up to date" in err
    for variant in ("one", "two"):
        runs = [p for p in (repo / "runs/p" / variant).iterdir() if not p.name.startswith(".")]
        assert len(runs) == 1, variant
    assert not list((repo / "runs").rglob(".tmp-*"))


def _wait_for(path: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize(
    "point", ["render", "index", "publish"], ids=["E17-render", "E18-index", "E19-publish"]
)
def test_E17_E19_a_build_killed_at_each_stage_leaves_the_old_site(small: Path, point: str):
    write_notebook(small / "reports/nb.ipynb", [("markdown", "# NB\n\nProse."), ("code", "1")],
                   outputs={1: [{"output_type": "stream", "name": "stdout", "text": "1\n"}]})  # fmt: skip
    run_knowrepo("build", str(small))
    before = site_bytes(small)
    write_notebook(small / "reports/nb.ipynb", [("markdown", "# NB\n\nEdited prose."), ("code", "1")],
                   outputs={1: [{"output_type": "stream", "name": "stdout", "text": "1\n"}]})  # fmt: skip
    (small / "reports/a.md").write_text(md("title: Alpha", "Edited.\n"))
    env = {**os.environ, "KNOWREPO_PAUSE_AT": point}
    proc = subprocess.Popen([*KNOWREPO, "build", str(small)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    marker = small / f".knowrepo/paused-{point}"
    _wait_for(marker)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if point == "render":  # the paused process is a render worker: it dies with its build
        time.sleep(0.5)
        assert not _running(int(marker.read_text()))
    assert site_bytes(small) == before
    marker.unlink()
    run_knowrepo("build", str(small))  # the next build recovers
    assert b"Edited prose." in site_bytes(small)["nb/index.html"]


def test_E20_a_killed_render_worker_is_replaced_and_everything_publishes(small: Path):
    for n in range(3):
        write_notebook(small / f"reports/nb{n}.ipynb", [("markdown", f"# NB {n}\n\nProse {n}.")])
    env = {**os.environ, "KNOWREPO_PAUSE_AT": "render"}
    proc = subprocess.Popen([*KNOWREPO, "build", str(small), "-j", "2"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    marker = small / ".knowrepo/paused-render"
    _wait_for(marker)
    os.kill(int(marker.read_text()), signal.SIGKILL)  # the worker, as the OOM killer would
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    for n in range(3):
        assert f"Prose {n}.".encode() in site_bytes(small)[f"nb{n}/index.html"]


# ---- runs with real kernels ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Jupyter data folder with a kernel that dies as it starts."""
    base = tmp_path_factory.mktemp("kernels")
    spec = {"argv": [sys.executable, "-c", "import sys; sys.exit(3)", "{connection_file}"],
            "display_name": "Dies at once", "language": "python"}  # fmt: skip
    write(base / "kernels/dying/kernel.json", json.dumps(spec))
    return base


def test_E50_E51_unknown_and_dying_kernels(tmp_path: Path, kernels: Path):
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    write(repo / "reports/ok.md", md("title: Fine"))
    for name, kernel in (("rlang", "ir"), ("dies", "dying")):
        path = write_notebook(repo / f"reports/{name}.ipynb", [("code", "x = 1")])
        nb = json.loads(path.read_text())
        nb["metadata"]["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "x"}
        path.write_text(json.dumps(nb))
    env = {**os.environ, "JUPYTER_PATH": str(kernels)}
    proc = subprocess.run(
        [*KNOWREPO, "build", str(repo)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    kernel = "its kernel 'ir' (from the notebook's kernelspec)"
    assert_one_line_for(proc.stderr, "reports/rlang.ipynb", kernel, "is not installed")
    assert not list((repo / "runs").glob("rlang/*/*"))  # no kernel started for it
    run = next((repo / "runs/dies/default").iterdir())
    assert not (run / "notebook.ipynb").exists()  # E51: it failed before writing one
    page = (repo / "_site/dies/index.html").read_text()
    assert "ended before it wrote a notebook" in page and "Executed notebook" not in page
    for mode in ("never", "auto"):  # later builds never crash on it
        again = subprocess.run([*KNOWREPO, "build", str(repo), "--execute", mode, "--force"], env=env,
                               capture_output=True, text=True, timeout=300)  # fmt: skip
        assert "Traceback" not in again.stderr and (repo / "_site/ok/index.html").is_file()


def _param_notebook(repo: Path) -> Path:
    return write_notebook(
        repo / "reports/p.ipynb",
        [
            ("code", 'token = "default-token"\nmonth: str = "2026-10"\ncount = 1', ["parameters"]),
            (
                "code",
                "print('month', month, count)\nif len(token) == 18: raise ValueError(f'bad token {token}')",
            ),
        ],
        front="title: Params\nprivate_params: [token]",
    )


def test_E52_E53_corrupt_run_records_are_one_line(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    write(repo / "reports/ok.md", md("title: Fine"))
    _param_notebook(repo)
    run_knowrepo("run", "p", cwd=repo)
    run = next((repo / "runs/p/default").iterdir())
    record = run / "run.json"
    good = record.read_text()
    record.write_text(good[:40])
    proc = run_knowrepo("build", str(repo), check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert_one_line_for(proc.stderr, str(record), "invalid run record (not JSON)")
    assert (repo / "_site/ok/index.html").is_file()
    record.write_text(good.replace(run.name, "20200101T000000.000Z-000000"))
    proc = run_knowrepo("build", str(repo), check=False)
    assert_one_line_for(proc.stderr, str(record), "is not its folder's name")
    listing = run_knowrepo("runs", cwd=repo, check=False)
    assert listing.returncode == 1 and "Traceback" not in listing.stderr and str(record) in listing.stderr


def test_E56_E57_E58_E59_parameter_values(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    _param_notebook(repo)
    proc = run_knowrepo("run", "p", "-p", "month=2026-13-01", "--json", cwd=repo)  # E56: stays text
    assert json.loads(proc.stdout)[0]["params"]["month"] == "2026-13-01"
    proc = run_knowrepo("run", "p", "-p", "count=2026-13-01", cwd=repo, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "parameter 'count' must be int, not '2026-13-01'" in proc.stderr
    bad = write(tmp_path / "values.yaml", "month: 2026-02-30\ncount: [1, {2: x}]\n")
    proc = run_knowrepo("run", "p", "--params-file", str(bad), cwd=repo, check=False)  # E57
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert_one_line_for(proc.stderr, str(bad), "has the key 2, which is not text")
    proc = run_knowrepo("run", "p", "-p", "token=explode-now-please", cwd=repo, check=False)  # E58
    assert proc.returncode == 1
    assert "explode-now-please" not in proc.stderr
    for path in (repo / "runs").rglob("*"):
        if path.is_file():
            assert b"explode-now-please" not in path.read_bytes(), path
    run_knowrepo("build", str(repo), check=False)
    for path in (repo / "_site").resolve().rglob("*"):
        if path.is_file():
            assert b"explode-now-please" not in path.read_bytes(), path


def test_E59_a_private_value_of_the_wrong_type_is_not_echoed(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    path = write_notebook(
        repo / "reports/q.ipynb",
        [("code", "pin = 1234", ["parameters"]), ("code", "print(pin)")],
        front="private_params: [pin]",
    )
    assert path.exists()
    proc = run_knowrepo("run", "q", "-p", "pin=hunter2-secret", cwd=repo, check=False)
    assert proc.returncode == 1
    assert "parameter 'pin' must be int (the value is private: not shown)" in proc.stderr
    assert "hunter2-secret" not in proc.stderr


# ---- the PDF engine reads only the site's own files ---------------------------------------------


def test_E67_the_pdf_embeds_no_local_file_and_fetches_no_url(tmp_path: Path):
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(base64.b64decode(TINY_PNG))

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = write(tmp_path / "secret.txt", OUTSIDE_SECRET)
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "[site]\nsanitize = false\n")  # the fetcher itself is under test
    url = f"http://127.0.0.1:{server.server_address[1]}/tracker.png"
    links = f'<a rel="attachment" href="file://{secret}">x</a> <img src="{url}"> <img src="file://{secret}">'
    write(repo / "reports/r.md", md("title: Fetches", links + "\n"))
    try:
        run_knowrepo("build", str(repo), "--pdf", "--execute", "never")
        pdf = (repo / "_site/r/r.pdf").read_bytes()
        assert OUTSIDE_SECRET.encode() not in pdf and b"/EmbeddedFile" not in pdf
        assert hits == []
        out = tmp_path / "r.pdf"
        run_knowrepo("pdf", "r", "-o", str(out), cwd=repo)
        assert OUTSIDE_SECRET.encode() not in out.read_bytes() and hits == []
    finally:
        server.shutdown()


# ---- what crosses a process boundary ------------------------------------------------------------


def test_E71_errors_survive_a_process_boundary():
    from knowrepo.errors import KnowrepoError

    error = KnowrepoError("reports/x.md", "line one\nline two")
    again = pickle.loads(pickle.dumps(error))
    assert (again.path, again.message, str(again)) == ("reports/x.md", "line one line two", str(error))


def test_every_catalogue_row_has_a_test():
    rows = re.findall(r"^\| (E\d{2,3}) \|", (PROJECT / "docs/errors.md").read_text(), re.M)
    assert len(rows) >= 40 and len(rows) == len(set(rows))
    tests = "".join(p.read_text() for p in (PROJECT / "tests").rglob("test_*.py"))
    missing = [row for row in rows if not re.search(rf"(?<![A-Za-z0-9]){row}(?![0-9])", tests)]
    assert missing == []


def test_E79_E80_E82_E84_no_script_through_math_copied_files_or_text_edits(hostile):
    """Found by a red-team pass: TeX \\text{} with markup, a .html or .js "image", a <style>
    whose end a heading edit made, and math placeholders inside attributes."""
    repo, proc = hostile
    page = (repo / "_site/tex-script/index.html").read_text()
    body = BeautifulSoup(page, "html.parser").select_one(".report-body")
    assert not body.select("script, iframe") and body.select("math")
    assert not [t for t in body.find_all(True) for a in t.attrs if a.lower().startswith("on")]
    assert body.select_one("#pwn") is None or not body.select_one("#pwn").get("onerror")
    for link in body.select("a"):
        assert "<" not in link.get("title", "") and "math" not in "".join(link.attrs)
    assert "image 'page.html' is not an image file (.html); not published" in proc.stderr
    assert "image 'gadget.js' is not an image file (.js); not published" in proc.stderr
    assert not [p for p in (repo / "_site/assets/img").iterdir() if p.suffix in (".html", ".js")]
    assert "rendering failed" not in proc.stderr


def test_E81_output_metadata_cannot_add_markup(hostile):
    repo, _proc = hostile
    body = BeautifulSoup((repo / "_site/meta-inject/index.html").read_text(), "html.parser").select_one(
        ".report-body"
    )
    assert not body.select("script") and body.select_one("#fromlatex") is None
    image = body.select_one("img")
    assert image["height"] == "2" and "width" not in image.attrs or image["width"].isdigit()


def test_E83_svg_files_keep_only_svg(hostile):
    repo, _proc = hostile
    page = (repo / "_site/svg-namespace/index.html").read_text()
    name = re.search(r"assets/img/([0-9a-f]{20}\.svg)", page).group(1)
    svg = (repo / "_site/assets/img" / name).read_text()
    assert "frame" not in svg and "refresh" not in svg and "evil.example" not in svg and "<rect" in svg


def test_E85_a_nul_in_an_image_path_is_a_warning(hostile):
    repo, proc = hostile
    assert "reports/nul-image.md: image '%00.png' is not a valid path; not published" in proc.stderr
    assert "and prose." in (repo / "_site/nul-image/index.html").read_text()


def test_E90_a_reports_folder_that_leads_elsewhere_publishes_nothing(tmp_path: Path):
    outside = write(tmp_path / "elsewhere/secret.md", md("title: Secret", OUTSIDE_SECRET))
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    (repo / "reports").symlink_to(outside.parent, target_is_directory=True)
    proc = run_knowrepo("build", str(repo), check=False)
    assert proc.returncode == 1
    assert_one_line_for(proc.stderr, "reports", "leads outside the repository", "nothing in it is published")
    for path in (repo / "_site").resolve().rglob("*"):
        assert not path.is_file() or OUTSIDE_SECRET.encode() not in path.read_bytes()


def test_E91_a_run_folder_that_leads_elsewhere_is_refused(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    _param_notebook(repo)
    run_knowrepo("run", "p", cwd=repo)
    run = next((repo / "runs/p/default").iterdir())
    moved = tmp_path / "elsewhere-run"
    run.rename(moved)
    notebook = moved / "notebook.ipynb"
    notebook.write_text(notebook.read_text().replace("month", OUTSIDE_SECRET, 1))
    run.symlink_to(moved, target_is_directory=True)
    proc = run_knowrepo("build", str(repo), check=False)
    assert proc.returncode == 1
    assert_one_line_for(proc.stderr, str(run), "is a symlink: the folders in runs/ must be real folders")
    for path in (repo / "_site").resolve().rglob("*"):
        assert not path.is_file() or OUTSIDE_SECRET.encode() not in path.read_bytes()


def test_E92_private_values_in_every_form_and_never_in_a_key(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", "")
    write_notebook(
        repo / "reports/leak.ipynb",
        [
            ("code", 'token = "x"\ncreds = {}', ["parameters"]),
            ("code", "import json, html, urllib.parse\n"
                     "print(repr(token), json.dumps(token), html.escape(token))\n"
                     "print(urllib.parse.quote(token), {token: 1}, creds)"),
        ],
        front="private_params: [token, creds]",
    )  # fmt: skip
    secret = "Pässw\\ord&<1>"
    run_knowrepo(
        "run", "leak", "-p", f"token={secret}", "-p", "creds={user: bob, password: hunter2222}", cwd=repo
    )
    run_knowrepo("build", str(repo))
    forms = [secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], "hunter2222", "P%C3%A4ssw%5Cord%26%3C1%3E",
             "Pässw\\ord&amp;&lt;1&gt;"]  # fmt: skip
    for folder in (repo / "runs", (repo / "_site").resolve(), repo / ".knowrepo"):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes().decode(errors="replace")
                assert not [f for f in forms if f in data], path
    first = json.loads(next((repo / "runs/leak/default").glob("*/run.json")).read_text())
    run_knowrepo("run", "leak", "-p", "token=another-secret-value", "-p", "creds={}", cwd=repo)
    records = [json.loads(p.read_text()) for p in (repo / "runs/leak/default").glob("*/run.json")]
    assert len(records) == 1 and records[0]["cache_key"] == first["cache_key"]  # the key knows no secret


def test_E93_a_dangling_symlink_as_output_is_refused(small: Path, tmp_path: Path):
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "a-mount-to-come" / "site")
    proc = run_knowrepo("build", str(small), "-o", str(link), check=False)
    assert proc.returncode == 1 and "a symlink knowrepo did not make" in proc.stderr
    assert os.readlink(link) == str(tmp_path / "a-mount-to-come" / "site")


def test_E94_an_email_subject_formats_only_parameters(tmp_path: Path):
    from knowrepo.exports.email import _subject

    assert _subject("Revenue {month} {month.__class__} {month[x]}", "T", "", {"month": "2026-11"}, "") == (
        "Revenue 2026-11 {month.__class__} {month[x]}"
    )
