"""Real notebook prose renders with the block structure GitHub gives it: 700 Markdown cells of
public notebooks (tests/corpus/markdown_cells.json: PythonDataScienceHandbook, Probabilistic
Programming and Bayesian Methods for Hackers, handson-ml2; each with its repository, commit,
path and cell number), each with the structure cmark-gfm (GitHub's renderer, through cmarkgfm)
gave it when the corpus was made, formulas taken out first as JupyterLab does.

The reference is stored rather than rendered here: cmarkgfm is no dependency of knowrepo (both
were measured on the spec: markdown-it-py passes CommonMark 0.31.2's 655 examples, cmark-gfm
0.29.0.gfm.13 644, being a 0.29 implementation; cmark-gfm passes GFM's 24 extension examples,
knowrepo's markdown-it-py plugins 21), and a reference computed by the renderer under test
(markdown-it's own GFM preset) could hardly disagree with it. Remake it with
tests/corpus/make_markdown.py. Python-Markdown, the renderer before, had 679 of the 700."""

from __future__ import annotations

import json
from pathlib import Path

from knowrepo.pipeline.render.markdown import render_markdown
from unit.spec_html import block_structure

CORPUS = json.loads((Path(__file__).parents[1] / "corpus/markdown_cells.json").read_text())


def test_notebook_cells_have_the_block_structure_github_gives_them():
    cells = CORPUS["cells"]
    assert len(cells) >= 500 and len({cell["repo"] for cell in cells}) >= 3
    rendered = [render_markdown(cell["source"]) for cell in cells]
    assert not [
        cell["path"] for cell, html in zip(cells, rendered, strict=True) if "KRMATH" in html
    ]  # (no placeholder left)
    differ = [
        f"{cell['repo']} {cell['path']} cell {cell['cell']}: {got} != {cell['reference']}"
        for cell, html in zip(cells, rendered, strict=True)
        if (got := block_structure(html)) != cell["reference"]
    ]
    print(f"\n{len(cells) - len(differ)}/{len(cells)} cells as {CORPUS['reference']}", *differ, sep="\n  ")
    assert not differ


def test_the_structure_compared_is_the_blocks_and_their_nesting():
    html = render_markdown("# T\n\nFindings:\n- a\n  - b\n\n> q\n\n$$x$$\n\n| a |\n|---|\n\n---\n")
    assert block_structure(html) == [
        "h1", "p", "ul", "li", "ul", "li", "/li", "/ul", "/li", "/ul", "blockquote", "p", "/blockquote",
        "table", "hr",
    ]  # fmt: skip
