"""pipeline/execute/runstore.py: runs/<slug>/<variant>/<run id>/ read back, every record
checked (E52, E53, E91, E138, E140, E142, E145 of docs/errors.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from knowrepo.errors import KnowrepoError
from knowrepo.model import Run
from knowrepo.pipeline.execute.runstore import RUN_ID, RunStore, new_run_id, read_run, record_problem
from unit.helpers import error_line

NEVER_A_PID = 2**22 + 1  # above the kernel's largest pid (pid_max): no process has it


def record(run_id: str, **fields: Any) -> dict[str, Any]:
    base = Run(folder=None, id=run_id, slug="p", variant="default", source="reports/p.ipynb", status="ok")
    return {**base.to_json(), "started": "2026-11-26T08:28:31Z", **fields}


def stored(root: Path, run_id: str, slug: str = "p", variant: str = "default", **fields: Any) -> Path:
    folder = root / "runs" / slug / variant / run_id
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(record(run_id, slug=slug, variant=variant, **fields)))
    return folder


def test_run_ids_sort_by_time_and_never_collide():
    early = new_run_id(dt.datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=dt.UTC))
    assert early.startswith("20260102T030405.006Z-") and RUN_ID.fullmatch(early)
    assert early < new_run_id(dt.datetime(2026, 1, 2, 3, 4, 5, 7000, tzinfo=dt.UTC))
    assert len({new_run_id() for _ in range(50)}) == 50


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"origin": "by hand"}, "'origin' must be an object"),
        ({"kernel": ["python3"]}, "'kernel' must be text"),
        ({"duration": float("nan")}, "'duration' must be a number"),
        ({"started": "yesterday"}, "'started' must be a UTC time like 2026-11-26T08:28:31Z"),
        (
            {"inputs": {"/etc/passwd": "x"}},
            "'inputs' must be an object of relative file paths to their hashes",
        ),
        ({"slug": "../.."}, "'slug' must be a report's slug"),
        ({"origin": {"run_date": "garbage"}}, "'origin.run_date' must be a date like 2026-11-02"),
        ({"origin": {"due": 5}}, "'origin.due' must be a date-time like 2026-11-02T06:00:00+00:00"),
        (
            {"error": {"ename": 1}},
            "'error' must be an object of text 'ename', 'evalue', 'traceback' and a whole-number 'cell'",
        ),
        ({"status": "maybe"}, "status must be ok or failed, not 'maybe'"),
        (
            {"params": {"x": 2**70}},
            "'params' 'x' is an integer too large to store (71 bits); quote it as text",
        ),
    ],
)
def test_E138_E142_each_field_a_run_reads_is_checked(fields: dict[str, Any], problem: str):
    run_id = new_run_id()
    assert record_problem(record(run_id, **fields), run_id) == problem
    assert record_problem(record(run_id), run_id) is None


def test_E53_a_record_s_id_is_its_folder_s_name():
    assert record_problem(record("x"), "y") == "its id 'x' is not its folder's name"
    assert record_problem([1], "y") == "not a JSON object"


def test_E52_a_run_json_that_is_not_json_is_named(tmp_path: Path):
    folder = tmp_path / new_run_id()
    folder.mkdir()
    (folder / "run.json").write_text("{")
    assert error_line(read_run, folder) == (
        f"{folder}/run.json: invalid run record (not JSON); move this run's folder away"
    )


def test_E142_a_run_copied_into_another_variant_is_not_read_as_its_run(tmp_path: Path):
    folder = stored(tmp_path, new_run_id(), variant="eu")
    assert read_run(folder, "p", "eu").variant == "eu"
    assert error_line(read_run, folder, "p", "us").endswith(
        "invalid run record: it is a run of 'p' [eu], not of its folder's 'p' [us]; move this run's folder"
        " away"
    )


def test_metrics_that_are_not_plain_data_are_kept_as_text(tmp_path: Path):
    folder = stored(tmp_path, new_run_id(), metrics={"rows": 2**80, "rate": 0.5})
    assert read_run(folder).metrics == {"rows": str(2**80), "rate": 0.5}


def test_E68_a_lone_surrogate_in_a_record_is_shown_as_a_replacement_character(tmp_path: Path):
    folder = stored(
        tmp_path, new_run_id(), status="failed", error={"ename": "E", "evalue": "half \ud800 pair"}
    )
    assert "\\ud800" in (folder / "run.json").read_text()  # (JSON keeps it escaped; no page may hold it)
    assert read_run(folder).error.evalue == "half \ufffd pair"


def test_the_store_lists_runs_oldest_first_and_skips_what_it_did_not_make(tmp_path: Path):
    """E140: a folder of another name is named once and skipped; E52 a damaged record is left out."""
    first, second, damaged = (new_run_id(dt.datetime(2026, 1, d, tzinfo=dt.UTC)) for d in (1, 2, 3))
    stored(tmp_path, second)
    stored(tmp_path, first)
    (tmp_path / "runs/p/default/$(touch x)").mkdir()
    (tmp_path / "runs/p/default" / damaged).mkdir()
    (tmp_path / "runs/p/default" / damaged / "run.json").write_text("[]")
    (tmp_path / "runs/p/default/.tmp-being-written").mkdir()
    warned: list[str] = []
    failed: list[str] = []
    store = RunStore(tmp_path, warn=lambda e: warned.append(str(e)), error=lambda e: failed.append(str(e)))
    assert [run.id for run in store.runs("p", "default")] == [first, second]
    store.runs("p", "default")  # each said once
    assert warned == [
        f"{tmp_path}/runs/p/default/$(touch x): is not a run knowrepo made (its name is not a run id);"
        f" skipped"
    ]
    assert failed == [
        f"{tmp_path}/runs/p/default/{damaged}/run.json: invalid run record: not a JSON object; move this"
        f" run's folder away"
    ]
    assert store.variants("p") == ["default"] and store.runs("p", "nope") == []


def test_without_an_error_callback_a_damaged_record_raises(tmp_path: Path):
    folder = stored(tmp_path, new_run_id(), status="maybe")
    assert "status must be ok or failed" in error_line(RunStore(tmp_path).runs, "p", "default")
    assert folder.exists()  # left where it is


def test_E91_a_run_folder_that_is_a_symlink_is_never_read(tmp_path: Path):
    elsewhere = stored(tmp_path / "other", run_id := new_run_id())
    (tmp_path / "runs/p/default").mkdir(parents=True)
    (tmp_path / "runs/p/default" / run_id).symlink_to(elsewhere)
    failed: list[KnowrepoError] = []
    assert RunStore(tmp_path, error=failed.append).runs("p", "default") == []
    assert [e.message for e in failed] == ["is a symlink: the folders in runs/ must be real folders"]


def test_commit_renames_a_staged_run_into_place_and_find_reads_it(tmp_path: Path):
    store = RunStore(tmp_path)
    run_id = new_run_id()
    staging = store.staging("sales/monthly", "eu", run_id)
    run = Run(
        folder=None,
        id=run_id,
        slug="sales/monthly",
        variant="eu",
        source="reports/sales/monthly.ipynb",
        status="ok",
    )
    committed = store.commit(staging, run)
    assert committed.folder == tmp_path / "runs/sales/monthly/eu" / run_id and not staging.exists()
    assert store.find(run_id) == read_run(committed.folder, "sales/monthly", "eu")
    assert error_line(store.find, "nope") == "'nope' is not a run id (see `knowrepo runs`)"
    assert error_line(store.find, new_run_id()).startswith(f"{tmp_path}/runs: no run with id ")


def test_prune_keeps_the_newest_and_the_latest_success(tmp_path: Path):
    ids = [new_run_id(dt.datetime(2026, 1, d, tzinfo=dt.UTC)) for d in (1, 2, 3, 4)]
    for run_id, status in zip(ids, ["ok", "ok", "failed", "failed"], strict=True):
        stored(tmp_path, run_id, status=status)
    removed = RunStore(tmp_path).prune("p", "default", keep=1)
    assert [r.id for r in removed] == [ids[0], ids[2]]
    assert sorted(p.name for p in (tmp_path / "runs/p/default").iterdir()) == [ids[1], ids[3]]


def test_E145_temp_folders_of_dead_runs_go_and_nothing_else(tmp_path: Path):
    store = RunStore(tmp_path)
    variant = tmp_path / "runs/p/default"
    dead = variant / f".tmp-{new_run_id()}-{NEVER_A_PID}"  # (the form before machines were named)
    live = variant / f".tmp-{new_run_id()}-{os.getpid()}"
    foreign = variant / f".tmp-{new_run_id()}-0badf00d-{os.getpid()}"  # another machine's, fresh
    mine = variant / ".tmp-notes"
    for folder in (dead, live, foreign, mine):
        folder.mkdir(parents=True)
    store.clean_abandoned("p", "default")
    assert sorted(p.name for p in variant.iterdir()) == sorted(p.name for p in (live, foreign, mine))
    old = 3 * 24 * 3600
    os.utime(foreign, (foreign.stat().st_atime - old, foreign.stat().st_mtime - old))
    store.clean_all_abandoned()
    assert sorted(p.name for p in variant.iterdir()) == sorted(p.name for p in (live, mine))


def test_E272_a_run_id_not_found_says_which_was_meant(tmp_path: Path):
    one, other = "20261126T082831.655Z-0cc365", "20261201T060000.000Z-aa11bb"
    stored(tmp_path, one)
    stored(tmp_path, other, variant="eu")
    store = RunStore(tmp_path)
    assert error_line(store.find, "20261126") == (
        f"'20261126' is not a run id (did you mean '{one}'?) (see `knowrepo runs`)"
    )
    assert error_line(store.find, "2026") == "'2026' is not a run id (see `knowrepo runs`)"  # (two start so)
    typo = one.replace("0cc365", "0cc356")
    assert error_line(store.find, typo) == f"{tmp_path}/runs: no run with id {typo} (did you mean '{one}'?)"
