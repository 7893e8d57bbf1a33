"""Counts the formulas of tests/corpus/formulas.json that render as an error, as raw TeX or with
a literal & (each counted on its own), on the page and in the PDF. Run by hand:

    python tests/corpus/measure_math.py [--pdf] [--before OLD_MARKDOWN_PY]

--before: the same counts with an older markdown.py's math_to_html (e.g. `git show
9fff0f7:knowrepo/pipeline/render/markdown.py > /tmp/old_markdown.py`), its PDF as it was drawn
then (ziamath.Latex from the TeX). The defects are defined as in tests/unit/test_tex.py.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import itertools
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from test_tex import CORPUS, defects  # noqa: E402  (the definitions the test asserts with)

from knowrepo.pipeline.render.equations import drawable_parts  # noqa: E402
from knowrepo.pipeline.render.markdown import math_to_html  # noqa: E402
from knowrepo.pipeline.render.tex import math_page  # noqa: E402

Render = Callable[[str, bool], str]


def rendered(render: Render, preamble: bool) -> list[tuple[dict[str, str], str]]:
    out = []
    for (repo, _path), group in itertools.groupby(CORPUS["formulas"], key=lambda f: (f["repo"], f["path"])):
        with math_page():
            if preamble and repo in CORPUS["preambles"]:
                render(CORPUS["preambles"][repo], False)
            out += [(f, render(f["tex"], f["kind"] != "inline")) for f in group]
    return out


def page_counts(render: Render, preamble: bool) -> tuple[collections.Counter[str], float]:
    start = time.process_time()
    counts: collections.Counter[str] = collections.Counter()
    for formula, out in rendered(render, preamble):
        found = defects(out, formula["tex"])
        counts.update(found)
        counts["formulas with a defect"] += bool(found)
    return counts, time.process_time() - start


def pdf_counts(before: bool) -> collections.Counter[str]:
    import ziamath
    from latex2mathml.converter import convert

    counts: collections.Counter[str] = collections.Counter()
    for formula, out in rendered(math_to_html, preamble=True):
        tex = formula["tex"].strip()
        try:
            if before:
                ziamath.Latex(tex, size=13).svg()
                found = defects(convert(tex, display="block"), tex)  # (what ziamath drew)
            else:
                math = re.search(r"<math\b.*?</math>", out, re.S)
                for drawing in drawable_parts(math.group(0) if math else ""):
                    if drawing is not None:
                        ziamath.Math(drawing, size=14).svg()
                found = defects(out, tex)
        except Exception:  # ziamath raises many types
            found = {"error"}
        counts.update(found)
        counts["formulas with a defect"] += bool(found)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdf", action="store_true")
    parser.add_argument("--before")
    args = parser.parse_args()
    print(len(CORPUS["formulas"]), "formulas")
    if args.before:
        spec = importlib.util.spec_from_file_location("old_markdown", args.before)
        assert spec is not None and spec.loader is not None
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
        counts, cpu = page_counts(old.math_to_html, preamble=True)
        print(f"before, page: {dict(counts)} ({cpu:.2f} s CPU)")
        if args.pdf:
            print(f"before, PDF: {dict(pdf_counts(before=True))}")
    for preamble in (False, True):
        counts, cpu = page_counts(math_to_html, preamble)
        which = "with" if preamble else "without"
        print(f"after, page, {which} the preambles: {dict(counts)} ({cpu:.2f} s CPU)")
    if args.pdf:
        print(f"after, PDF: {dict(pdf_counts(before=False))}")


if __name__ == "__main__":
    main()
