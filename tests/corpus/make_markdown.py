"""Makes tests/corpus/markdown_spec.json and markdown_cells.json (run by hand; the tests read
the JSON). Needs the repositories below fetched as bare git mirrors under MIRRORS, and
cmarkgfm importable (pip install --target /tmp/cmg cmarkgfm; PYTHONPATH=/tmp/cmg).

- markdown_spec.json: every example of the CommonMark spec 0.31.2 (commonmark/commonmark-spec
  spec.txt) and the examples of GFM's extension sections (github/cmark-gfm test/spec.txt,
  "GitHub Flavored Markdown Spec 0.29": tables, strikethrough, autolinks, task lists,
  disallowed raw HTML), extracted as the spec's own spec_tests.py does.
- markdown_cells.json: the Markdown cells of public notebooks, each with its repository and
  path, and the block structure GitHub's renderer (cmark-gfm, through cmarkgfm) gives it, with
  the formulas taken out first as JupyterLab does (removeMath) with knowrepo's regex for it:
  the reference the corpus test compares knowrepo's rendering with.

    PYTHONPATH=$PWD:/tmp/cmg python tests/corpus/make_markdown.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from unit.spec_html import block_structure  # noqa: E402

from knowrepo.pipeline.render.syntax import ENVIRONMENT, MATH  # noqa: E402

MIRRORS = Path("/work/.mirror")
SPECS = {
    "commonmark": ("commonmark/commonmark-spec", "spec.txt", None),
    "gfm": (
        "github/cmark-gfm",
        "test/spec.txt",
        {"table", "strikethrough", "autolink", "tagfilter", "disabled"},
    ),
}
NOTEBOOKS = {  # repository: (notebooks under, how many cells at most)
    "jakevdp/PythonDataScienceHandbook": ("notebooks/", 300),
    "CamDavidsonPilon/Probabilistic-Programming-and-Bayesian-Methods-for-Hackers": ("Chapter", 200),
    "ageron/handson-ml2": ("", 200),
}


def git_dir(repo: str) -> Path:
    base = MIRRORS / repo.replace("/", "+") / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


def git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir(repo)}", *args], capture_output=True, text=True, check=True
    ).stdout


def spec_examples(text: str, tags: set[str] | None) -> list[dict[str, object]]:
    """The examples of a spec text (spec_tests.py's get_tests); with `tags`, only those whose
    opening line names one (GFM's extension examples)."""
    examples, section, state, lines, number = [], "", 0, {"markdown": [], "html": []}, 0
    kind = ""
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if state == 0 and stripped.startswith("`" * 32 + " example"):
            state, number, kind = 1, number + 1, stripped[32 + len(" example") :].strip()
        elif state == 1 and stripped == ".":
            state = 2
        elif state == 2 and stripped == "`" * 32:
            if tags is None or kind in tags:
                examples.append({
                    "example": number, "section": section, "extension": kind or None,
                    "markdown": "".join(lines["markdown"]).replace("→", "\t"),
                    "html": "".join(lines["html"]).replace("→", "\t"),
                })  # fmt: skip
            state, lines = 0, {"markdown": [], "html": []}
        elif state == 1:
            lines["markdown"].append(line)
        elif state == 2:
            lines["html"].append(line)
        elif state == 0 and re.match(r"#{1,6} ", line):
            section = line.lstrip("#").strip()
    return examples


def write_specs() -> None:
    out = {}
    for name, (repo, path, tags) in SPECS.items():
        text = git(repo, "show", f"HEAD:{path}")
        version = re.search(r"^version: '?([\d.]+(?:\.gfm)?)'?", text, re.M)
        commit = git(repo, "rev-parse", "HEAD").strip()
        out[name] = {
            "source": f"https://github.com/{repo}/blob/{commit}/{path}",
            "version": version.group(1) if version else "?",
            "examples": spec_examples(text, tags),
        }
    (HERE / "markdown_spec.json").write_text(json.dumps(out, indent=0, ensure_ascii=False) + "\n")


def _placeholder(match: re.Match[str]) -> str:
    if match.group("fence") or match.group("code") or match.group("link") or match.group("dollar"):
        return match.group(0)
    return "DISPLAYMATH" if match.group("display") or match.group("display2") else "MATH"


def reference_html(text: str) -> str:
    """GitHub's rendering (cmark-gfm, its extensions and footnotes, raw HTML kept) of the text
    with each formula (and bare \\begin{env}...\\end{env}) taken out first, as JupyterLab does, and left
    as a placeholder word; a
    display formula alone in its paragraph is no paragraph (it is drawn as a block of its own,
    which the structure does not count)."""
    import cmarkgfm  # (only here: the tests read the stored structure)
    from cmarkgfm.cmark import Options

    lifted = ENVIRONMENT.sub("DISPLAYMATH", MATH.sub(_placeholder, text))
    options = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_FOOTNOTES
    rendered = cmarkgfm.github_flavored_markdown_to_html(lifted, options=options)
    return rendered.replace("<p>DISPLAYMATH</p>", "")


def write_cells() -> None:
    from importlib.metadata import version

    from cmarkgfm._cmark import ffi, lib  # (cmark-gfm's own version string)

    cells = []
    for repo, (under, most) in NOTEBOOKS.items():
        commit = git(repo, "rev-parse", "HEAD").strip()
        found = []
        for path in sorted(git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines()):
            if not path.endswith(".ipynb") or not path.startswith(under):
                continue
            try:
                nb = json.loads(git(repo, "show", f"HEAD:{path}"))
            except (json.JSONDecodeError, subprocess.CalledProcessError):
                continue
            for number, cell in enumerate(nb.get("cells", []), 1):
                source = "".join(cell.get("source", []))
                if cell.get("cell_type") == "markdown" and source.strip() and len(source) < 6000:
                    found.append(
                        {"repo": repo, "commit": commit, "path": path, "cell": number, "source": source}
                    )
        step = max(1, len(found) // most)
        cells += found[::step][:most]
    for cell in cells:
        cell["reference"] = block_structure(reference_html(cell["source"]))
    meta = {
        "reference": f"cmark-gfm {ffi.string(lib.cmark_version_string()).decode()} (cmarkgfm"
        f" {version('cmarkgfm')}),"
        " extensions and footnotes on, unsafe (raw HTML kept), formulas taken out first as JupyterLab does",
        "cells": cells,
    }
    (HERE / "markdown_cells.json").write_text(json.dumps(meta, indent=0, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write_specs()
    write_cells()
