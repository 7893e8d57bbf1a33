"""Defects found reviewing issue 27 (publishing control), their pure parts: E280-E289 of
docs/errors.md."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from knowrepo.pipeline.execute.history import failed_latest
from knowrepo.pipeline.execute.origin import typed_command
from knowrepo.pipeline.execute.runstore import RunStore, new_run_id
from knowrepo.support.tracebacks import repository_roots
from unit.test_runstore import stored


def test_E280_a_recorded_command_names_no_folder_of_the_machine():
    repo = "/home/alice/work/kr"
    argv = ["-C", repo, "run", f"{repo}/reports/p.ipynb", "--params-file", "/tmp/ab/p.yaml", "-p", "n=1"]
    typed = typed_command(argv, (), [], roots=[repo])
    assert typed == "knowrepo -C . run reports/p.ipynb --params-file \N{HORIZONTAL ELLIPSIS}/p.yaml -p n=1"
    joined = typed_command([f"--params-file={repo}/x.yaml"], (), [], roots=repository_roots(repo))
    assert joined == "knowrepo --params-file=x.yaml"


def test_E281_runs_failed_says_the_variants_whose_latest_published_run_failed(tmp_path: Path):
    (tmp_path / "knowrepo.toml").write_text("")
    (tmp_path / "reports").mkdir()
    notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "reports/p.ipynb").write_text(json.dumps(notebook))
    ids = [new_run_id(dt.datetime(2026, 12, d, tzinfo=dt.UTC)) for d in (1, 2, 3)]
    stored(tmp_path, ids[0], status="ok")
    stored(tmp_path, ids[1], status="failed")  # what the build says failed
    stored(tmp_path, ids[2], status="ok", origin={"by": "run", "scratch": True})  # a look aside
    assert [r.id for r in failed_latest(RunStore(tmp_path), None, ())] == [ids[1]]
    stored(tmp_path, new_run_id(dt.datetime(2026, 12, 4, tzinfo=dt.UTC)), status="failed",
           origin={"by": "run", "scratch": True})  # fmt: skip
    assert [r.id for r in failed_latest(RunStore(tmp_path), None, ())] == [ids[1]]
