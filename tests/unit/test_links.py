"""pipeline/assemble/links.py: site paths and relative links between pages (E38, E69 of
docs/errors.md)."""

from __future__ import annotations

import pytest

from knowrepo.model import Meta, Report
from knowrepo.pipeline.assemble.links import (
    check_slug,
    page_path,
    rel,
    relative_root,
    rewrite_report_links,
    slug_text,
)
from unit.helpers import error_line

SLUGS = {"reports/churn.ipynb": "churn", "reports/sales/q3 review.md": "sales/q3-review"}


def report(slug: str) -> Report:
    return Report(
        slug=slug, source=f"reports/{slug}.md", kind="markdown", meta=Meta(), source_hash="h", date=""
    )


def test_links_are_relative_to_the_page():
    assert rel("sales/q3/index.html", "tags/churn/") == "../../tags/churn/"
    assert rel("index.html", "assets/site.css") == "assets/site.css"
    assert rel("a/index.html", "") == ".."
    assert relative_root("sales/q3/index.html") == "../../" and relative_root("index.html") == ""
    assert page_path("sales/q3") == "sales/q3/index.html"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("José García", "jose-garcia"),
        ("machine_learning", "machine-learning"),
        ("数据", "数据"),
        ("--x--", "x"),
    ],
)
def test_E69_tag_and_author_names_as_url_segments(name: str, slug: str):
    assert slug_text(name) == slug


def test_E69_a_name_with_no_letter_gets_an_opaque_slug_of_its_own():
    assert slug_text("😀").startswith("_") and slug_text("😀") != slug_text("🚀")


def test_E38_a_slug_that_is_a_site_folder_is_refused():
    assert error_line(check_slug, report("pagefind")) == (
        "reports/pagefind.md: slug 'pagefind' would overwrite the site's own 'pagefind' pages; rename the"
        " file"
    )
    assert "'tags' pages" in error_line(check_slug, report("tags/x"))
    check_slug(report("tagged"))  # only whole folder names


def test_links_to_report_sources_become_links_to_their_pages():
    body = (
        "<a href=\"churn.ipynb#drivers\">c</a> <a href='sales/q3%20review.md'>q</a>"
        ' <a href="data.csv">d</a> <a href="missing.md">m</a>'
    )
    assert rewrite_report_links(body, "reports/index.md", "index/index.html", SLUGS) == (
        "<a href=\"../churn/#drivers\">c</a> <a href='../sales/q3-review/'>q</a>"
        ' <a href="data.csv">d</a> <a href="missing.md">m</a>'
    )
    link = rewrite_report_links(
        '<a href="../churn.ipynb">c</a>', "reports/sales/q3 review.md", "sales/q3-review/index.html", SLUGS
    )
    assert link == '<a href="../../churn/">c</a>'
