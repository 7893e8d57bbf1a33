"""A report's run history (every run, newest first, a page per HISTORY_PAGE_RUNS, with
sparklines of its metrics) and its compare page (two runs side by side)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from knowrepo.model import Report, Run
from knowrepo.pipeline.assemble.figures import differing_params, figure_rules, run_label, trend_runs
from knowrepo.pipeline.assemble.links import rel
from knowrepo.pipeline.assemble.listings import SiteContext
from knowrepo.pipeline.assemble.provenance import origin_choices, provenance, run_linker
from knowrepo.pipeline.assemble.sparkline import sparkline
from knowrepo.support.figures import show_figure
from knowrepo.support.numbers import bounded_map

if TYPE_CHECKING:
    from jinja2 import Environment
    from markupsafe import Markup

    from knowrepo.pipeline.execute.plan import ReportPlan, VariantPlan


def shown_of(variant: VariantPlan) -> Run:
    """The run a variant's page shows: ReportPages makes run pages only for variants with one."""
    run = variant.shown
    assert run is not None
    return run


def latest_of(variant: VariantPlan) -> Run:
    """A variant's latest run (one with a run to show has one)."""
    run = variant.latest
    assert run is not None
    return run


HISTORY_PAGE_RUNS = 100  # rows on a page of the run history: 3,000 runs make 30 pages, not 1.5 MB


def history_path(slug: str, number: int) -> str:
    """Page `number` (from 1, the newest runs) of a report's run history."""
    return f"{slug}/runs/index.html" if number == 1 else f"{slug}/runs/page/{number}/index.html"


def history_pages(
    env: Environment,
    ctx: SiteContext,
    report: Report,
    plan: ReportPlan,
    notebooks: dict[str, tuple[str, bool]],
) -> list[tuple[str, bytes]]:
    """Every run of every variant, newest first, HISTORY_PAGE_RUNS to a page: parameters,
    status, timing, metrics; the first page draws sparklines of the metrics over all runs.
    `notebooks`: where each run's notebook download is published (ReportPages.notebooks)."""
    runs = sorted((r for v in plan.variants for r in v.runs), key=lambda r: r.id, reverse=True)
    chunks = [runs[i : i + HISTORY_PAGE_RUNS] for i in range(0, len(runs), HISTORY_PAGE_RUNS)] or [[]]
    published = {v.shown.id for v in plan.variants if v.shown is not None}
    pages = []
    for number, chunk in enumerate(chunks, 1):
        path = history_path(report.slug, number)
        rows = _history_rows(path, report, plan, chunk, published, notebooks)
        page = env.get_template("history.html").render(
            **ctx.common(path),
            title=f"Run history: {report.meta.title}" + (f" (page {number})" if number > 1 else ""),
            report=report,
            meta=report.meta,
            rows=rows,
            total=len(runs),
            first=(number - 1) * HISTORY_PAGE_RUNS + 1,
            param_names=list(dict.fromkeys(name for run in chunk for name in run.params)),
            metric_names=list(dict.fromkeys(name for run in chunk for name in run.metrics)),
            trends=_trends(plan) if number == 1 else [],
            pager=_pager(report.slug, path, number, len(chunks)),
            origins=origin_choices(runs),
            latest_href=rel(path, f"{report.slug}/"),
        )
        pages.append((path, page.encode()))
    return pages


def _history_rows(
    path: str, report: Report, plan: ReportPlan, runs: list[Run], published: set[str],
    notebooks: dict[str, tuple[str, bool]],
) -> list[dict[str, Any]]:  # fmt: skip
    """A history page's rows: each run, its links (page, compare, notebook download)."""
    default_a, default_b = default_pair(plan)
    pinned = {v.pinned for v in plan.variants if v.pinned}  # (knowrepo publish: marked "pinned")
    href_of = run_linker(path, report.slug, frozenset(r.id for v in plan.variants for r in v.runs))
    rows = []
    for run in runs:
        row = {
            "run": run,
            "published": run.id in published,
            "pinned": run.id in pinned,
            "compare": rel(path, f"{report.slug}/compare/")
            + "?a={}&b={}".format(*sorted((default_a, run.id if run.id != default_a else default_b))),
            "href": rel(path, f"{report.slug}/runs/{run.id}/"),
            "notebook": "",
            "assemble": False,
            "provenance": provenance(run, href_of),
        }
        download, lean = notebooks.get(f"{report.slug}/runs/{run.id}/notebook.ipynb", ("", False))
        if run.has_notebook and download:
            row["notebook"], row["assemble"] = rel(path, download), lean
        rows.append(row)
    return rows


def _trends(plan: ReportPlan) -> list[dict[str, Any]]:
    """A sparkline per variant and numeric metric, over its successful runs in the order of
    the periods they cover (figures.trend_runs)."""
    from markupsafe import Markup  # (jinja2's: where pages are assembled)

    names = list(dict.fromkeys(name for v in plan.variants for run in v.runs for name in run.metrics))
    trends = []
    for variant in plan.variants:
        for name in names:
            runs = [r for r in trend_runs(variant.runs) if _is_number(r.metrics.get(name))]
            numbers = [r.metrics[name] for r in runs]
            if numbers:
                trends.append(
                    {
                        "variant": variant.name,
                        "metric": name,
                        "latest": numbers[-1],
                        "style": runs[-1].metric_styles.get(name),
                        "count": len(numbers),
                        "svg": Markup(sparkline(numbers)),
                    }
                )
    return trends


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _pager(slug: str, path: str, number: int, count: int) -> dict[str, Any] | None:
    """Links to the other pages of a run history: newer, older, and the page numbers (the
    first, the last and those near this one; None marks a gap)."""
    if count == 1:
        return None

    def href(n: int) -> str:
        return rel(path, history_path(slug, n).removesuffix("index.html"))

    near = sorted({1, count, *range(max(1, number - 2), min(count, number + 2) + 1)})
    pages: list[dict[str, Any] | None] = []
    for n in near:
        if pages and pages[-1] is not None and n > pages[-1]["number"] + 1:
            pages.append(None)
        pages.append({"number": n, "href": href(n), "current": n == number})
    return {
        "newer": href(number - 1) if number > 1 else "",
        "older": href(number + 1) if number < count else "",
        "pages": pages,
        "number": number,
        "count": count,
    }


def default_pair(plan: ReportPlan) -> tuple[str, str]:
    """The runs a compare page starts with: the published run of the first variant and the one
    before it (of that variant, else any; never a scratch run)."""
    variant = next((v for v in plan.variants if v.shown is not None), plan.variants[0])
    a = variant.shown or latest_of(variant)
    before = (
        [r for r in variant.runs if r.id < a.id and not r.scratch]
        or [r for v in plan.variants for r in v.runs if r.id != a.id and not r.scratch]
        or [a]
    )
    return a.id, max(before, key=lambda r: r.id).id


def compare_page(env: Environment, ctx: SiteContext, report: Report, plan: ReportPlan, path: str) -> bytes:
    """Two runs side by side (picked on the page; static: the outputs come from the runs' pages).
    Its pickers list the newest HISTORY_PAGE_RUNS runs and the two it starts with; compare.js
    reads any other run a link names (?b=) from that run's own page."""
    a, b = sorted(default_pair(plan))  # (the older first: the change B − A reads forward in time)
    runs = sorted((r for v in plan.variants for r in v.runs), key=lambda r: r.id, reverse=True)
    runs = [r for i, r in enumerate(runs) if i < HISTORY_PAGE_RUNS or r.id in (a, b)]
    differing = differing_params(runs)
    data = [run_data(r, differing) for r in runs]
    page = env.get_template("compare.html").render(
        **ctx.common(path), title=f"Compare runs: {report.meta.title}", report=report, meta=report.meta,
        runs=runs, runs_json=script_json(data), default_a=a, default_b=b,
        published={v.shown.id for v in plan.variants if v.shown is not None},
        labels={d["id"]: d["label"] for d in data},
        latest_href=rel(path, f"{report.slug}/"), history_href=rel(path, f"{report.slug}/runs/"),
    )  # fmt: skip
    return page.encode()


def run_data(run: Run, differing: list[str] | None = None) -> dict[str, Any]:
    """What the compare page knows of a run (its parameters and figures, their text cut; its
    label names the parameters `differing`, else those it overrode)."""
    shown = {
        name: show_figure(value, style=run.metric_styles.get(name)) for name, value in run.metrics.items()
    }
    return {"id": run.id, "variant": run.variant, "started": run.started, "ok": run.ok,
            "params": bounded_map(run.params), "metrics": bounded_map(run.metrics),
            "label": run_label(run, differing if differing is not None else _overridden(run)),
            "shown": bounded_map(shown), "rules": figure_rules(run)}  # fmt: skip


def _overridden(run: Run) -> list[str]:
    """The parameters a run was given beyond the front matter's (-p month=2026-09)."""
    return list(run.overrides)


def script_json(data: object) -> Markup:
    """`data` as JSON for a <script type="application/json"> (nothing in it can end the element)."""
    from markupsafe import Markup  # (jinja2's: where pages are assembled)

    return Markup(json.dumps(data, default=str).replace("<", "\\u003c"))
