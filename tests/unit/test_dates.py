"""The date a page or card shows and how a run's period reads (pipeline/dates.py)."""

from __future__ import annotations

import pytest

from knowrepo.model import Meta, Report, Run
from knowrepo.pipeline.dates import page_dated, period_label
from knowrepo.pipeline.discover import report_date
from knowrepo.pipeline.execute.codechange import ran_code
from knowrepo.pipeline.execute.run import code_hash
from knowrepo.pipeline.manifest import SourceRecord


@pytest.mark.parametrize(
    ("period", "shown"),
    [
        ("2026-11", "November 2026"),
        ("2026-01", "January 2026"),
        ("2026-11-02", "2 Nov 2026"),
        ("2026-Q3", "Q3 2026"),
        ("2026", "2026"),
        ("2026-13", "2026-13"),  # no such month: as written
        ("2026-02-30", "2026-02-30"),
        ("2026-Q5", "2026-Q5"),
        ("fiscal 26", "fiscal 26"),
        ("<b>x</b>", "<b>x</b>"),  # (the template escapes it)
        ("", ""),
    ],
)
def test_a_period_reads_as_people_write_it(period: str, shown: str):
    assert period_label(period) == shown


def test_a_page_is_dated_by_the_run_it_shows_else_by_its_source():
    report = Report("m", "reports/m.md", "markdown", Meta(), "h", "2026-06-02", "created")
    run = Run(
        None, "id", "m", "default", "reports/m.ipynb", "ok", started="2026-12-07T00:42:00Z", period="2026-11"
    )
    assert page_dated(report, run) == {"word": "Run", "date": "2026-12-07", "period": "2026-11"}
    assert page_dated(report, None) == {"word": "Created", "date": "2026-06-02", "period": ""}
    committed = Report("m", "reports/m.md", "markdown", Meta(), "h", "2026-12-03", "commit")
    assert page_dated(committed, None)["word"] == "Updated"


def test_a_source_is_dated_by_updated_then_its_last_commit_then_created_then_mtime():
    record = SourceRecord([0, 0], "h", mtime_date="2026-12-06", git_date="2026-12-03")
    assert report_date(Meta(updated="2026-12-01", created="2026-01-01"), record) == ("2026-12-01", "updated")
    assert report_date(Meta(created="2026-01-01"), record) == ("2026-12-03", "commit")
    record.git_date = ""
    assert report_date(Meta(created="2026-01-01"), record) == ("2026-01-01", "created")
    assert report_date(Meta(), record) == ("2026-12-06", "modified")


def test_the_code_a_run_ran_is_the_source_code_without_papermills_cell():
    source = {"cells": [{"cell_type": "markdown", "source": "# A"}, {"cell_type": "code", "source": "x = 1"}]}
    injected = {"cell_type": "code", "source": "x = 2", "metadata": {"tags": ["injected-parameters"]}}
    ran = {"cells": [injected, *source["cells"]]}
    assert ran_code(ran) == code_hash(source)
    edited = {"cells": [{"cell_type": "markdown", "source": "# B"}, {"cell_type": "code", "source": "x = 1"}]}
    assert ran_code(ran) == code_hash(edited)  # prose is no code
    assert ran_code(ran) != code_hash({"cells": [{"cell_type": "code", "source": "x = 3"}]})
