"""Themes extend the default one: templates that `{% extends "default/..." %}` and call
super(), [theme] extra_css / extra_js beside the default stylesheets and scripts, and the
default theme's scripts never silently dropped (E170, E171 of docs/errors.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import PROJECT, run_knowrepo, serving, write_notebook

BANNER_RED = "rgb(200, 16, 46)"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def site_bytes(repo: Path) -> dict[str, bytes]:
    site = (repo / "_site").resolve()
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def errors(stderr: str) -> list[str]:
    assert "Traceback" not in stderr and "unexpectedly" not in stderr, stderr[-3000:]
    return [line for line in stderr.splitlines() if line.startswith("error:")]


README_FILE = re.compile(r"```(?:toml|jinja|css|js)\n(?:#|\{#|/\*|//) ([\w./-]+)[^\n]*\n(.*?)```", re.S)


def readme_theme() -> dict[str, str]:
    """The example theme of the README's "Themes" section: each block, by the file its first
    line names (a comment), without that line."""
    text = (PROJECT / "README.md").read_text()
    section = text[text.index("## Themes\n") : text.index("\n## ", text.index("## Themes\n") + 1)]
    return {name: body for name, body in README_FILE.findall(section)}


def acme_theme(repo: Path) -> None:
    """The README's example theme, as written there: a banner above each report's header (with
    super()), a link in the footer, a line in every listing card, a stylesheet of the theme and
    a script of the repository. The test adds to the script: it says how many copy buttons
    site.js had made before it ran."""
    files = readme_theme()
    assert set(files) == {
        "knowrepo.toml",
        "themes/acme/templates/report.html",
        "themes/acme/templates/base.html",
        "themes/acme/templates/cards.html",
        "themes/acme/static/acme.css",
        "brand/acme.js",
    }
    config = repo / "knowrepo.toml"
    config.write_text(config.read_text() + "\n" + files.pop("knowrepo.toml"))
    for name, body in files.items():
        write(repo / name, body)
    with (repo / "brand/acme.js").open("a") as script:
        script.write(
            "document.documentElement.dataset.copyButtons = document.querySelectorAll('.copy-code').length;\n"
        )


@pytest.fixture(scope="module")
def themed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A notebook with code, a Plotly chart and sections, built with the acme theme."""
    repo = tmp_path_factory.mktemp("themed") / "repo"
    write(repo / "knowrepo.toml", '[site]\ntitle = "Themed"\n')
    write_notebook(
        repo / "reports/chart.ipynb",
        [
            ("markdown", "## Figures\n\nThe bars."),
            ("code", "total = sum([1, 2, 3])\nprint(total)"),
            ("markdown", "## The chart"),
            ("code", "import plotly.express as px\npx.bar(x=['a', 'b'], y=[3, 4], title='Acme chart')"),
        ],
        front="title: Chart report\nauthors: [Ada]",
    )
    acme_theme(repo)
    run_knowrepo("build", str(repo))
    return repo


def test_a_theme_extends_the_default_templates_with_super(themed: Path):
    site = themed / "_site"
    page = BeautifulSoup((site / "chart/index.html").read_text(), "html.parser")
    article = page.select_one("article.report")
    banner = article.select_one(".acme-banner")
    assert banner.get_text() == "Internal: Chart report"
    assert banner.find_next_sibling().name == "header"  # super(): the default header follows
    assert page.select_one("#report-title").get_text() == "Chart report"
    assert page.select_one(".topbar .brand") and page.select(".toc a")  # the rest is the default's
    footer = page.select_one(".sitefooter .container")
    assert "Published with knowrepo" in footer.get_text() and footer.select_one("a[href^='https://wiki']")
    index = BeautifulSoup((site / "index.html").read_text(), "html.parser")
    assert [p.get_text() for p in index.select("article.card .card-body .acme-card")] == ["Owner: Ada"]
    assert index.select_one("article.card .card-title a").get_text() == "Chart report"
    for path in ("index.html", "chart/index.html", "search/index.html", "tags/index.html", "404.html"):
        head = BeautifulSoup((site / path).read_text(), "html.parser").head
        links = [link["href"].rsplit("/assets/", 1)[-1] for link in head.select("link[rel=stylesheet]")]
        scripts = [script["src"].rsplit("/assets/", 1)[-1] for script in head.select("script[src]")]
        assert links[-1].endswith("acme.css") and links[0].endswith("style.css"), (path, links)
        assert scripts[-1].endswith("extra/brand/acme.js"), (path, scripts)  # after site.js (and search.js)
    assert (site / "assets/acme.css").is_file() and (site / "assets/extra/brand/acme.js").is_file()


def test_a_themed_page_in_a_browser_keeps_the_default_scripts(themed: Path, browser, tmp_path: Path):
    """Under the page's own Content-Security-Policy: the banner shows, styled by the extra
    stylesheet; the extra script runs (after site.js); copy buttons copy, the Plotly chart
    draws, the contents mark the section being read."""
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])  # the page's CSP applies
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    with serving(themed / "_site") as base:
        page.goto(base + "chart/")
        page.wait_for_selector(".kr-plotly.drawn .main-svg")
        banner = page.locator(".acme-banner")
        assert banner.is_visible() and banner.inner_text() == "Internal: Chart report"
        assert banner.evaluate("el => getComputedStyle(el).backgroundColor") == BANNER_RED
        root = page.locator("html")
        assert root.get_attribute("data-acme") == "ran"
        assert int(root.get_attribute("data-copy-buttons")) >= 1  # site.js ran first
        block = page.locator(".report-body .input_area .highlight", has_text="total").first
        block.hover()
        block.locator(".copy-code").click()
        page.wait_for_selector(".copy-code.copied")
        assert page.evaluate("navigator.clipboard.readText()") == "total = sum([1, 2, 3])\nprint(total)"
        assert page.locator(".toc a[aria-current=location]").count() == 1
        page.screenshot(path=str(tmp_path / "themed.png"), full_page=True)
        page.goto(base)  # a listing: the card line and the same extras
        assert page.locator(".acme-card").inner_text() == "Owner: Ada"
        assert page.locator("html").get_attribute("data-acme") == "ran"
    context.close()
    assert problems == []


def test_a_repository_extra_file_edited_is_copied_again(themed: Path):
    script = themed / "brand/acme.js"
    before = script.read_text()
    try:
        script.write_text(before + "// edited\n")
        proc = run_knowrepo("build", str(themed))
        assert "Nothing changed" not in proc.stderr
        assert (themed / "_site/assets/extra/brand/acme.js").read_text().endswith("// edited\n")
    finally:
        script.write_text(before)


def test_the_old_site_theme_key_still_names_the_theme(tmp_path: Path):
    repo = tmp_path / "repo"
    write(repo / "knowrepo.toml", '[site]\ntitle = "Old"\ntheme = "plain"\n')
    write(repo / "reports/a.md", "---\ntitle: Alpha\n---\n\nText.\n")
    write(
        repo / "themes/plain/templates/report.html",
        '{% extends "default/report.html" %}{% block toc %}{% endblock %}',
    )
    write(
        repo / "themes/plain/templates/cards.html",
        '{% extends "default/cards.html" %}{% block card_thumb %}{% endblock %}',
    )
    run_knowrepo("build", str(repo))
    page = BeautifulSoup((repo / "_site/a/index.html").read_text(), "html.parser")
    assert page.select_one("#report-title").get_text() == "Alpha" and not page.select(".toc-box")
    index = BeautifulSoup((repo / "_site/index.html").read_text(), "html.parser")
    assert index.select_one("article.card .card-title") and not index.select(".card-thumb")


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    repo = tmp_path / "small"
    write(repo / "knowrepo.toml", '[site]\ntitle = "Small"\n')
    write(repo / "reports/a.md", "---\ntitle: Alpha\n---\n\nFirst.\n")
    run_knowrepo("build", str(repo))
    return repo


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("site.js", "would replace the default theme's site.js (its charts, copy buttons and contents)"),
        ("search.js", "list it in [theme] extra_js"),
        ("pygments.css", "knowrepo writes assets/pygments.css itself"),
        ("bokeh/bokeh.min.js", "knowrepo writes assets/bokeh/bokeh.min.js itself"),
    ],
)
def test_E170_a_theme_file_named_as_a_default_script_is_refused(small: Path, name: str, says: str):
    """E170: a theme's static/site.js replaced the default one, and the pages lost their chart
    drawers, copy buttons and contents without a word; a theme's pygments.css was overwritten."""
    before = site_bytes(small)
    write(small / "knowrepo.toml", '[site]\ntitle = "Small"\n[theme]\nname = "mine"\n')
    path = write(small / "themes/mine/static" / name, "/* mine */\n")
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1
    lines = errors(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ") and says in lines[0], proc.stderr
    assert site_bytes(small) == before


def test_E170_a_theme_may_replace_the_stylesheet(small: Path):
    write(small / "knowrepo.toml", '[site]\ntitle = "Small"\n[theme]\nname = "mine"\n')
    write(small / "themes/mine/static/style.css", "body { color: rgb(1, 2, 3); }\n")
    run_knowrepo("build", str(small))
    assert (small / "_site/assets/style.css").read_text() == "body { color: rgb(1, 2, 3); }\n"
    assert (small / "_site/assets/site.js").read_bytes() == (
        PROJECT / "themes/default/static/site.js"
    ).read_bytes()


@pytest.mark.parametrize(
    ("theme", "says"),
    [
        ('extra_css = ["brand.css"]', "[theme] extra_css 'brand.css': no such file in"),
        ('extra_js = ["js/missing.js"]', "[theme] extra_js 'js/missing.js': no such file in"),
        ('extra_js = ["https://cdn.example/x.js"]', "[theme] extra_js 'https://cdn.example/x.js' is a URL"),
        ('extra_js = ["style.css"]', "[theme] extra_js 'style.css' is not a .js file"),
        ('extra_css = ["../outside.css"]', "[theme] extra_css '../outside.css' must be a relative path"),
        ('extra_css = ["out.css"]', "[theme] extra_css 'out.css' leads outside the repository"),
        ('extra_css = "brand.css"', "[theme] extra_css must be a list of str, not str"),
        ('name = "other"', "[site] theme 'mine' and [theme] name 'other' disagree"),
    ],
)
def test_E171_a_theme_extra_that_cannot_be_linked_is_one_line(small: Path, theme: str, says: str):
    """E171: a [theme] extra file that is missing, a URL, of the wrong kind or outside the
    repository; [theme] name against the older [site] theme."""
    before = site_bytes(small)
    write(small / "knowrepo.toml", f'[site]\ntitle = "Small"\ntheme = "mine"\n[theme]\n{theme}\n')
    write(small / "themes/mine/templates/tag.html", '{% extends "default/tag.html" %}')
    write(small / "style.css", "body {}\n")
    (small / "out.css").symlink_to(write(small.parent / "elsewhere.css", "body {}\n"))
    proc = run_knowrepo("build", str(small), check=False)
    assert proc.returncode == 1
    lines = errors(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"error: {small / 'knowrepo.toml'}: "), proc.stderr
    assert says in lines[0], lines[0]
    assert site_bytes(small) == before


def test_E171_a_missing_extra_names_the_theme_folder_too(small: Path):
    write(small / "knowrepo.toml", '[site]\ntitle = "Small"\n[theme]\nname = "mine"\nextra_css = ["x.css"]\n')
    write(small / "themes/mine/static/y.css", "")
    proc = run_knowrepo("build", str(small), check=False)
    assert errors(proc.stderr) == [
        f"error: {small / 'knowrepo.toml'}: [theme] extra_css 'x.css': no such file in"
        f" {small / 'themes/mine/static'} or the repository ({small})"
    ]


def test_knowrepo_s_own_assets_are_the_names_a_theme_may_not_take(example_site: Path):
    """What a build writes under assets/ besides the default theme's files is what
    check_user_static refuses (so a new file knowrepo makes cannot be shadowed unawares)."""
    from knowrepo.pipeline.assemble.theme import MADE_ASSETS, MADE_FOLDERS

    ours = {p.name for p in (PROJECT / "themes/default/static").iterdir()}
    made = {p.relative_to(example_site / "assets").as_posix() for p in (example_site / "assets").rglob("*")}
    made = {rel for rel in made if (example_site / "assets" / rel).is_file() and rel not in ours}
    assert made and all(rel in MADE_ASSETS or rel.startswith(MADE_FOLDERS) for rel in made), made
