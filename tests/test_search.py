"""Search in a real browser: Pagefind's index of the built example site, driven through the
search page in Debian's chromium, served under /kr/ on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import copy_example, run_knowrepo, serving


def results(page) -> list[str]:
    """The result titles, once the results answer the search now in the URL."""
    page.wait_for_function("document.getElementById('search-results').dataset.for === location.search")
    return page.locator(".result-title a").all_inner_texts()


def search(page, base: str, query: str) -> list[str]:
    page.goto(base + "search/")
    page.fill("#search-query", query)
    page.wait_for_function("q => new URLSearchParams(location.search).get('q') === q", arg=query)
    return results(page)


def test_finds_prose_and_table_text(page, site_server: str):
    assert "Customer churn by signup cohort" in search(page, site_server, "retention")
    found = search(page, site_server, "Conversion")  # a table cell in the metric definitions
    assert "Metric definitions" in found


def test_results_show_excerpt_date_and_a_small_thumbnail(page, site_server: str, example_site: Path):
    search(page, site_server, "cohort")
    first = page.locator(".result").first
    assert first.locator("mark").count() >= 1  # highlighted excerpt
    assert first.locator(".result-meta").inner_text()
    # A notebook is dated by the run its page shows (issue 27), as its card is.
    hit = page.locator(".result", has_text="Customer churn by signup cohort").locator(".result-date")
    card = BeautifulSoup((example_site / "index.html").read_text(), "html.parser").select_one(
        'article.card:has(a[href$="product/churn-analysis/"]) .card-meta'
    )
    assert hit.inner_text().startswith("Run ") and hit.inner_text() in card.get_text(" ", strip=True)
    src = first.locator(".result-thumb").get_attribute("src")
    assert src.startswith("/kr/assets/img/thumb-") and src.endswith(".webp")
    assert (example_site / src.removeprefix("/kr/")).stat().st_size <= 20_000


def test_code_only_words_are_not_found(page, site_server: str):
    assert search(page, site_server, "spines") == []  # ax.spines: only in code cells


def test_filters_narrow_and_live_in_the_url(page, site_server: str):
    page.goto(site_server + "search/?q=revenue&tag=finance")
    found = results(page)
    assert found and all(title.startswith(("Monthly revenue", "Metric definitions")) for title in found)
    assert page.locator("select[name=tag]").input_value() == "finance"
    page.select_option("select[name=tag]", "")
    page.wait_for_function("!new URLSearchParams(location.search).has('tag')")
    wider = results(page)
    assert len(wider) > len(found)
    page.select_option("select[name=type]", "markdown")
    page.wait_for_function("new URLSearchParams(location.search).get('type') === 'markdown'")
    assert set(results(page)) <= {"Metric definitions", "Q3 analytics planning notes"}


def test_filter_options_count_reports_not_their_variant_pages(page, site_server: str):
    page.goto(site_server + "search/?tag=sales")
    assert results(page) == ["Monthly revenue by region"]  # one report, three variant pages
    options = page.locator("select[name=tag] option").all_inner_texts()
    assert "sales (1)" in options and "finance (2)" in options, options
    assert page.locator("select[name=tag]").input_value() == "sales"
    assert page.locator("#search-status").inner_text().startswith("1 report")


def test_variants_are_indexed_but_old_runs_and_listings_are_not(page, site_server: str):
    found = search(page, site_server, "regional leads")
    revenue = [title for title in found if title.startswith("Monthly revenue")]
    assert revenue == ["Monthly revenue by region"]  # the variants are one hit, no run pages
    hit = page.locator(".result", has_text="Monthly revenue by region")
    links = hit.locator(".result-variants a")
    assert sorted(links.all_inner_texts()) == ["apac", "eu", "us"]
    assert all("/v/" in href or href.endswith("monthly-revenue/") for href in
               (links.nth(i).get_attribute("href") for i in range(links.count())))  # fmt: skip
    assert not [t for t in found if "history" in t.lower()]


def test_excerpts_show_math_as_its_tex_source(page, site_server: str, example_site: Path):
    body = (example_site / "product/churn-analysis/index.html").read_text()
    assert "<math " in body and "data-pagefind-ignore" in body.split("<math ", 1)[1].split(">", 1)[0]
    search(page, site_server, "logistic")
    excerpts = " ".join(page.locator(".result-excerpt").all_inner_texts())
    assert "β0+β1" not in excerpts.replace(" ", "")


def test_slash_focuses_the_search_box_everywhere(page, site_server: str):
    page.goto(site_server + "product/churn-analysis/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"
    page.keyboard.type("warehouse")
    page.keyboard.press("Enter")
    page.wait_for_url("**/kr/search/?q=warehouse")
    assert "Warehouse dispatch delays" in results(page)


@pytest.fixture()
def served_copy(tmp_path: Path, example_repo: Path):
    repo = copy_example(tmp_path / "repo", runs_from=example_repo)
    run_knowrepo("build", str(repo))
    with serving(repo / "_site") as url:
        yield repo, url


def test_a_deleted_report_disappears_and_an_edit_is_found(page, served_copy):
    repo, base = served_copy
    assert "Warehouse dispatch delays" in search(page, base, "dispatch")
    (repo / "reports/ops/warehouse-delays.ipynb").unlink()
    guide = repo / "reports/guides/metric-definitions.md"
    guide.write_text(guide.read_text() + "\nThe zeppelin metric is new.\n")
    run_knowrepo("build", str(repo))
    assert "Warehouse dispatch delays" not in search(page, base, "dispatch")
    assert search(page, base, "zeppelin") == ["Metric definitions"]


@pytest.fixture(scope="module")
def parted_site(tmp_path_factory, example_repo: Path):
    """The example with its index cut into parts of two pages (as 10k reports are cut in two)."""
    repo = copy_example(tmp_path_factory.mktemp("parted") / "repo", runs_from=example_repo)
    config = (repo / "knowrepo.toml").read_text().replace("enabled = true", "enabled = false")
    (repo / "knowrepo.toml").write_text(config.replace("[site]\n", "[site]\nsearch_part_size = 2\n"))
    run_knowrepo("build", str(repo))
    with serving(repo / "_site") as url:
        yield repo, url


def test_an_index_in_parts_answers_as_one_index(page, site_server: str, parted_site):
    repo, parted = parted_site
    parts = json.loads((repo / "_site/pagefind/parts.json").read_text())["parts"]
    assert len(parts) >= 3 and parts[0] == ""
    for name in parts:
        assert (repo / "_site/pagefind" / name / "pagefind-entry.json").is_file()

    def dates() -> list[str]:  # (shown as the site's pages write them: Run 14 Sep 2026 · ...)
        import datetime as dt
        import re

        shown = [
            re.search(r"\d{1,2} \w{3} \d{4}", text) for text in page.locator(".result-date").all_inner_texts()
        ]
        return [dt.datetime.strptime(date.group(), "%d %b %Y").date().isoformat() for date in shown if date]

    for query in ("revenue", "the"):
        assert sorted(search(page, parted, query)) == sorted(search(page, site_server, query))
    # Newest first across parts: the same order as one index gives, and really by date.
    page.goto(site_server + "search/?q=the&sort=date")
    one_titles, one_dates = sorted(results(page)), dates()
    page.goto(parted + "search/?q=the&sort=date")
    assert (sorted(results(page)), dates()) == (one_titles, one_dates)  # ties may swap places
    # (the example's notebooks are dated by their runs, all made today: 3 dates in all)
    assert one_dates == sorted(one_dates, reverse=True) and len(set(one_dates)) >= 3
    # The same filter options (the build's: reports counted).
    options = "select[name=tag] option"
    assert page.locator(options).all_inner_texts() == _options(page.context.browser, site_server)


def _options(browser, base: str) -> list[str]:
    other = browser.new_page(bypass_csp=True)
    try:
        other.goto(base + "search/?q=the")
        results(other)
        return other.locator("select[name=tag] option").all_inner_texts()
    finally:
        other.close()
