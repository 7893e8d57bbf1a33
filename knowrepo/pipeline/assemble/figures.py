"""What the run history and the compare page say of runs' figures: the order a trend follows
(the periods runs cover, not when they ran), how a run is named among others, and how a
change of a figure is written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from knowrepo.model import Run
from knowrepo.pipeline.assemble.provenance import origin_kind, origin_label
from knowrepo.support.figures import change_rule, figure_label
from knowrepo.support.numbers import clip


def trend_runs(runs: list[Run]) -> list[Run]:
    """The successful runs a trend draws, oldest first: runs that say their period in period
    order, one per period (its newest run: a backfill of 11, 10, 09, 11 reads 09, 10, 11);
    runs that do not say theirs before them, in the order they ran; never a scratch run (what
    nobody chose to publish). `runs` oldest first."""
    ok = [r for r in runs if r.ok and not r.scratch]
    newest = {r.period: r for r in ok if r.period}  # (later runs of a period replace earlier ones)
    return [r for r in ok if not r.period] + [newest[p] for p in sorted(newest)]


def differing_params(runs: list[Run]) -> list[str]:
    """The parameters whose values differ among runs of one variant (a missing one counts):
    those the variant's name does not already tell (region=EU beside "eu")."""
    by_variant: dict[str, list[Run]] = {}
    for run in runs:
        by_variant.setdefault(run.variant, []).append(run)
    names = dict.fromkeys(name for run in runs for name in run.params)
    return [n for n in names if any(_differs(n, group) for group in by_variant.values())]


def _differs(name: str, runs: list[Run]) -> bool:
    return len({repr(run.params.get(name, ...)) for run in runs}) > 1


def run_label(run: Run, params: list[str]) -> str:
    """A run as a picker lists it: "7 Dec 2026 00:42 · eu · by hand · month=2026-09", with the
    parameters `params` (those that tell it from the others)."""
    parts = [_when(run.started), run.variant]
    parts += [origin_label(origin_kind(run.origin)), "scratch" if run.scratch else ""]
    parts += [f"{clip(n, 40)}={clip(run.params[n], 40)}" for n in params if n in run.params]
    parts += [] if run.ok else ["failed"]
    return " · ".join(p for p in parts if p)


def _when(started: str) -> str:
    """An ISO UTC time as "7 Dec 2026 00:42" (as it is if it is not one)."""
    try:
        moment = dt.datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return started[:16].replace("T", " ")
    return f"{moment.day} {moment:%b %Y %H:%M}"


def figure_rules(run: Run) -> dict[str, dict[str, Any]]:
    """For compare.js: each figure's label and how its change is written (support/figures)."""
    return {
        clip(name): {"label": clip(figure_label(name)), **change_rule(value, run.metric_styles.get(name))}
        for name, value in run.metrics.items()
    }
