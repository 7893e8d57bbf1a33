"""Defects found reviewing issue 27 (publishing control), their pure parts: E280-E289 of
docs/errors.md."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from knowrepo.loader import load_registry
from knowrepo.pipeline.execute.history import failed_latest, prune_runs, report_rows
from knowrepo.pipeline.execute.origin import typed_command
from knowrepo.pipeline.execute.runstore import RunStore, new_run_id
from knowrepo.pipeline.gitdates import git_last_commit_dates
from knowrepo.support.progress import LineReporter
from knowrepo.support.tracebacks import (
    TRACEBACK_CHARS,
    published_traceback,
    repository_roots,
    shorten_paths,
    strip_ansi,
    traceback_tail,
)
from unit.helpers import error_line
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


def test_E283_prune_deletes_nothing_while_the_pins_file_is_damaged(tmp_path: Path):
    (tmp_path / "knowrepo.toml").write_text("")
    (tmp_path / "reports").mkdir()
    notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "reports/p.ipynb").write_text(json.dumps(notebook))
    ids = [new_run_id(dt.datetime(2026, 12, d, tzinfo=dt.UTC)) for d in (1, 2, 3)]
    for run_id in ids:
        stored(tmp_path, run_id)
    conflict = f"p:\n<<<<<<< HEAD\n  default: {ids[0]}\n=======\n  default: {ids[1]}\n>>>>>>> other\n"
    (tmp_path / "runs/pins.yaml").write_text(conflict)  # (a merge conflict, both sides pin an old run)
    said: list[str] = []
    store = RunStore(tmp_path, warn=lambda e: said.append(str(e)), error=lambda e: said.append(str(e)))
    line = error_line(prune_runs, store, None, (), 1, load_registry)
    assert line.startswith(f"{tmp_path}/runs/pins.yaml: invalid YAML at line 3")
    assert line.endswith("; no run is pruned until it is fixed (a pinned run would be deleted)")
    assert sorted(p.name for p in (tmp_path / "runs/p/default").iterdir()) == ids


def test_E284_a_private_value_after_short_flags_in_one_word_is_masked():
    # click reads `-vp token=ab` and `-qvptoken=ab` as -v (-q) then -p token=ab
    argv = ["run", "p", "-vp", "token=ab", "-qvptoken=cd", "-vr", "token=ef"]
    typed = typed_command(argv, ("token",), [])
    assert typed == "knowrepo run p -vp 'token=***' '-qvptoken=***' -vr 'token=***'"


def test_E285_a_file_name_git_has_that_is_not_utf8_dates_its_report(tmp_path: Path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/a.md").write_text("a\n")
    latin1 = os.fsdecode(b"reports/caf\xe9.md")  # (as Path and os.listdir give it)
    Path(tmp_path, latin1).write_text("b\n")
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=A"]
    env = {
        **os.environ,
        "GIT_COMMITTER_DATE": "2026-11-02T10:00:00Z",
        "GIT_AUTHOR_DATE": "2026-11-02T10:00:00Z",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]):
        subprocess.run([*git, *args], cwd=tmp_path, check=True, env=env)
    dates = git_last_commit_dates(tmp_path, ["reports/a.md", latin1])
    assert dates == {"reports/a.md": "2026-11-02", latin1: "2026-11-02"}  # (was: a crash of every build)


def test_E286_runs_and_list_on_a_terminal_show_brackets_in_values_as_written(tmp_path: Path):
    (tmp_path / "knowrepo.toml").write_text("")
    (tmp_path / "reports").mkdir()
    front = {"cell_type": "raw", "metadata": {}, "source": "---\ntitle: '[/b] rates'\n---"}
    notebook = {"cells": [front], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "reports/p.ipynb").write_text(json.dumps(notebook))
    stored(tmp_path, new_run_id(), params={"pattern": "[/x] [red]EU"})
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "200"}  # (rich draws its table, as on a terminal)
    for command in ("runs", "list"):
        proc = subprocess.run([sys.executable, "-m", "knowrepo", command], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert ("pattern=[/x] [red]EU" if command == "runs" else "[/b] rates") in strip_ansi(proc.stdout)


def test_E287_list_dates_a_report_by_the_run_its_card_shows_when_its_first_variant_has_none(tmp_path: Path):
    (tmp_path / "knowrepo.toml").write_text("")
    (tmp_path / "reports").mkdir()
    front = {"cell_type": "raw", "metadata": {}, "source": "---\ntitle: S\nvariants: {eu: {}, us: {}}\n---"}
    notebook = {"cells": [front], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "reports/p.ipynb").write_text(json.dumps(notebook))
    tried = new_run_id(dt.datetime(2026, 12, 6, tzinfo=dt.UTC))  # eu: tried as a scratch run only
    stored(
        tmp_path, tried, variant="eu", started="2026-12-06T08:00:00Z", origin={"by": "run", "scratch": True}
    )
    stored(
        tmp_path,
        new_run_id(dt.datetime(2026, 12, 5, tzinfo=dt.UTC)),
        variant="us",
        started="2026-12-05T08:00:00Z",
    )
    (row,) = report_rows(tmp_path, LineReporter(0))
    assert row["date"] == "2026-12-05"  # (the us run, which the card shows; was: the file's date)


FRAME = "  File /home/alice/.venv/lib/python3.11/site-packages/pandas/io/parquet.py:757, in read\n"


def test_E288_a_traceback_cut_to_its_last_4000_characters_publishes_no_fragment_of_a_path():
    # A run.json until now kept the last 4,000 characters of a traceback: cut inside a path,
    # whose start no shortening recognises ("lice/.venv/..." of "/home/alice/.venv/...").
    tracebacks = [
        "Traceback (most recent call last):\n" + FRAME * 80 + "ValueError: " + "x" * n for n in range(90)
    ]
    whole = next(t for t in tracebacks if t[-TRACEBACK_CHARS:].startswith("lice/"))
    roots = ["/home/alice/repo"]
    shown = published_traceback(whole[-TRACEBACK_CHARS:], roots)
    assert (
        "lice" not in shown and shown.startswith("  File pandas/io/parquet.py:757") and shown.endswith("xx")
    )
    kept = traceback_tail(whole)  # (as a run records it now: from a line's start)
    assert len(kept) < TRACEBACK_CHARS and kept.startswith(FRAME) and kept.endswith("xx")
    assert published_traceback(kept, roots) == shown


def test_E289_each_path_of_a_colon_separated_list_is_shortened():
    text = "Rscript not found in PATH=/usr/bin:/home/alice/.local/bin:/home/alice/repo/bin"
    assert (
        shorten_paths(text, ["/home/alice/repo"])
        == "Rscript not found in PATH=\N{HORIZONTAL ELLIPSIS}/bin:\N{HORIZONTAL ELLIPSIS}/bin:bin"
    )
    assert (
        shorten_paths("see http://host/a/b and localhost:8888/tree/x", [])
        == "see http://host/a/b and localhost:8888/tree/x"
    )
