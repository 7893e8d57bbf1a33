"""pipeline/incremental.py, its pure parts: what a rebuild must redo, judged from stats and the
manifest (the no-op build end to end is in tests/test_incremental.py)."""

from __future__ import annotations

import os
from pathlib import Path

from knowrepo.pipeline.incremental import (
    EVERYTHING,
    changed_notebooks,
    deps_unchanged,
    recyclable,
    runs_snapshot,
    stat_of,
    version_record,
)
from knowrepo.pipeline.manifest import Manifest, ReportEntry, VersionRecord
from knowrepo.pipeline.state import BuildOptions
from knowrepo.support.hashing import content_hash
from unit.helpers import CARD

SNAPSHOT = {
    "knowrepo": {"version": "1"},
    "config": [1, 1],
    "theme": {},
    "flags": {},
    "sources": {"reports/a.ipynb": [1, 10], "reports/b.ipynb": [1, 10], "reports/c.md": [1, 10]},
    "runs": {"runs/a": 5},
}


def test_a_file_s_stat_is_its_mtime_and_size_or_none(tmp_path: Path):
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    os.utime(path, ns=(7, 7))
    assert stat_of(path) == [7, 5] and stat_of(tmp_path / "missing") is None


def test_only_changed_notebooks_are_counted():
    same = dict(SNAPSHOT)
    assert changed_notebooks(SNAPSHOT, same, BuildOptions()) == 0
    edited = {
        **SNAPSHOT,
        "sources": {**SNAPSHOT["sources"], "reports/a.ipynb": [2, 10], "reports/c.md": [2, 9]},
    }
    assert changed_notebooks(SNAPSHOT, edited, BuildOptions()) == 1  # (a .md is not counted)
    assert changed_notebooks(SNAPSHOT, {**same, "runs": {"runs/a": 6}}, BuildOptions()) == 1


def test_a_change_every_page_depends_on_counts_as_everything():
    for key in ("knowrepo", "config", "theme", "flags"):
        assert changed_notebooks(SNAPSHOT, {**SNAPSHOT, key: "changed"}, BuildOptions()) == EVERYTHING, key
    assert changed_notebooks(SNAPSHOT, SNAPSHOT, BuildOptions(force=True)) == EVERYTHING


def test_the_runs_snapshot_stats_folders_but_never_enters_a_run(tmp_path: Path):
    run = tmp_path / "runs/a/default/20260101T000000.000Z-abcdef"
    (run / "inner").mkdir(parents=True)
    (tmp_path / "runs/a/default/.tmp-x").mkdir()
    found = runs_snapshot(tmp_path)
    assert sorted(Path(d).relative_to(tmp_path).as_posix() for d in found) == [
        "runs",
        "runs/a",
        "runs/a/default",
    ]
    assert runs_snapshot(tmp_path / "nowhere") == {}


def test_deps_unchanged_compares_content_not_stats(tmp_path: Path):
    (tmp_path / "data.csv").write_bytes(b"a,b\n")
    entry = ReportEntry("reports/a.md", [], [], CARD, {}, deps={"data.csv": content_hash(b"a,b\n")})
    assert deps_unchanged(tmp_path, entry) and deps_unchanged(tmp_path, None)
    (tmp_path / "data.csv").write_bytes(b"a,c\n")
    assert not deps_unchanged(tmp_path, entry)


def test_the_version_before_the_current_one_is_recycled(tmp_path: Path):
    versions = tmp_path / ".site.versions"
    old, current = versions / "v1", versions / "v2"
    old.mkdir(parents=True)
    current.mkdir()
    manifest = Manifest(
        this_version=VersionRecord(str(current), ["a", "b"], after=str(old), fresh=["b"]),
        previous_version=VersionRecord(str(old), ["a", "b", "c"]),
    )
    # (its files but "b", which the current version made afresh, are the current version's own)
    assert recyclable(manifest, current) == (old, ["a", "b", "c"], {"a", "c"})
    assert (
        version_record(manifest, current) is manifest.this_version and version_record(manifest, old) is None
    )
    assert recyclable(manifest, None) == (None, [], set())
    assert recyclable(Manifest(previous_version=VersionRecord(str(old), ["a"])), current) == (
        old,
        ["a"],
        set(),
    )
    elsewhere = tmp_path / "other/v1"
    elsewhere.mkdir(parents=True)
    assert recyclable(Manifest(previous_version=VersionRecord(str(elsewhere), ["a"])), current) == (
        None,
        [],
        set(),
    )
