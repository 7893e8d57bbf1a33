"""Live preview latency: in a 200-report repository served by `knowrepo serve`, the time from
saving a one-report edit to the updated page visible in Debian's chromium (Playwright), and in
the same run the time a one-report `knowrepo build` takes (the cold alternative).

Usage: python benchmarks/serve.py [--reports 200] [--edits 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from run import CHROMIUM_ARGS, emit

WORDS = [
    "revenue",
    "churn",
    "cohort",
    "region",
    "forecast",
    "margin",
    "pipeline",
    "retention",
    "segment",
    "uplift",
    "conversion",
    "funnel",
    "latency",
    "anomaly",
    "seasonality",
    "customer",
    "order",
    "warehouse",
    "dispatch",
    "experiment",
]


def generate(repo: Path, n: int) -> None:
    rng = random.Random(3)
    (repo / "reports").mkdir(parents=True)
    (repo / "knowrepo.toml").write_text('[site]\ntitle = "Serve bench"\n')
    for index in range(n):
        prose = "\n\n".join(" ".join(rng.choices(WORDS, k=120)).capitalize() + "." for _ in range(6))
        rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} |" for _ in range(6))
        (repo / "reports" / f"report-{index:03d}.md").write_text(
            f"---\ntitle: Report {index}\nauthors: [Analyst {index % 9}]\ntags: [{rng.choice(WORDS)}]\n"
            f"created: 2026-{1 + index % 12:02d}-{1 + index % 28:02d}\n---\n\n# Report {index}\n\n{prose}\n\n"
            f"## Table\n\n| word | count |\n|---|---|\n{rows}\n"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args, _ = parser.parse_known_args()
    work = Path(tempfile.mkdtemp(prefix="kr-bench-serve-"))
    proc = None
    try:
        repo = work / "repo"
        generate(repo, args.reports)
        # Baseline in the same run: a one-report edit rebuilt by a `knowrepo build` process.
        subprocess.run([sys.executable, "-m", "knowrepo", "-q", "build", str(repo)], check=True)
        target = repo / "reports/report-100.md"
        target.write_text(target.read_text() + "\nBuild edit.\n")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "knowrepo", "-q", "build", str(repo)], check=True)
        cold = time.perf_counter() - start

        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "knowrepo", "serve", str(repo), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "__knowrepo/status") as response:
                    if json.loads(response.read())["builds"] >= 1:
                        break
            except OSError:
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        latencies = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(base + "report-100/")
            page.wait_for_timeout(500)  # the live-reload connection is open
            for n in range(args.edits):
                marker = f"Edited sentence number {n}."
                text = target.read_text()
                start = time.perf_counter()
                target.write_text(text + f"\n{marker}\n")
                page.wait_for_function("m => document.body.innerText.includes(m)", arg=marker, timeout=60_000)
                latencies.append(time.perf_counter() - start)
                page.wait_for_timeout(700)  # let the search index catch up before the next edit
            browser.close()
        latencies.sort()
        median = latencies[len(latencies) // 2]
        rows = [
            {
                "benchmark": "serve",
                "metric": f"save to updated page, {args.reports} reports, median of {args.edits} (s)",
                "value": median,
                "baseline": cold,
                "ratio": cold / median,
                "target": "<= 1 s (baseline: a knowrepo build process for the same edit)",
            },
            {
                "benchmark": "serve",
                "metric": "save to updated page, worst (s)",
                "value": latencies[-1],
                "baseline": None,
                "ratio": None,
                "target": "",
            },
        ]
        emit(rows, args.json)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
