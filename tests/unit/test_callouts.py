"""pipeline/render/callouts.py: callouts in GitHub's, MkDocs', MyST's and Quarto's syntax, each a
markdown-it-py plugin, on a plain CommonMark parser (E190, E191, E192 of docs/errors.md)."""

from __future__ import annotations

from typing import Any

import pytest
from markdown_it import MarkdownIt

from knowrepo.pipeline.render.callouts import (
    callout_changes,
    github_alerts_plugin,
    mkdocs_admonitions_plugin,
    myst_callouts_plugin,
    quarto_callouts_plugin,
)

MD = (
    MarkdownIt("commonmark")
    .use(github_alerts_plugin)
    .use(mkdocs_admonitions_plugin)
    .use(myst_callouts_plugin)
    .use(quarto_callouts_plugin)
)
PLAIN = MarkdownIt("commonmark")


def render(text: str) -> tuple[str, list[str]]:
    """The HTML, and the warnings as markdown.py words them (lines from 1)."""
    env: dict[str, Any] = {}
    html = MD.render(text, env)
    return html, [f"line {line + 1}: {message}" for line, message in env.get("warnings", [])]


def callout(kind: str, title: str, body: str) -> str:
    opening = f'<div class="callout callout-{kind}" role="note">\n'
    return opening + f'<p class="callout-title">{title}</p>\n{body}</div>\n'


# Each syntax, for each of the five kinds: one HTML shape.
SYNTAXES = {
    "github": "> [!{upper}]\n> Some *text*.\n",
    "mkdocs": "!!! {kind}\n    Some *text*.\n",
    "myst-colon": ":::{{{kind}}}\nSome *text*.\n:::\n",
    "myst-backtick": "```{{{kind}}}\nSome *text*.\n```\n",
    "quarto": "::: {{.callout-{kind}}}\nSome *text*.\n:::\n",
}


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("kind", ["note", "tip", "important", "warning", "caution"])
def test_each_syntax_gives_one_shape_for_each_kind(syntax, kind):
    html, warnings = render(SYNTAXES[syntax].format(kind=kind, upper=kind.upper()))
    assert html == callout(kind, kind.capitalize(), "<p>Some <em>text</em>.</p>\n")
    assert warnings == []


def test_two_github_alerts_stay_two_and_the_marker_line_stands_alone():
    html, _ = render("> [!NOTE]\n> one\n\n> [!WARNING]\n> two\n\n> [!TIP] same line\n> three\n")
    assert html.count('class="callout ') == 2
    assert callout("note", "Note", "<p>one</p>\n") + callout("warning", "Warning", "<p>two</p>\n") in html
    assert "<blockquote>\n<p>[!TIP] same line" in html  # (GitHub: not an alert)


def test_github_marker_it_does_not_know_stays_a_quote_with_a_warning_E192():
    html, warnings = render("Text.\n\n> [!DANGER]\n> Hot.\n")
    assert html == PLAIN.render("Text.\n\n> [!DANGER]\n> Hot.\n")
    assert warnings == [
        "line 3: '[!DANGER]' is not a GitHub alert type (NOTE, TIP, IMPORTANT, WARNING, CAUTION); "
        "shown as a quote, as GitHub does"
    ]


def test_mkdocs_titles_aliases_and_folding():
    html, warnings = render(
        '!!! danger "Mind *the* gap"\n    Body.\n\n!!! info ""\n    No title.\n\n'
        "??? hint\n    Folded.\n\n???+ success\n    Open.\n"
    )
    assert callout("caution", "Mind <em>the</em> gap", "<p>Body.</p>\n") in html
    assert '<div class="callout callout-note" role="note">\n<p>No title.</p>\n</div>' in html
    assert '<details class="callout callout-tip">\n<summary class="callout-title">Hint</summary>' in html
    assert (
        '<details class="callout callout-tip" open="">\n<summary class="callout-title">Success</summary>'
        in html
    )
    assert warnings == []


def test_a_folded_callout_without_title_still_has_a_summary():
    html, _ = render('??? warning ""\n    Body.\n')
    assert '<summary class="callout-title">Warning</summary>' in html


def test_unknown_type_is_a_note_and_says_so_E190():
    html, warnings = render("!!! foo\n    Body.\n\n::: {.callout-bar}\nB.\n:::\n")
    assert callout("note", "Foo", "<p>Body.</p>\n") + callout("note", "Bar", "<p>B.</p>\n") == html
    assert sorted(warnings) == [
        "line 1: callout type 'foo' is not one knowrepo knows (note, tip, important, warning, caution, "
        "or an alias); shown as a note",
        "line 4: callout type 'bar' is not one knowrepo knows (note, tip, important, warning, caution, "
        "or an alias); shown as a note",
    ]


def test_myst_title_options_and_dropdown():
    html, warnings = render(
        ":::{tip} A *title*\n:class: dropdown\n:name: my-tip\nBody.\n:::\n\n"
        "```{admonition} Generic\n---\nclass: warning\n---\nBody.\n```\n\n"
        ":::{seealso}\n:class: other\nSee.\n:::\n"
    )
    assert (
        '<details class="callout callout-tip">\n'
        '<summary class="callout-title">A <em>title</em></summary>\n<p>Body.</p>' in html
    )
    assert callout("warning", "Generic", "<p>Body.</p>\n") in html
    assert callout("note", "See also", "<p>See.</p>\n") in html
    assert "name" not in html and "class: " not in html
    assert warnings == []


def test_myst_directives_that_are_not_callouts_are_left_alone():
    text = ":::{figure} a.png\nCaption\n:::\n\n```{code-cell} python\nx = 1\n```\n"
    assert render(text) == (PLAIN.render(text), [])


def test_quarto_titles_and_collapse():
    html, _ = render(
        "::: {.callout-important}\n## A heading title\nBody.\n:::\n\n"
        '::: {.callout-caution title="From attrs" collapse="true"}\n## Kept heading\n:::\n\n'
        '::: {#c1 .callout-tip collapse="false" icon=false}\nOpen.\n:::\n\n'
        "::: callout-warning\nBare class.\n:::\n"
    )
    assert callout("important", "A heading title", "<p>Body.</p>\n") in html
    assert (
        '<details class="callout callout-caution">\n'
        '<summary class="callout-title">From attrs</summary>\n<h2>Kept heading</h2>' in html
    )
    assert '<details class="callout callout-tip" open="">' in html
    assert callout("warning", "Warning", "<p>Bare class.</p>\n") in html


def test_nested_markdown_and_nested_callouts():
    html, _ = render(
        "::::{note}\n- a list\n- [a link](x.html)\n\n```python\nx = 1\n```\n\n"
        ":::{warning}\ninner\n:::\n::::\n\n"
        "::: {.callout-caution}\n::: {.callout-tip}\nsame-length fences nest as in Pandoc\n:::\nafter\n:::\n"
    )
    assert '<ul>\n<li>a list</li>\n<li><a href="x.html">a link</a></li>\n</ul>' in html
    assert '<pre><code class="language-python">x = 1\n</code></pre>' in html
    assert callout("warning", "Warning", "<p>inner</p>\n") + "</div>" in html
    assert (
        callout("tip", "Tip", "<p>same-length fences nest as in Pandoc</p>\n") + "<p>after</p>\n</div>"
        in html
    )


def test_callouts_inside_lists_and_quotes():
    html, _ = render(
        "- item\n\n  :::{note}\n  in a list\n  :::\n\n> ::: {.callout-tip}\n> in a quote\n> :::\n"
    )
    assert "<li>\n<p>item</p>\n" + callout("note", "Note", "<p>in a list</p>\n") in html
    assert "<blockquote>\n" + callout("tip", "Tip", "<p>in a quote</p>\n") + "</blockquote>" in html


@pytest.mark.parametrize(
    "text",
    [
        "::: {.callout-note\nunclosed brace\n:::\n",
        ":::{note\nunclosed brace\n:::\n",
        "!!!\n    no type\n",
        "::: {.column-margin}\nnot a callout\n:::\n",
        "```note\nplain code\n```\n",
        "    :::{note}\n    indented code\n    :::\n",
    ],
)
def test_malformed_or_other_blocks_render_as_commonmark_does(text):
    assert render(text) == (PLAIN.render(text), [])


def test_unclosed_fences_E191():
    html, warnings = render("::: {.callout-tip}\nno end\n\n:::{note}\nto the end\n")
    assert html.startswith("<p>::: {.callout-tip}\nno end</p>\n")  # (Pandoc: an unclosed div is text)
    assert html.endswith(callout("note", "Note", "<p>to the end</p>\n"))  # (MyST: as a code fence)
    assert warnings == [
        "line 1: Quarto callout '::: {.callout-tip}' is never closed (no ':::' line); "
        "shown as text, as Pandoc does",
        "line 4: MyST callout ':::{note}' is never closed (no ':::' line); it runs to the end",
    ]


def test_a_fence_ends_its_paragraph():
    html, _ = render("Findings:\n:::{note}\nA note.\n:::\n")
    assert html == "<p>Findings:</p>\n" + callout("note", "Note", "<p>A note.</p>\n")


def test_check_names_each_callout_once_text_and_each_warning_E190_E191_E192():
    text = (
        "Intro.\n\n> [!TIP]\n> x\n\n!!! foo\n    y\n\n> [!DANGER]\n> z\n\n::: {.callout-note}\nnever closed\n"
    )
    unknown = (
        "callout type 'foo' is not one knowrepo knows (note, tip, important, warning, caution, or an alias)"
    )
    alert = "'[!DANGER]' is not a GitHub alert type (NOTE, TIP, IMPORTANT, WARNING, CAUTION)"
    pandoc = "shown as text, as Pandoc does"
    assert sorted(callout_changes(text)) == [
        (2, "'> [!TIP]' was text, is now a callout (tip)"),
        (5, "'!!! foo' was text, is now a callout (note)"),
        (5, unknown + "; shown as a note"),
        (8, alert + "; shown as a quote, as GitHub does"),
        (11, "Quarto callout '::: {.callout-note}' is never closed (no ':::' line); " + pandoc),
    ]
    assert callout_changes("Plain text, $x$ and a [link](y).\n") == []
