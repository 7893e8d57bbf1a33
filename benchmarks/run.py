"""Run every benchmark script in this folder and print one table of figures and ratios.

Each script prints, with --json, a list of rows: benchmark, metric, value, baseline, ratio,
target. Ratios are against a baseline measured in the same run (the machine is shared and noisy).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
# Debian's chromium as the benchmarks launch it (no sandbox as root; no background traffic).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def print_table(rows: list[dict]) -> None:
    headers = ["benchmark", "metric", "value", "baseline", "ratio", "target"]
    table = [[_fmt(row.get(h)) for h in headers] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def emit(rows: list[dict], as_json: bool) -> None:
    """A benchmark's result: one JSON line for run.py, or a table for a person."""
    if as_json:
        print(json.dumps(rows))
    else:
        print_table(rows)


def main() -> None:
    rows: list[dict] = []
    for script in sorted(HERE.glob("*.py")):
        if script.name == "run.py":
            continue
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run(
            [sys.executable, str(script), "--json", *sys.argv[1:]], capture_output=True, text=True, cwd=HERE
        )
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            rows.append({"benchmark": script.stem, "metric": "FAILED", "value": proc.returncode})
            continue
        rows.extend(json.loads(proc.stdout.strip().splitlines()[-1]))
    print_table(rows)


if __name__ == "__main__":
    main()
