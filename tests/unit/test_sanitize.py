"""pipeline/render/sanitize.py: report HTML, MathML and SVG that cannot run script in a reader's
browser (E62-E66, E79, E83, E119 of docs/errors.md)."""

from __future__ import annotations

from bs4 import BeautifulSoup

from knowrepo.pipeline.render.sanitize import clean_body, clean_html, clean_mathml, clean_svg, plain_attribute

PNG = "data:image/png;base64,iVBORw0KGgo="


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_E63_E64_script_handlers_and_frames_go_tables_and_images_stay():
    html = clean_html(
        '<h2>Data</h2><script>alert(1)</script><img src="a.png" onerror="x()" alt="A">'
        '<a href="javascript:x()">j</a><a href="https://example.com/">ok</a><iframe src="x"></iframe>'
        "<table><tr><td>1</td></tr></table><svg onload=x()><circle/></svg>"
    )
    tree = soup(html)
    assert not tree.select("script, iframe, svg") and "alert" not in html
    assert tree.img.attrs == {"src": "a.png", "alt": "A"}
    assert [a.get("href") for a in tree.select("a")] == [None, "https://example.com/"]
    assert tree.select_one("table td").text == "1" and tree.h2.text == "Data"


def test_data_urls_only_as_an_image_s_source():
    html = clean_html(f'<img src="{PNG}"><img src="data:text/html,x"><a href="{PNG}">x</a>')
    assert [img.get("src") for img in soup(html).select("img")] == [PNG, None]
    assert soup(html).a.get("href") is None


def test_report_css_keeps_to_its_element():
    html = clean_html('<p style="color: red; position: fixed; background: url(https://evil.example/x)">x</p>')
    assert soup(html).p["style"] == "color: red"
    assert "<style>" not in clean_html("<style>p {color: red}</style><p>x</p>", keep_styles=False)
    assert "p {color: red}" in clean_html("<style>p {color: red}</style><p>x</p>")


def test_bokeh_refs_stay_only_when_asked():
    assert '<ref id="p1001">' in clean_html('<ref id="p1001"></ref>', keep_refs=True)
    assert "<ref" not in clean_html('<ref id="p1001"></ref>')


def test_E115_the_body_s_styles_are_put_under_the_report_body():
    body = clean_body("<style>td, th { color: red } body { position: fixed }</style><math><mi>x</mi></math>")
    css = soup(body).style.get_text()
    assert ".report-body td, .report-body th {color: red}" in css
    assert ".report-body body {}" in css and "fixed" not in css
    assert "<math><mi>x</mi></math>" in body  # knowrepo's own MathML stays in the whole body


def test_E79_mathml_keeps_nothing_but_mathml():
    mathml = clean_mathml(
        "<math><mtext><script>x()</script><img src=x onerror=y()>t</mtext><mi"
        ' href="javascript:x">a</mi></math>'
    )
    assert mathml == "<math><mtext>t</mtext><mi>a</mi></math>"


def test_plain_attributes_are_the_ones_any_element_may_carry():
    assert plain_attribute("title", "A chart") == "A chart"
    assert plain_attribute("aria-label", "x") == "x"
    assert plain_attribute("onclick", "x()") is None
    assert plain_attribute("style", "position: fixed; color: red") == "color: red"
    assert plain_attribute("style", "position: fixed") is None


def test_E65_an_svg_file_keeps_its_drawing_not_its_script():
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="x()">'
        b'<script>alert(1)</script><circle r="3" onclick="y()"/><a xlink:href="javascript:z()"><rect/></a>'
        b'<use href="#c"/><animate attributeName="href" to="javascript:x()"/></svg>'
    )
    cleaned = clean_svg(svg).decode()
    assert "script" not in cleaned and "onload" not in cleaned and "onclick" not in cleaned
    assert "javascript" not in cleaned and "animate" not in cleaned
    assert '<circle r="3" />' in cleaned and 'href="#c"' in cleaned


def test_E62_an_svg_that_is_not_well_formed_or_not_svg_is_none():
    assert clean_svg(b"<svg><unclosed></svg>") is None
    assert clean_svg(b'<html xmlns="http://www.w3.org/1999/xhtml"/>') is None
    assert clean_svg(b"") is None


def test_E83_an_svg_keeps_svg_elements_only_and_loads_nothing():
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg"><frame xmlns="http://www.w3.org/1999/xhtml"'
        b' src="javascript:x"/>'
        b'<rect fill="url(https://evil.example/p)" style="fill: url(https://evil.example/q); stroke: red"/>'
        b"<style>@import url(https://evil.example/x.css); rect {stroke: blue}</style></svg>"
    )
    cleaned = clean_svg(svg).decode()
    assert "frame" not in cleaned and "evil.example" not in cleaned and "@import" not in cleaned
    assert 'fill="none"' in cleaned and 'style="stroke: red"' in cleaned and "rect {stroke: blue}" in cleaned


def test_E119_an_svg_style_keeps_only_its_text_cleaned_as_a_whole():
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg">'
        b"<style><g/>@import url(https://evil.example/x.css); p {}</style></svg>"
    )
    cleaned = clean_svg(svg).decode()
    assert "evil.example" not in cleaned and "<g" not in cleaned and "<style>" in cleaned
