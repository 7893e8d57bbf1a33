"""The shape of the code itself: no function too long or too branchy to follow (issue 12)."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import PROJECT

MAX_LINES = 60
MAX_COMPLEXITY = 15


def test_no_function_is_longer_than_sixty_lines():
    long = []
    for path in (PROJECT / "knowrepo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > MAX_LINES:
                    long.append(f"{path.relative_to(PROJECT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_no_function_is_more_complex_than_fifteen():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "C901", "--config",
         f"lint.mccabe.max-complexity = {MAX_COMPLEXITY}", "knowrepo"],
        cwd=PROJECT, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
