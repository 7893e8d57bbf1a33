"""pipeline/render/dialect.py: the places where Markdown written for the old dialect
(Python-Markdown) renders otherwise now (E180 of docs/errors.md), found by their shapes."""

from __future__ import annotations

from knowrepo.pipeline.render import dialect
from knowrepo.pipeline.render.dialect import dialect_changes

OLD_SHAPES = """# Report

Findings:
- one
- two

- [x] done

> [!NOTE]
> one

> [!WARNING]
> two

#Title
Some ~~struck~~ text.

Term
: its definition

## Heading {: #mine}

Results:
| a | b |
|---|---|

\\begin{aligned}
a &= b
\\end{aligned}

line one\\
line two
"""


def test_E180_each_shape_that_renders_otherwise_is_named_at_its_line():
    lines = OLD_SHAPES.split("\n")
    found = [(lines[line], change) for line, change in dialect_changes(OLD_SHAPES)]
    assert found == [
        ("- one", dialect.LIST),
        ("- [x] done", dialect.TASK),
        ("> [!WARNING]", dialect.QUOTES),
        ("#Title", "`#Title` without a space was a heading, is now text (write `# Title`)"),
        ("Some ~~struck~~ text.", dialect.STRUCK),
        (": its definition", "`: definition` under a term was a definition list, is now text"),
        ("## Heading {: #mine}", "an attribute list {: ...} was applied to its block, is now text"),
        ("| a | b |", dialect.TABLE),
        ("\\begin{aligned}", dialect.ENVIRONMENT),
        ("line one\\", dialect.BREAK),
    ]


def test_E180_what_rendered_alike_is_not_named():
    same = (
        "# Title\n\nText.\n\n- a\n  - nested by two spaces\n- b\n\n1. Install:\n   ```bash\n   pip x\n"
        "   ```\n2. Run\n\n> one quote\n> over two lines\n\n"
        "Cost $5 and $10; $a_1 \\\\ b$ and\n$$x \\\\\ny$$\n\n"
        "```\n- [x] in code\n#nospace\n```\n\n| a |\n|---|\n| 1 |\n"
    )
    assert dialect_changes(same) == []
    assert (
        dialect_changes("") == [] and dialect_changes("Text:\n$$\nx\n- y\n$$\n") == []
    )  # (a formula's line)
