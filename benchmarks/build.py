"""Build speed against the floor: the same notebooks rendered serially by one reused stock
nbconvert `basic` exporter. Also checks that knowrepo's pages show every output the stock
exporter shows, so speed never comes from dropping content.

Usage: python benchmarks/build.py [--n 1000] [--json]
Prints a table, or with --json one JSON list of rows (benchmarks/run.py collects them).
"""

from __future__ import annotations

import argparse
import compileall
import io
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell
from run import emit

WORDS = [
    "revenue",
    "churn",
    "cohort",
    "region",
    "forecast",
    "variance",
    "margin",
    "pipeline",
    "retention",
    "segment",
    "baseline",
    "uplift",
    "conversion",
    "funnel",
    "latency",
    "throughput",
    "anomaly",
    "seasonality",
    "weekly",
    "monthly",
    "quarterly",
    "customer",
    "order",
    "warehouse",
    "dispatch",
    "experiment",
    "control",
    "treatment",
    "interval",
    "estimate",
    "median",
    "distribution",
    "outlier",
    "regression",
    "residual",
    "signal",
    "metric",
    "dashboard",
    "target",
    "growth",
    "decline",
]


def make_png(rng: random.Random) -> bytes:
    """A plot-sized PNG (about 20-40 kB), different for every call."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 360), "white")
    draw = ImageDraw.Draw(image)
    points = [(x, 180 + int(120 * rng.random() - 60)) for x in range(20, 640, 12)]
    draw.line(points, fill=(59, 111, 182), width=3)
    for x in range(20, 640, 40):
        draw.rectangle([x, 300 - rng.randint(10, 120), x + 24, 300], fill=(rng.randint(0, 255), 140, 90))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def html_table(rng: random.Random) -> str:
    rows = "".join(
        f"<tr><th>{i}</th><td>{rng.choice(WORDS)}</td><td>{rng.random() * 1000:.2f}</td></tr>"
        for i in range(12)
    )
    head = "<thead><tr><th></th><th>name</th><th>value</th></tr></thead>"
    return f'<table border="1" class="dataframe">{head}<tbody>{rows}</tbody></table>'


def make_notebook(index: int, rng: random.Random) -> nbformat.NotebookNode:
    import base64

    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nb.cells.append(
        new_raw_cell(
            f"---\ntitle: Synthetic report {index}\nauthors: [Analyst {index % 7}]\n"
            f"tags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]\n"
            f"created: 2026-{1 + index % 12:02d}-{1 + index % 28:02d}\n---"
        )
    )
    nb.cells.append(new_markdown_cell(f"# Synthetic report {index}\n\n{prose(rng, 80)}"))
    for section in range(4):
        nb.cells.append(
            new_markdown_cell(
                f"## Section {section}\n\n{prose(rng, 60)}\n\n- {prose(rng, 8)}\n- {prose(rng, 8)}"
            )
        )
        code = "\n".join(
            f"value_{k} = compute('{rng.choice(WORDS)}', window={rng.randint(1, 30)})" for k in range(6)
        )
        cell = new_code_cell(code + "\nprint(value_0)")
        cell.execution_count = section + 1
        cell.outputs = [new_output("stream", name="stdout", text=f"{prose(rng, 12)}\n" * 3)]
        nb.cells.append(cell)
        table = new_code_cell("summary.head(12)")
        table.execution_count = section + 10
        table.outputs = [
            new_output(
                "execute_result",
                data={"text/html": html_table(rng), "text/plain": "table"},
                execution_count=section + 10,
            )
        ]
        nb.cells.append(table)
        if section % 2 == 0:
            plot = new_code_cell("fig, ax = plt.subplots()\nax.plot(series)\nplt.show()")
            plot.execution_count = section + 20
            plot.outputs = [
                new_output(
                    "display_data",
                    data={
                        "image/png": base64.b64encode(make_png(rng)).decode(),
                        "text/plain": "<Figure size 640x360 with 1 Axes>",
                    },
                )
            ]
            nb.cells.append(plot)
    return nb


def generate(repo: Path, n: int) -> list[Path]:
    rng = random.Random(42)
    (repo / "reports").mkdir(parents=True)
    (repo / "knowrepo.toml").write_text('[site]\ntitle = "Benchmark"\n')
    paths = []
    for index in range(n):
        path = repo / "reports" / f"group-{index % 10}" / f"report-{index:04d}.ipynb"
        path.parent.mkdir(exist_ok=True)
        nbformat.write(make_notebook(index, rng), path)
        paths.append(path)
    return paths


def floor(paths: list[Path]) -> tuple[float, dict[Path, float], dict[Path, str]]:
    """Serial stock nbconvert `basic`, one reused exporter (import and first compile excluded)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic")
    exporter.from_notebook_node(nbformat.read(paths[0], as_version=4))  # warm: compile templates
    each, pages = {}, {}
    start = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        html, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
        each[path] = time.perf_counter() - t0
        pages[path] = html
    return time.perf_counter() - start, each, pages


def cold_floor(path: Path) -> float:
    """Stock nbconvert on one notebook in a fresh process (what re-rendering one costs anyone)."""
    code = (
        "import sys, nbformat\nfrom nbconvert import HTMLExporter\n"
        "HTMLExporter(template_name='basic').from_notebook_node(nbformat.read(sys.argv[1], as_version=4))"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    return time.perf_counter() - t0


def knowrepo_build(repo: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "knowrepo", "build", str(repo), "--json"], capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"knowrepo build failed:\n{proc.stderr}")
    return seconds, json.loads(proc.stdout)


def content_check(repo: Path, paths: list[Path], stock: dict[Path, str]) -> list[str]:
    """Every output the stock exporter shows is on knowrepo's page: images, tables, texts."""
    problems = []
    site = (repo / "_site").resolve()
    for path in paths:
        slug = path.relative_to(repo / "reports").with_suffix("").as_posix()
        ours = (site / slug / "index.html").read_text()
        theirs = stock[path]
        for pattern, what in (
            (r"<img\b", "images"),
            (r"<table\b", "tables"),
            (r"output_stdout", "stream outputs"),
        ):
            if len(re.findall(pattern, ours)) < len(re.findall(pattern, theirs)):
                problems.append(f"{slug}: fewer {what}")
        if re.search(r"<img(?![^>]*\balt=\")", ours):
            problems.append(f"{slug}: an image without alt text")
        for img in re.findall(r'<img[^>]*src="([^"]+)"', ours):
            if not (site / slug / img).resolve().is_file() and "assets/" in img:
                problems.append(f"{slug}: missing image file {img}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    # knowrepo's modules compiled as pip compiles an installed package's (an editable install
    # has no .pyc, and this machine sets PYTHONDONTWRITEBYTECODE: ~0.05 s of compiling per run).
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "knowrepo", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="kr-bench-build-"))
    try:
        repo = work / "repo"
        paths = generate(repo, args.n)
        floor_total, floor_each, stock_pages = floor(paths)
        clean, clean_result = knowrepo_build(repo)
        noop, noop_result = knowrepo_build(repo)
        assert noop_result["noop"], noop_result
        # An analyst's edit loop: one notebook edited and rebuilt, five times (a different one
        # each time; from the second on, staging recycles the version of two builds ago).
        ones, floors, indexes, colds, servers = [], [], [], [], []
        for step in range(5):
            changed = paths[len(paths) // 2 + step]
            nb = nbformat.read(changed, as_version=4)
            nb.cells[1].source += "\n\nOne more sentence."
            nbformat.write(nb, changed)
            one_total, one_result = knowrepo_build(repo)
            assert one_result["rendered"] == 1, one_result
            ones.append(one_total - one_result["index_seconds"])  # the search index is reported apart
            servers.append(one_result["render_server"])
            indexes.append(one_result["index_seconds"])
            floors.append(floor_each[changed] + 0.5)
            colds.append(cold_floor(changed))
        # The first edit finds no render server (it starts one); the next four use it.
        assert servers == ["started"] + ["used"] * 4, servers
        first, one = ones[0], statistics.median(ones[1:])
        target, cold = statistics.median(floors), statistics.median(colds)
        problems = content_check(repo, paths, stock_pages)
        rows = [
            {
                "benchmark": "build",
                "metric": f"clean build, {args.n} notebooks (s)",
                "value": clean,
                "baseline": floor_total,
                "ratio": clean / floor_total,
                "target": "<= 0.4 x floor",
            },
            {
                "benchmark": "build",
                "metric": f"no-op rebuild, {args.n} notebooks (s)",
                "value": noop,
                "baseline": None,
                "ratio": None,
                "target": "<= 0.5 s",
            },
            {
                "benchmark": "build",
                "metric": "one-changed rebuild, search index excluded, median of edits 2-5 (s)",
                "value": one,
                "baseline": target,
                "ratio": one / target,
                "target": "<= floor(one) + 0.5 s",
            },
            {
                "benchmark": "build",
                "metric": "one-changed rebuild, first edit: no render server yet (s)",
                "value": first,
                "baseline": target,
                "ratio": first / target,
                "target": "",
            },
            {
                "benchmark": "build",
                "metric": "one-changed vs stock nbconvert, fresh process (s)",
                "value": one,
                "baseline": cold,
                "ratio": one / cold,
                "target": "",
            },
            {
                "benchmark": "build",
                "metric": "one-changed rebuild: search index (s)",
                "value": statistics.median(indexes),
                "baseline": None,
                "ratio": None,
                "target": "reported apart",
            },
            {
                "benchmark": "build",
                "metric": "floor: stock basic exporter per notebook (ms)",
                "value": 1000 * floor_total / args.n,
                "baseline": None,
                "ratio": None,
                "target": "",
            },
            {
                "benchmark": "build",
                "metric": "pages missing stock outputs",
                "value": len(problems),
                "baseline": None,
                "ratio": None,
                "target": "0",
            },
        ]
        for problem in problems[:10]:
            print("content check:", problem, file=sys.stderr)
        emit(rows, args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
