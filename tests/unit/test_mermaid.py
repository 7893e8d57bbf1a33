"""Mermaid fences: the markdown-it plugin's markup, and what the static image is made of."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from knowrepo.pipeline.assemble.packaged import chart_libraries
from knowrepo.pipeline.render.mermaid import (
    FENCE_CLASS,
    _first_line,
    alt_text,
    diagram_source,
    fence_language,
    mermaid_plugin,
    placeholder,
    sized,
)
from knowrepo.pipeline.render.sanitize import clean_body
from knowrepo.support.caches import Caches


def md() -> MarkdownIt:
    return MarkdownIt("commonmark").use(mermaid_plugin)


def test_a_mermaid_fence_is_its_escaped_source_in_a_pre_other_fences_stay_code():
    text = "Flow:\n\n```mermaid\ngraph LR\n  A[<b>x</b>] --> B & C\n```\n\n```python\nx = 1\n```\n"
    html = md().render(text)
    assert f'<pre class="{FENCE_CLASS}">graph LR\n  A[&lt;b&gt;x&lt;/b&gt;] --&gt; B &amp; C\n</pre>' in html
    assert '<pre><code class="language-python">x = 1\n</code></pre>' in html
    assert "<b>" not in html


def test_tildes_an_indented_fence_in_a_list_and_mysts_directive_with_options():
    html = md().render("1. Steps:\n\n   ~~~ Mermaid\n   graph TD; A-->B\n   ~~~\n")
    assert f'<li>\n<p>Steps:</p>\n<pre class="{FENCE_CLASS}">graph TD; A--&gt;B\n</pre>' in html
    myst = md().render("```{mermaid}\n:caption: Flow\n:align: center\ngraph TD; A-->B\n```\n")
    assert f'<pre class="{FENCE_CLASS}">graph TD; A--&gt;B\n</pre>' in myst
    assert fence_language("  mermaid  title") == "mermaid" and fence_language("") == ""
    assert diagram_source("mermaid", ":x: y\ngraph") == ":x: y\ngraph"  # (only MyST has options)


def test_the_sanitiser_keeps_the_fence_and_the_placeholder():
    fence = f'<pre class="{FENCE_CLASS}">graph LR; A--&gt;B</pre>'
    assert clean_body(fence) == fence
    box = placeholder("@@a/1.mermaid.json", "@@a/2.svg", "Diagram (graph)", "graph")
    assert clean_body(box) == box


def test_the_static_svg_has_a_size_and_alt_text_names_the_diagram():
    svg = '<svg id="my-svg" width="100%" style="max-width: 647.4px;" viewBox="0 0 647.39 181.02"><g/></svg>'
    assert sized(svg) == '<svg id="my-svg" viewBox="0 0 647.39 181.02" width="647" height="181"><g/></svg>'
    assert sized("<svg><g/></svg>") == "<svg><g/></svg>"
    assert alt_text("%% a comment\nsequenceDiagram\n  A->>B: hi") == "Diagram (sequenceDiagram)"
    assert alt_text("flowchart LR\n  accTitle: How orders flow\n  A-->B") == "How orders flow"
    assert alt_text('---\ntitle: "Order flow"\n---\nflowchart LR\n  A-->B') == "Order flow"
    assert alt_text("---\nconfig:\n  theme: forest\n---\ngantt\n  title x") == "Diagram (gantt)"


def test_mermaids_error_in_one_line():
    error = RuntimeError(
        "Mermaid rendering failed: Error: Parse error on line 3:\n"
        "...A-- ->\n-----^\nExpecting 'LINK', got '1'"
    )
    assert _first_line(error) == "Parse error on line 3: Expecting 'LINK', got '1'"
    assert _first_line(RuntimeError("")) == "RuntimeError"


def test_the_site_ships_mermaid_once_from_the_installed_package_only_when_a_page_draws_one(tmp_path: Path):
    caches = Caches(tmp_path)
    ((path, source),) = chart_libraries({"mermaid"}, caches)
    assert path == "assets/mermaid.min.js"
    head = Path(source).read_bytes()[:200_000]
    assert b"mermaid" in head and Path(source).stat().st_size > 1_000_000
    assert chart_libraries(set(), caches) == []
