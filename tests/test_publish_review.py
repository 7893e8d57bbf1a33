"""Defects found reviewing issue 27 (publishing control), end to end: E280-E289 of
docs/errors.md. Real kernels, real builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import run_knowrepo, write_notebook


def records(root: Path, variant: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / f"runs/sales/{variant}").glob("*/run.json"))]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of two variants: EU run and published, US tried only as a scratch run."""
    root = tmp_path_factory.mktemp("review") / "repo"
    (root / "reports").mkdir(parents=True)
    (root / "knowrepo.toml").write_text('[site]\ntitle = "Review"\n')
    write_notebook(
        root / "reports/sales.ipynb",
        [("code", 'region = "x"', ["parameters"]), ("code", "print('sales of', region)")],
        front="title: Sales\nvariants:\n  eu: {region: EU}\n  us: {region: US}",
    )
    run_knowrepo("-C", str(root), "run", str(root / "reports/sales.ipynb"), "--variant", "eu", cwd=root)
    run_knowrepo("run", "sales", "--variant", "us", "--scratch", cwd=root)
    run_knowrepo("build", "--execute", "never", cwd=root)
    return root


def test_E282_a_variant_tried_only_as_a_scratch_run_has_no_dead_link(repo: Path):
    (scratch,) = records(repo, "us")
    site = repo / "_site"
    history = BeautifulSoup((site / "sales/runs/index.html").read_text(), "html.parser")
    for link in history.select("table.history a"):
        target = (site / "sales/runs" / link["href"].partition("?")[0]).resolve()
        assert (target if target.suffix else target / "index.html").exists(), link["href"]
    assert history.select_one(f'a[href="{scratch["id"]}/"]') is not None  # (kept in the history)
    page = BeautifulSoup((site / f"sales/runs/{scratch['id']}/index.html").read_text(), "html.parser")
    assert "sales of US" in page.get_text() and page.select_one(".scratch-badge") is not None
    assert not (site / "sales/v/us").exists()  # (never published)


def test_E280_the_command_a_run_page_shows_names_no_folder_of_the_machine(repo: Path):
    (run,) = records(repo, "eu")
    assert run["origin"]["command"] == "knowrepo -C . run reports/sales.ipynb --variant eu"
    page = (repo / f"_site/sales/runs/{run['id']}/index.html").read_text()
    assert "knowrepo -C . run reports/sales.ipynb --variant eu" in page and str(repo) not in page
