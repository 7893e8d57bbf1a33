"""PDF speed: 50 example-like reports to PDF with WeasyPrint in one process, against the same
HTML printed by one `chromium --headless --print-to-pdf` process per report (what a script or
Jupyter Book's pdfhtml does) and by one warm Playwright browser (`page.pdf`).

Usage: python benchmarks/pdf.py [--reports 50] [--json]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import CHROMIUM_ARGS, emit

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from knowrepo.exports.pdf import PdfJob  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


_INLINE = '<style id="print-css">{}</style>'


def job_of(path: Path) -> PdfJob:
    """The PdfJob a build makes of a document: the theme's stylesheet beside it, not in it."""
    html = path.read_text()
    start = html.index('<style id="print-css">')
    end = html.index("</style>", start)
    stylesheet = html[start + len('<style id="print-css">') : end]
    return PdfJob(
        path.stem,
        path.name,
        html[:start] + html[end + 8 :],
        str(path.parent),
        (str(path.parent),),
        stylesheet,
    )


def documents(work: Path, count: int) -> list[Path]:
    """Print documents of the example repository's reports (built for real), cycled to count."""
    repo = work / "repo"
    repo.mkdir()
    shutil.copytree(PROJECT / "reports", repo / "reports")
    shutil.copy(PROJECT / "knowrepo.toml", repo / "knowrepo.toml")
    subprocess.run([sys.executable, "-m", "knowrepo", "-q", "build", str(repo)], check=True)
    from knowrepo.exports.bodies import exports_for
    from knowrepo.exports.pdf import print_html
    from knowrepo.loader import load_registry
    from knowrepo.pipeline.assemble.theme import make_environment, theme_dirs, theme_files
    from knowrepo.support.progress import LineReporter

    views = []
    for slug in (
        "product/churn-analysis",
        "sales/monthly-revenue",
        "ops/warehouse-delays",
        "science/checkout-ab-test",
        "guides/metric-definitions",
        "notes/q3-planning-notes",
    ):
        config, exports = exports_for(repo, slug, None, (), LineReporter(0), load_registry)
        views += exports
    dirs = theme_dirs(repo, config.site.theme)
    stylesheet = theme_files(dirs)["static/print.css"].read_text()
    env = make_environment(dirs, load_registry())
    paths = []
    for index in range(count):
        item = views[index % len(views)]
        html = print_html(
            env,
            config,
            item.report,
            item.body,
            item.run,
            item.variant,
            config.state_dir / "cache" / "assets",
            item.slug_by_source,
            load_registry().page_passes(),
        )
        html = html.replace(item.report.meta.title, f"{item.report.meta.title} #{index}", 1)
        path = work / f"doc-{index:02d}.html"  # (a browser's copy: the stylesheet inline)
        path.write_text(html.replace("</head>", f"{_INLINE.format(stylesheet)}</head>", 1))
        paths.append(path)
    return paths


def weasyprint_all(paths: list[Path], out: Path) -> float:
    from knowrepo.exports.pdf import render_pdf

    render_pdf(PdfJob("warm", "warm", "<p>warm</p>", str(out)))  # imports and fonts: once a process
    jobs = [job_of(path) for path in paths]
    start = time.perf_counter()
    for job in jobs:
        data = render_pdf(job)
        (out / f"{job.key}.pdf").write_bytes(data)
    return time.perf_counter() - start


def weasyprint_pool(paths: list[Path], out: Path) -> float:
    """As `knowrepo build --pdf` lays PDFs out: a worker process per core (started, and
    WeasyPrint imported in each, inside the timing: the build pays that too)."""
    import os

    from knowrepo.exports.pdf import lay_out
    from knowrepo.support.pool import run_parallel

    jobs = [job_of(path) for path in paths]

    def done(job: PdfJob, result: tuple) -> None:
        (out / f"{job.key}.pdf").write_bytes(result[0])

    start = time.perf_counter()
    run_parallel(lay_out, jobs, os.cpu_count() or 1, done)
    return time.perf_counter() - start


def weasyprint_fonttools(paths: list[Path], out: Path) -> float:
    """The same, subsetting fonts with fontTools: what WeasyPrint falls back to without
    Debian's libharfbuzz-subset0 (printing a warning per font per PDF)."""
    import logging

    import weasyprint.pdf.fonts as fonts

    kept, fonts.harfbuzz_subset = fonts.harfbuzz_subset, None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    try:
        return weasyprint_all(paths, out)
    finally:
        fonts.harfbuzz_subset = kept


def chromium_per_report(paths: list[Path], out: Path) -> float:
    start = time.perf_counter()
    for path in paths:
        subprocess.run(
            [
                CHROMIUM,
                *CHROMIUM_ARGS,
                f"--user-data-dir={out / 'profile'}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={out / path.stem}.pdf",
                path.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - start


def playwright_warm(paths: list[Path], out: Path) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(paths[0].as_uri())
        page.pdf()  # warm
        start = time.perf_counter()
        for path in paths:
            page.goto(path.as_uri())
            page.pdf(path=str(out / f"{path.stem}.pdf"), prefer_css_page_size=True)
        seconds = time.perf_counter() - start
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args, _ = parser.parse_known_args()
    work = Path(tempfile.mkdtemp(prefix="kr-bench-pdf-"))
    try:
        paths = documents(work, args.reports)
        outs = {name: work / name for name in ("weasy", "pool", "fonttools", "chromium", "playwright")}
        for folder in outs.values():
            folder.mkdir()
        ours = weasyprint_all(paths, outs["weasy"])
        pooled = weasyprint_pool(paths, outs["pool"])
        fonttools = weasyprint_fonttools(paths, outs["fonttools"])
        per_process = chromium_per_report(paths, outs["chromium"])
        warm = playwright_warm(paths, outs["playwright"])
        n = len(paths)
        rows = [
            {
                "benchmark": "pdf",
                "metric": f"{n} reports, knowrepo (WeasyPrint, one process) (s)",
                "value": ours,
                "baseline": per_process,
                "ratio": per_process / ours,
                "target": ">= 2x faster than chromium per report (ratio = baseline/knowrepo)",
            },
            {
                "benchmark": "pdf",
                "metric": f"{n} reports vs one warm Playwright browser (s)",
                "value": ours,
                "baseline": warm,
                "ratio": warm / ours,
                "target": ">= 1x: no slower than a warm browser (ratio = baseline/knowrepo)",
            },
            {
                "benchmark": "pdf",
                "metric": f"{n} reports, knowrepo with a worker per core (as a build) vs warm Playwright (s)",
                "value": pooled,
                "baseline": warm,
                "ratio": warm / pooled,
                "target": ">= 1x (ratio = baseline/knowrepo)",
            },
            {
                "benchmark": "pdf",
                "metric": f"{n} reports, fonts subset by HarfBuzz (s)",
                "value": ours,
                "baseline": fonttools,
                "ratio": fonttools / ours,
                "target": "baseline: fontTools, without libharfbuzz-subset0",
            },
            {
                "benchmark": "pdf",
                "metric": "PDF bytes, HarfBuzz / fontTools subsetting",
                "value": sum(p.stat().st_size for p in outs["weasy"].glob("*.pdf")),
                "baseline": sum(p.stat().st_size for p in outs["fonttools"].glob("*.pdf")),
                "ratio": None,
                "target": "",
            },
            {
                "benchmark": "pdf",
                "metric": "knowrepo per report (ms)",
                "value": 1000 * ours / n,
                "baseline": None,
                "ratio": None,
                "target": "",
            },
        ]
        emit(rows, args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
