"""The built example site, judged by parsing its HTML, feed and sitemap, and crawling it."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

from bs4 import BeautifulSoup

from conftest import PROJECT, run_knowrepo


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_listing_shows_cards_newest_first(example_site: Path):
    page = soup(example_site / "index.html")
    cards = page.select("article.card")
    assert len(cards) == 6
    dates = [card.select_one("time")["datetime"] for card in cards]
    assert dates == sorted(dates, reverse=True)
    churn = next(c for c in cards if "Customer churn" in c.get_text())
    assert churn.select_one(".card-title a")["href"] == "product/churn-analysis/"
    assert [a.get_text() for a in churn.select(".card-meta a")] == ["Ken Okafor", "Maria Lopez"]
    assert "retention curves" in churn.select_one(".card-summary").get_text().lower()
    assert [a.get_text() for a in churn.select(".tag")] == ["churn", "product", "retention"]
    thumb = churn.select_one(".card-thumb img")["src"]
    assert re.fullmatch(r"assets/img/thumb-[0-9a-f]{20}\.webp", thumb)
    assert (example_site / thumb).stat().st_size < 20_000


def test_report_page_has_title_block_toc_body_and_download(example_site: Path):
    page = soup(example_site / "product/churn-analysis/index.html")
    assert page.select_one("h1#report-title").get_text() == "Customer churn by signup cohort"
    assert page.select("h1") == [page.select_one("h1#report-title")]  # first heading not repeated
    byline = page.select_one(".byline").get_text(" ", strip=True)
    assert "Ken Okafor" in byline and "14 Sep 2026" in byline
    toc = [a.get_text() for a in page.select(".toc a")]
    assert toc == ["Retention curves", "Churn by plan"]
    assert page.select_one("#retention-curves") is not None
    body = page.select_one(".report-body")
    assert body.select_one("math") is not None  # the model formula, as MathML
    assert body.select("table.dataframe")  # pandas tables
    images = body.select("img")
    assert images and all(img["src"].startswith("../../assets/img/") and img.get("alt") for img in images)
    assert all((example_site / "product/churn-analysis" / img["src"]).resolve().is_file() for img in images)
    assert "data:image" not in str(page)
    assert "import numpy as np" not in body.get_text()  # that cell is tagged remove-cell
    downloads = {a.get_text(): a["href"] for a in page.select(".downloads a")}
    assert downloads["PDF"] == "product-churn-analysis.pdf"
    assert downloads["Source notebook"] == "churn-analysis.ipynb"
    assert downloads["Executed notebook"].startswith("runs/")
    for href in downloads.values():
        assert (example_site / "product/churn-analysis" / href).is_file()


def test_no_cdn_and_only_our_own_scripts(example_site: Path):
    ours = {p.name for p in (PROJECT / "themes/default/static").glob("*.js")}
    for path in example_site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "cdn" not in text.lower() and "mathjax" not in text.lower(), path
        for script in BeautifulSoup(text, "html.parser").select("script"):
            if script.get("type") == "application/json":  # data, never run
                continue
            src = script.get("src", "")
            assert "://" not in src and src.rsplit("/", 1)[-1] in ours, (path, src)
            target = example_site / src.removeprefix("/kr/") if src.startswith("/") else path.parent / src
            assert target.resolve().is_file(), (path, src)


def test_folded_code_and_links_between_reports(example_site: Path):
    delays = soup(example_site / "ops/warehouse-delays/index.html")  # code: fold
    folds = delays.select("details.code-fold")
    assert folds and all(f.select_one("summary").get_text() == "Show code" for f in folds)
    notes = soup(example_site / "notes/q3-planning-notes/index.html")
    hrefs = [a["href"] for a in notes.select(".report-body a")]
    assert "../../ops/warehouse-delays/" in hrefs
    image = notes.select_one(".report-body img")
    assert image["alt"] == "Planned effort by workstream"
    assert (example_site / "notes/q3-planning-notes" / image["src"]).resolve().is_file()
    guide = soup(example_site / "guides/metric-definitions/index.html")
    assert "../../product/churn-analysis/" in [a["href"] for a in guide.select(".report-body a")]
    assert "an AOV of $85 in one month and $90" in guide.get_text()
    assert guide.select_one(".report-body table th").get_text() == "Metric"
    assert guide.select("section.footnotes li.footnote-item")


def test_tag_and_author_pages(example_site: Path):
    finance = soup(example_site / "tags/finance/index.html")
    titles = {a.get_text() for a in finance.select(".card-title a")}
    assert titles == {"Metric definitions", "Monthly revenue by region"}
    assert finance.select_one(".card-title a")["href"].startswith("../../")
    ken = soup(example_site / "authors/ken-okafor/index.html")
    assert len(ken.select("article.card")) == 3
    tags = soup(example_site / "tags/index.html")
    assert len(tags.select(".index-list li")) == 10


def test_feed_and_sitemap_are_valid_xml(example_site: Path):
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.parse(example_site / "feed.xml").getroot()
    entries = feed.findall(f"{atom}entry")
    assert len(entries) == 6
    # Newest first: the notebooks by the runs their pages show (made today), then the notes
    # (metric definitions: updated 2026-11-12).
    updated = [e.find(f"{atom}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)
    hrefs = [e.find(f"{atom}link").get("href") for e in entries]
    assert hrefs[4:] == ["/kr/guides/metric-definitions/", "/kr/notes/q3-planning-notes/"]
    assert updated[4] == "2026-11-12T00:00:00Z" and updated[0] > updated[4]
    sitemap = ET.parse(example_site / "sitemap.xml").getroot()
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "/kr/product/churn-analysis/" in locs


def test_every_local_link_works_under_the_sub_path(site_server: str):
    """Crawl every page reachable from /kr/ and fetch every local href and src."""
    seen: set[str] = set()
    queue = [site_server]
    broken: list[str] = []
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url) as response:
                body = response.read()
                kind = response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            broken.append(f"{url} ({exc.code})")
            continue
        if kind != "text/html":
            continue
        page = BeautifulSoup(body, "html.parser")
        for tag in page.select("[href], [src]"):
            ref = tag.get("href") or tag.get("src")
            target = urllib.parse.urldefrag(urllib.parse.urljoin(url, ref))[0]
            if target.startswith(site_server) and target not in seen:
                queue.append(target)
    assert not broken, broken
    assert len(seen) > 40


def test_404_page_links_absolutely(example_site: Path):
    page = soup(example_site / "404.html")
    assert page.select_one('link[rel="stylesheet"]')["href"] == "/kr/assets/style.css"


def test_init_creates_a_repository_that_builds(tmp_path: Path):
    target = tmp_path / "kb"
    run_knowrepo("init", str(target))
    assert (target / "knowrepo.toml").is_file()
    assert (target / "reports/welcome.md").is_file()
    assert (target / "reports/first-analysis.ipynb").is_file()
    run_knowrepo("build", str(target))
    index = soup(target / "_site/index.html")
    assert {a.get_text() for a in index.select(".card-title a")} == {
        "Welcome to your knowledge repository",
        "My first analysis",
    }


def test_two_reports_sharing_an_image_publish_it_once(tmp_path: Path):
    repo = tmp_path / "kb"
    (repo / "reports/img").mkdir(parents=True)
    (repo / "knowrepo.toml").write_text("")
    (repo / "reports/img/plot.png").write_bytes((PROJECT / "reports/notes/img/effort.png").read_bytes())
    for name in ("a", "b"):
        (repo / f"reports/{name}.md").write_text(f"# {name}\n\n![Effort](img/plot.png)\n")
    run_knowrepo("build", str(repo))
    sources = {soup(repo / f"_site/{n}/index.html").select_one(".report-body img")["src"] for n in "ab"}
    assert len(sources) == 1
    assert (repo / "_site/a" / sources.pop()).resolve().is_file()


def test_E100_a_published_site_emptied_or_pruned_by_hand_is_built_whole_again(tmp_path: Path):
    import shutil

    repo = tmp_path / "kb"
    (repo / "reports/img").mkdir(parents=True)
    (repo / "knowrepo.toml").write_text("")
    (repo / "reports/img/plot.png").write_bytes((PROJECT / "reports/notes/img/effort.png").read_bytes())
    (repo / "reports/a.md").write_text("# A\n\n![Effort](img/plot.png)\n")
    site = repo / "_site"

    def image() -> Path:
        return (site / "a" / soup(site / "a/index.html").select_one(".report-body img")["src"]).resolve()

    run_knowrepo("build", str(repo))
    published = image().relative_to(site.resolve()).as_posix()
    for entry in list(site.iterdir()):  # rm -rf _site/*
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    again = run_knowrepo("build", str(repo))  # not "nothing changed", nor a failure every time
    assert "is gone from the published site; building it whole" in again.stderr
    assert (site / "index.html").is_file()
    assert image().read_bytes() == (repo / "reports/img/plot.png").read_bytes()
    image().unlink()  # one file gone: --force makes it whole (it reuses nothing published: E156)
    run_knowrepo("build", "--force", str(repo))
    assert image().relative_to(site.resolve()).as_posix() == published
    assert image().read_bytes() == (repo / "reports/img/plot.png").read_bytes()
