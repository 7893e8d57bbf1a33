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


def page_paths(repo: Path) -> list[str]:
    """One page of every kind: listing, report, Markdown report, variant, run, history,
    compare, search, tag, authors, 404."""
    site = repo / "_site"
    run = next(p.name for p in (site / "sales/monthly-revenue/runs").iterdir() if p.name[:1].isdigit())
    return [
        "", "product/churn-analysis/", "guides/metric-definitions/", "sales/monthly-revenue/v/us/",
        f"sales/monthly-revenue/runs/{run}/", "sales/monthly-revenue/runs/", "sales/monthly-revenue/compare/",
        "search/?q=revenue", "tags/finance/", "authors/", "404.html",
    ]  # fmt: skip


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1400, 390])
def test_every_kind_of_page_passes_axe_and_fits_the_screen(browser, site_server, example_repo, scheme, width):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, bypass_csp=True
    )
    page = context.new_page()
    found = []
    for path in page_paths(example_repo):
        page.goto(site_server + path)
        page.wait_for_load_state("load")
        found += [f"{path}: {v}" for v in serious_violations(page)]
        if (wide := page.evaluate("document.documentElement.scrollWidth")) > width:
            found.append(f"{path}: {wide} px wide on a {width} px screen")
    context.close()
    assert found == []


def test_report_page_renders_plots_math_and_toc(page, site_server: str):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site_server + "product/churn-analysis/")
    images = page.locator(".report-body img")
    assert images.count() >= 1
    assert all(images.nth(i).evaluate("img => img.naturalWidth > 0") for i in range(images.count()))
    formula = page.locator(".report-body math").first
    box = formula.bounding_box()
    assert box and box["height"] > 20  # laid out as a real fraction, not a line of source text
    # The site's own math font (none is installed here but DejaVu's): subscripts sit low and small
    page.evaluate("document.fonts.ready")
    fonts = page.evaluate(
        "[...document.fonts].filter(f => f.family.includes('knowrepo math')).map(f => f.status)"
    )
    assert fonts == ["loaded"]
    base, sub = (
        page.locator(".report-body msub").first.locator(":scope > *").nth(i).bounding_box() for i in (0, 1)
    )
    assert sub["y"] + sub["height"] > base["y"] + base["height"] and sub["height"] < base["height"]
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


def test_theme_toggle_follows_the_system_and_persists(browser, site_server):
    context = browser.new_context(color_scheme="dark", bypass_csp=True)
    page = context.new_page()
    page.goto(site_server)
    background = "getComputedStyle(document.body).backgroundColor"
    dark = page.evaluate(background)
    assert page.get_attribute(".theme-toggle", "aria-pressed") == "true"  # the system's choice
    page.click(".theme-toggle")
    light = page.evaluate(background)
    assert light != dark and page.get_attribute(".theme-toggle", "aria-pressed") == "false"
    page.goto(site_server + "product/churn-analysis/")  # another page: the choice is kept
    assert page.evaluate(background) == light
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    context.close()


def test_copy_button_copies_the_code(browser, site_server):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"], bypass_csp=True)
    page = context.new_page()
    page.goto(site_server + "product/churn-analysis/")
    block = page.locator(".report-body .input_area .highlight", has_text="rng.choice").first
    block.hover()
    block.locator(".copy-code").click()
    page.wait_for_selector(".copy-code.copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == block.locator("pre").inner_text().rstrip("\n") and "rng.choice" in copied
    context.close()


def test_phone_reaches_downloads_and_contents_and_wide_code_says_it_scrolls(browser, site_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    page.goto(site_server + "product/churn-analysis/")
    assert page.locator(".downloads a", has_text="PDF").is_visible()
    assert page.locator(".downloads a", has_text="PDF").bounding_box()["height"] >= 24  # (WCAG 2.5.8)
    assert not page.locator(".toc a").first.is_visible()  # collapsed before the report
    page.click(".toc-box summary")
    assert page.locator(".toc a").first.is_visible()
    brand = page.locator(".brand")
    assert brand.evaluate("el => el.scrollWidth <= el.clientWidth")  # the site name is never cut
    wide = page.locator(".input_area.scrolls").first
    assert wide.get_attribute("tabindex") == "0"
    for width in (360, 320):  # common Android widths: the page never scrolls sideways
        page.set_viewport_size({"width": width, "height": 740})
        assert page.evaluate("document.documentElement.scrollWidth") == width
        assert brand.evaluate("el => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight")
        assert page.get_by_role("link", name="Search").is_visible()  # (an icon, named for screen readers)
    context.close()


def _edge_shade(box) -> float:
    """How much the right edge of a box differs from its middle (medians of 4 px strips of its
    screenshot: text aside, what the background shows there)."""
    import io

    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(box.screenshot())).convert("L")
    width, height = image.size
    middle = ImageStat.Stat(image.crop((width // 2 - 2, 0, width // 2 + 2, height))).median[0]
    edge = ImageStat.Stat(image.crop((width - 5, 0, width - 1, height))).median[0]
    return abs(middle - edge)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_wide_code_and_tables_show_that_they_scroll(browser, site_server, scheme):
    phone = {"width": 390, "height": 844}
    context = browser.new_context(viewport=phone, color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    for path, selector in [
        ("product/churn-analysis/", ".input_area.scrolls"),  # code cells
        ("sales/monthly-revenue/runs/", ".table-scroll.scrolls"),  # the run history
        ("ops/warehouse-delays/", ".output_area.scrolls"),  # a DataFrame
    ]:
        page.goto(site_server + path)
        box = page.locator(selector).first
        box.scroll_into_view_if_needed()
        assert page.locator(f"{selector} .scrolls").count() == 0  # (only what scrolls is shaded)
        assert _edge_shade(box) >= 8, (path, selector)  # shaded where it has more
        box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
        assert _edge_shade(box) < 3, (path, selector)  # at the end: none
    context.close()


def test_sticky_contents_on_a_wide_screen(browser, site_server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(site_server + "product/churn-analysis/")
    current = ".toc a[aria-current=location]"
    assert page.locator(current).inner_text() == page.locator(".toc a").first.inner_text()
    page.mouse.wheel(0, 3000)
    page.wait_for_function("window.scrollY > 2000")
    top = page.locator(".report-aside").bounding_box()["y"]
    assert 0 <= top < 120 and page.locator(".toc").is_visible()
    # the section being read is marked: here, at the end of the page, the last
    page.wait_for_function(f"document.querySelector('{current}') !== document.querySelector('.toc a')")
    assert page.locator(current).inner_text() == page.locator(".toc a").last.inner_text()
    page.locator(page.locator(".toc a").first.get_attribute("href")).scroll_into_view_if_needed()
    page.mouse.wheel(0, -200)  # (above the first section's heading: the first still)
    page.wait_for_function(f"document.querySelector('{current}') === document.querySelector('.toc a')")
    context.close()


def test_a_short_page_keeps_its_footer_at_the_bottom_and_controls_take_the_theme(browser, site_server):
    viewport = {"width": 1400, "height": 900}
    context = browser.new_context(viewport=viewport, color_scheme="dark", bypass_csp=True)
    page = context.new_page()
    page.goto(site_server + "404.html")
    footer = page.locator(".sitefooter").bounding_box()
    assert footer["y"] + footer["height"] == pytest.approx(900, abs=1)
    page.goto(site_server + "sales/monthly-revenue/runs/")
    background = "el => getComputedStyle(el).backgroundColor"
    # the dark theme's surface (as its toggle button's), not the browser's grey rgb(59, 59, 59)
    assert page.locator("#run-filter").evaluate(background) == page.locator(".theme-toggle").evaluate(
        background
    )
    context.close()


def test_compare_writes_no_change_between_figures_in_different_units(page, site_server, example_repo):
    """The EU revenue is in EUR, the US one in USD (the example records each region's currency):
    compare shows both figures with their units and no change between them; a share still
    changes in points, with a minus sign as its figures have."""
    runs = example_repo / "runs/sales/monthly-revenue"
    eu, us = (next(p.name for p in (runs / v).iterdir() if p.name[:1].isdigit()) for v in ("eu", "us"))
    page.goto(f"{site_server}sales/monthly-revenue/compare/?a={eu}&b={us}")
    page.locator("#compare-metrics tr:nth-child(2)").wait_for()
    rows = {
        row.locator("th").inner_text(): [c.inner_text() for c in row.locator("td").all()]
        for row in page.locator("#compare-metrics tr").all()[1:]
    }
    assert rows["revenue"][0].endswith("\u00a0EUR") and rows["revenue"][1].endswith("\u00a0USD")
    assert rows["revenue"][2] == "units differ"
    assert rows["MoM change"][2].endswith("%)") and " pp " in rows["MoM change"][2]
    assert not any(cell.startswith("-") for cells in rows.values() for cell in cells)
