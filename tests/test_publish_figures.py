"""Figures that read right (issue 27), on real kernels: units and formats on the card, history,
compare and email; the card names its variant; a trend follows the periods runs cover; compare
names runs by what tells them apart, shows B − A, and skips cells with no output."""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import run_knowrepo, serving, write_notebook

NBSP = "\u00a0"
FIGURES = """from knowrepo import record
churn = {"2026-09": 0.1021, "2026-10": 0.1050, "2026-11": 0.1093}[month]
revenue = {"2026-09": 380000, "2026-10": 395500, "2026-11": 410040}[month]
record("churn_rate", churn, format=".1%")
record("revenue", revenue, unit="EUR", format=",.0f")
record("bad_format", 3, format=".1q")
record("long_unit", 2, unit="x" * 30)
record("orders", {"2026-09": 4100, "2026-10": 4250, "2026-11": 4400}[month])  # no style: plain"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report with one variant, run for November, October, September and November again
    (a backfill); each run then says the period it covers, as its front matter would."""
    root = tmp_path_factory.mktemp("figures") / "kb"
    root.mkdir()
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Figures"\n[execute]\ntimeout = 60\n')
    cells = [
        ("code", 'month = "2026-11"\nregion = "EU"', ["parameters"]),
        ("code", FIGURES),
        ("code", "unused = 1"),  # no output in any run
        ("code", "print(region, month)"),
    ]
    write_notebook(root / "reports/sales.ipynb", cells, front="title: Sales\nvariants: {eu: {region: EU}}")
    for month in ("2026-11", "2026-10", "2026-09", "2026-11"):
        proc = run_knowrepo("-C", str(root), "run", "sales", "-p", f"month={month}", "--force")
        if not (root / "warnings.txt").exists():
            (root / "warnings.txt").write_text(proc.stderr + proc.stdout)
        record_path = sorted((root / "runs/sales/eu").iterdir())[-1] / "run.json"
        record = json.loads(record_path.read_text())
        record_path.write_text(json.dumps({**record, "period": month}))
    run_knowrepo("build", str(root), "--execute", "never")
    return root


def _soup(repo: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((repo / "_site" / page).read_text(), "html.parser")


def test_the_card_shows_units_formats_and_its_variant(repo: Path):
    card = _soup(repo, "index.html").select_one("article.card")
    tiles = [li.get_text(" ", strip=True) for li in card.select(".metrics li")]
    assert tiles[:3] == ["Variant eu", "churn rate 10.9%", f"revenue 410,040{NBSP}EUR"]
    latest = _soup(repo, "sales/index.html")
    shown = [li.get_text(" ", strip=True) for li in latest.select(".run-info .metrics li")]
    assert "churn rate 10.9%" in shown and "bad format 3" in shown and "long unit 2" in shown


def test_E260_E261_a_style_that_does_not_fit_is_one_line_and_the_value_shows_plainly(repo: Path):
    lines = (repo / "warnings.txt").read_text().splitlines()
    bad = [line for line in lines if "bad_format" in line or "long_unit" in line]
    assert bad == [
        "warning: reports/sales.ipynb [eu]: cell 2: figure 'bad_format': format '.1q' is not a Python "
        "format spec (such as ',.0f' or '.1%'); shown plainly",
        "warning: reports/sales.ipynb [eu]: cell 2: figure 'long_unit': unit "
        f"'{'x' * 30}' is not text of at most 16 characters; shown plainly",
    ]
    stored = json.loads(next((repo / "runs/sales/eu").glob("*/run.json")).read_text())
    styles = {"churn_rate": {"format": ".1%"}, "revenue": {"unit": "EUR", "format": ",.0f"}}
    assert stored["metric_styles"] == styles  # (the two that do not fit are not kept)


def test_history_rows_show_figures_and_the_trend_follows_the_periods(repo: Path):
    history = _soup(repo, "sales/runs/index.html")
    heads = [th.get_text(strip=True) for th in history.select("#history thead th")]
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in history.select("#history tbody tr")]
    churn, revenue = heads.index("churn rate"), heads.index("revenue")
    assert [(r[churn], r[revenue]) for r in rows] == [
        ("10.9%", f"410,040{NBSP}EUR"), ("10.2%", f"380,000{NBSP}EUR"),
        ("10.5%", f"395,500{NBSP}EUR"), ("10.9%", f"410,040{NBSP}EUR"),
    ]  # fmt: skip
    trends = {tr.select("td")[1].get_text(): tr for tr in history.select(".trend-table tbody tr")}
    assert trends["revenue"].select("td")[2].get_text() == f"410,040{NBSP}EUR"
    line = trends["revenue"].select_one("polyline")["points"]
    heights = [float(point.split(",")[1]) for point in line.split()]
    assert heights == sorted(heights, reverse=True) and len(heights) == 3  # 09, 10, 11 rising: no zigzag


def test_compare_labels_runs_shows_b_minus_a_and_skips_empty_cells(repo: Path, page):
    runs = sorted((repo / "runs/sales/eu").iterdir())
    october, last = runs[1].name, runs[3].name
    compare = _soup(repo, "sales/compare/index.html")
    labels = [o.get_text() for o in compare.select("#run-a option")]
    assert len(labels) == 4 and all(re.search(r"· eu · by hand · month=2026-(09|10|11)", t) for t in labels)
    history = _soup(repo, "sales/runs/index.html")
    pairs = [re.search(r"\?a=(.+)&b=(.+)", a["href"]).groups() for a in history.select("a[href*='compare/']")]
    assert len(pairs) == 4 and all(a < b for a, b in pairs)  # the older run is A: B − A reads forward
    assert (
        compare.select_one("#run-a option[selected]")["value"]
        < compare.select_one("#run-b option[selected]")["value"]
    )
    with serving(repo / "_site") as url:
        page.goto(f"{url}sales/compare/?a={october}&b={last}")
        page.wait_for_selector(".compare-row")
        figures = {
            row.query_selector("th").inner_text(): [td.inner_text() for td in row.query_selector_all("td")]
            for row in page.query_selector_all("#compare-metrics tr")[1:]
        }
        assert page.inner_text("#compare-metrics tr >> nth=0").split("\t")[-1] == "Change (B \u2212 A)"
        assert figures["revenue"] == [f"395,500{NBSP}EUR", f"410,040{NBSP}EUR", f"+14,540{NBSP}EUR (+3.7%)"]
        assert figures["churn rate"] == ["10.5%", "10.9%", "+0.4 pp (+4.1%)"]
        assert figures["bad format"] == ["3", "3", "same"]
        assert figures["orders"] == ["4,250", "4,400", "+150 (+3.5%)"]  # an integer changes by an integer
        cells = [t.inner_text() for t in page.query_selector_all(".compare-cell-title")]
        assert cells == ["Cell 2", "Cell 4"]  # the injected parameters and `unused = 1`: no output in either


def test_the_email_and_its_pdf_write_figures_with_their_style(repo: Path, tmp_path: Path):
    out = tmp_path / "out"
    run_knowrepo("email", "sales", "--to", "a@example.com", "--dry-run", "-o", str(out), cwd=repo)
    (eml,) = out.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    plain = message.get_body(("plain",)).get_content()
    assert "  churn rate: 10.9%\n" in plain and f"  revenue: 410,040{NBSP}EUR\n" in plain
    assert f"410,040{NBSP}EUR</td>" in message.get_body(("html",)).get_content()
    (attachment,) = [part for part in message.iter_attachments()]
    pdf = tmp_path / "sales.pdf"
    pdf.write_bytes(attachment.get_content())
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    figures = text.replace(NBSP, " ")
    assert "churn rate 10.9%\nrevenue 410,040 EUR\n" in figures  # (the notebook's code holds 0.1093)
