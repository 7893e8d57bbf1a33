"""pipeline/textnotebook.py: percent scripts and Markdown notebooks known from their text alone."""

from __future__ import annotations

from knowrepo.pipeline.discover import first_heading
from knowrepo.pipeline.textnotebook import (
    is_markdown_notebook,
    is_percent_script,
    is_text_notebook,
    markdown_notebook_prose,
    script_front_matter,
    source_kind,
)

SCRIPT = """#!/usr/bin/env python
# ---
# title: From a script
# tags: [a]
# ---

# %% [markdown]
# # The heading
#
# Some prose.

# %%
x = 1  # not prose
"""


def test_a_python_file_is_a_report_only_with_percent_cells():
    assert is_percent_script(SCRIPT) and not is_percent_script("def helper():\n    pass\n")


def test_a_script_s_commented_header_and_markdown_cells():
    yaml_text, prose = script_front_matter(SCRIPT)
    assert yaml_text == "title: From a script\ntags: [a]\n"
    assert prose.startswith("# The heading\n\nSome prose.\n") and "x = 1" not in prose
    assert first_heading(prose) == "The heading"
    assert script_front_matter("# %%\nx = 1\n") == (None, "")


def test_a_markdown_notebook_is_known_by_its_header_keys():
    assert is_markdown_notebook("jupyter:\n  jupytext: {}\n")
    assert is_markdown_notebook("kernelspec: {name: python3}")
    assert not is_markdown_notebook("title: plain markdown") and not is_markdown_notebook(None)


def test_a_markdown_notebook_s_prose_leaves_its_code_out():
    body = "# Title\n\n```python\n# a comment, not a heading\n```\n\ntext\n"
    assert markdown_notebook_prose(body) == "# Title\n\n\n\ntext\n"
    assert is_text_notebook("reports/a.md") and not is_text_notebook("reports/a.ipynb")


def test_E276_each_source_is_named_as_what_it_is():
    myst = (
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n---\n"
    )
    jupytext_md = (
        "---\njupyter:\n  jupytext:\n    format_name: markdown\n  kernelspec:\n    name: python3\n---\n"
    )
    assert source_kind("reports/a.ipynb", "notebook") == "ipynb"
    assert source_kind("reports/a.py", "notebook") == "percent"
    assert source_kind("reports/a.md", "notebook", myst) == "myst"
    assert source_kind("reports/a.md", "notebook", jupytext_md) == "jupytext-md"
    assert source_kind("reports/a.md", "markdown") == "markdown"
    assert source_kind("reports/post.kp/knowledge.md", "markdown") == "post"
