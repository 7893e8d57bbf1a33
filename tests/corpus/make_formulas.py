"""Extracts the formulas of tests/corpus/formulas.json from public notebook repositories.

Run once by hand (not by the tests): `python tests/corpus/make_formulas.py MIRROR...`, each
MIRROR a bare git directory of a repository (owner+name). It reads the Markdown cells of the
notebooks (and the .md files) at HEAD and keeps each formula as JupyterLab's MathJax finds it:
$...$ (inline), $$...$$ or \\[...\\] (display), and a bare \\begin{env}...\\end{env} (env).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

# Code is skipped; the rest as the Jupyter math finder reads it.
_MATH = re.compile(
    r"(?P<fence>^[ \t]*(?P<f>```|~~~).*?^[ \t]*(?P=f)[ \t]*$)"
    r"|(?P<code>(?P<ticks>`+).+?(?P=ticks))"
    r"|\$\$(?P<display>.+?)\$\$"
    r"|\\\[(?P<display2>.+?)\\\]"
    r"|(?P<env>\\begin\{(?P<name>[a-zA-Z]+\*?)\}.*?\\end\{(?P=name)\})"
    r"|\\\((?P<inline2>.+?)\\\)"
    r"|(?<![\\$\w])\$(?!\d)(?P<inline>(?=[^$\n]*[^\s$])[^$\n]+?)(?<!\\)\$(?!\d)",
    re.S | re.M,
)
_PER_REPO = 250


def git(mirror: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", mirror, *args], capture_output=True, text=True).stdout


def markdown_texts(mirror: str, path: str) -> list[str]:
    text = git(mirror, "show", f"HEAD:{path}")
    if not path.endswith(".ipynb"):
        return [text]
    try:
        cells = json.loads(text).get("cells", [])
    except ValueError:
        return []
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in cells
        if c.get("cell_type") == "markdown"
    ]


def formulas(text: str) -> list[tuple[str, str]]:
    found = []
    for m in _MATH.finditer(text):
        if m.group("fence") or m.group("code"):
            continue
        for kind, group in (
            ("display", "display"),
            ("display", "display2"),
            ("env", "env"),
            ("inline", "inline"),
            ("inline", "inline2"),
        ):
            if m.group(group) is not None:
                found.append((kind, m.group(group).strip()))
                break
    return found


def main(mirrors: list[str]) -> None:
    out, seen = [], set()
    for mirror in mirrors:
        repo = Path(mirror).parent.name.replace("+", "/", 1)
        paths = [
            p
            for p in git(mirror, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
            if p.endswith((".ipynb", ".md"))
        ]
        kept = 0
        for path in sorted(paths):
            for text in markdown_texts(mirror, path):
                for kind, tex in formulas(text):
                    if tex in seen or kept >= _PER_REPO:
                        continue
                    seen.add(tex)
                    kept += 1
                    out.append({"repo": repo, "path": path, "kind": kind, "tex": tex})
    target = Path(__file__).with_name("formulas.json")
    # (the "about" and "preambles" keys of the file were written by hand: keep them)
    old = json.loads(target.read_text()) if target.exists() else {}
    data = {"about": old.get("about", ""), "preambles": old.get("preambles", {}), "formulas": out}
    target.write_text(json.dumps(data, indent=0, ensure_ascii=False) + "\n")
    print(len(out), "formulas", target.stat().st_size, "bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
