"""What a person sees: the example site in Debian's chromium, checked with axe-core."""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
import pytest

AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"  # axe-core, as shipped on PyPI


def serious_violations(page) -> list[str]:
    # Evaluated, not added as a <script>: the pages' Content-Security-Policy allows no inline
    # script, and a DevTools evaluation is not subject to it.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(
    "path", ["", "product/churn-analysis/", "guides/metric-definitions/", "tags/finance/"]
)
def test_pages_have_no_serious_accessibility_violations(page, site_server: str, path: str):
    page.goto(site_server + path)
    assert serious_violations(page) == []


def test_report_page_renders_plots_math_and_toc(page, site_server: str):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site_server + "product/churn-analysis/")
    images = page.locator(".report-body img")
    assert images.count() >= 1
    assert all(images.nth(i).evaluate("img => img.naturalWidth > 0") for i in range(images.count()))
    formula = page.locator(".report-body math").first
    box = formula.bounding_box()
    assert box and box["height"] > 20  # laid out as a real fraction, not a line of source text
    assert page.locator(".toc").is_visible()
    page.locator(".toc a", has_text="Churn by plan").click()
    page.wait_for_function("location.hash === '#churn-by-plan'")


def test_listing_fits_a_phone_screen(page, site_server: str):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(site_server)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    first_card = page.locator("article.card").first.bounding_box()
    assert first_card["width"] > 300  # one card per row, full width
