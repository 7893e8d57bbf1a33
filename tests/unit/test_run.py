"""pipeline/execute/run.py, its pure parts: what a run records of its notebook, and the files it
declares it reads (E47, E48, E151 of docs/errors.md). Runs themselves (real kernels) are in
the end-to-end tier."""

from __future__ import annotations

from pathlib import Path

from knowrepo import METRIC_MIME
from knowrepo.pipeline.execute.run import (
    cache_key,
    code_cells,
    first_error,
    input_files,
    metrics_of,
    unmatched_inputs,
)
from unit.helpers import error_line

NB = {
    "cells": [
        {"cell_type": "markdown", "source": "# T"},
        {
            "cell_type": "code",
            "source": ["x = 1\n", "x"],
            "outputs": [
                {"output_type": "display_data", "data": {METRIC_MIME: {"name": "rows", "value": 42}}},
                {
                    "output_type": "display_data",
                    "data": {"application/scrapbook.scrap.json+json": {"name": "rate", "data": 0.5}},
                },
            ],
        },
        {
            "cell_type": "code",
            "source": "1/0",
            "outputs": [
                {
                    "output_type": "error",
                    "ename": "ZeroDivisionError",
                    "evalue": "division by zero",
                    "traceback": ["\x1b[31mTraceback\x1b[0m", "line"],
                },
            ],
        },
    ]
}


def test_what_a_run_records_of_its_notebook():
    assert code_cells(NB) == ["x = 1\nx", "1/0"]
    assert metrics_of(NB) == {"rows": 42, "rate": 0.5}
    assert first_error(NB) == {
        "cell": 3,  # (every cell of the author's notebook counts, as in knowrepo's other messages)
        "ename": "ZeroDivisionError",
        "evalue": "division by zero",
        "traceback": "Traceback\nline",
    }
    assert first_error({"cells": NB["cells"][:2]}) is None


def test_the_cache_key_changes_with_code_params_kernel_and_input_content(tmp_path: Path):
    (tmp_path / "data.csv").write_text("a\n")
    key = cache_key("x", {"n": 1}, "python3", tmp_path, ["data.csv"])
    assert key == cache_key("x", {"n": 1}, "python3", tmp_path, ["data.csv"])
    others = [("y", {"n": 1}, "python3"), ("x", {"n": 2}, "python3"), ("x", {"n": 1}, "ir")]
    keys = {cache_key(code, params, kernel, tmp_path, ["data.csv"]) for code, params, kernel in others}
    assert len(keys | {key}) == 4
    (tmp_path / "data.csv").write_text("b\n")
    assert cache_key("x", {"n": 1}, "python3", tmp_path, ["data.csv"]) != key


def test_declared_inputs_are_the_files_their_globs_match(tmp_path: Path):
    (tmp_path / "reports/data").mkdir(parents=True)
    for name in ("a.csv", "b.csv", "c.txt"):
        (tmp_path / "reports/data" / name).write_text("x")
    assert input_files(tmp_path, "reports/r.ipynb", ("data/*.csv",)) == [
        "reports/data/a.csv",
        "reports/data/b.csv",
    ]
    assert [
        str(e) for e in unmatched_inputs(tmp_path, "reports/r.ipynb", ("data/*.csv", "data/*.parquet"))
    ] == ["reports/r.ipynb: inputs glob 'data/*.parquet' matches no file"]


def test_E47_E48_an_inputs_glob_may_not_reach_outside(tmp_path: Path):
    root = tmp_path / "repo"
    (root / "reports").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/secret.md").write_text("x")
    assert error_line(input_files, root, "reports/r.ipynb", ("../../outside/*",)) == (
        f"reports/r.ipynb: inputs glob '../../outside/*' matches secret.md, which leads outside the"
        f" repository"
        f" (to {tmp_path / 'outside/secret.md'})"
    )
    assert error_line(input_files, root, "reports/r.ipynb", ("/etc/*",)) == (
        "reports/r.ipynb: inputs glob '/etc/*' must be relative to the report's folder"
    )
