"""pipeline/render/css.py: report CSS that stays inside the report body and loads nothing from
elsewhere (E114, E115 of docs/errors.md)."""

from __future__ import annotations

import pytest

from knowrepo.pipeline.render.css import (
    clean_declarations,
    clean_stylesheet,
    is_local_url,
    loads_elsewhere,
    safe_declaration,
)


@pytest.mark.parametrize(
    ("declarations", "kept"),
    [
        ("color: red; position: fixed", "color: red"),
        ("position: relative !important", "position: relative !important"),
        ("position: var(--p); top: 0", "top: 0"),
        ("position: \\66ixed", ""),  # an escape that spells fixed
        ("background: url(https://evil.example/a.png); color: blue", "color: blue"),
        ("background: u\\72l(https://evil.example/a.png)", ""),
        ("background: url(data:image/png;base64,AAAA)", "background: url(data:image/png;base64,AAAA)"),
        ("fill: url(#gradient)", "fill: url(#gradient)"),
        ("background: image-set('a.png' 1x)", ""),
        ("behavior: url(x.htc); -moz-binding: url(x)", ""),
        ("/* a comment */ color: green", "color: green"),
    ],
)
def test_E115_declarations_that_escape_the_box_or_load_go(declarations: str, kept: str):
    assert clean_declarations(declarations) == kept


def test_E115_a_stylesheet_is_scoped_and_at_rules_that_name_page_things_go():
    css = clean_stylesheet(
        "@import url(x.css); @font-face { src: url(f.woff) } @keyframes k { to { color: red } }"
        " ~ header, + footer, td { color: red } @media print { p { position: sticky; color: green } }"
        ' td::after { content: "</style>" }',
        scope=".report-body",
    )
    assert css == (
        ".report-body td {color: red}\n@media print {.report-body p {color: green}}\n"
        '.report-body td::after {content: "<\\/style>"}'
    )


def test_a_stylesheet_without_scope_keeps_its_selectors():
    assert clean_stylesheet("svg rect { fill: blue }") == "svg rect {fill: blue}"


def test_E114_a_declaration_is_one_declaration_of_its_own_property():
    assert safe_declaration("color", "red")
    assert not safe_declaration("color", "red }")
    assert not safe_declaration("--x", "1 }")
    assert not safe_declaration("color", "red; position: fixed")
    assert not safe_declaration("position", "fixed")
    assert not safe_declaration("width", "1em; } :host { position: fixed")


def test_what_loads_from_elsewhere():
    assert loads_elsewhere("url(https://evil.example/a)")
    assert loads_elsewhere('url("https://evil.example/a")')
    assert not loads_elsewhere("url(#clip)") and not loads_elsewhere("red")
    assert is_local_url("#part") and is_local_url("data:image/svg+xml;base64,AA")
    assert not is_local_url("data:text/html,x") and not is_local_url("//evil.example/x")
