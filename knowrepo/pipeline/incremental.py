"""What a rebuild must redo, judged first by stats (Lektor's FileInfo: stat, then checksum).

A snapshot is the stats of every file a build reads. Equal snapshots mean nothing to do (the
no-op build ends before importing jinja2 or nbconvert); per report, equal stats of its source,
its declared inputs and images and its runs mean its published files are kept whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from knowrepo import __version__
from knowrepo.config import CONFIG_NAME
from knowrepo.pipeline.execute.pins import pins_path
from knowrepo.pipeline.gitdates import git_stamp
from knowrepo.pipeline.manifest import Manifest, ReportEntry, Snapshot, VersionRecord
from knowrepo.pipeline.render.charts import chart_packages
from knowrepo.pipeline.sources import scan_sources
from knowrepo.pipeline.state import BuildOptions, BuildState
from knowrepo.support.distributions import installed_stamp
from knowrepo.support.hashing import file_hash

EVERYTHING = 1 << 30  # "all notebooks may render": a change that every page depends on


def stat_of(path: Path | str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def input_snapshot(
    root: Path,
    theme_dirs: list[Path],
    deps: list[str],
    flags: dict[str, Any],
    theme_extra: tuple[Path, ...] = (),
) -> Snapshot:
    """Stats of every file a build reads: equal snapshots mean the build has nothing to do.
    `theme_extra`: the [theme] extra files that are in the repository, not in a theme folder."""
    found, refused, skipped = scan_sources(root / "reports")
    theme: dict[str, Any] = {}
    for folder in theme_dirs:
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                path = os.path.join(dirpath, name)
                theme[path] = stat_of(path)
    theme.update({str(path): stat_of(path) for path in theme_extra})
    return {
        "knowrepo": code_identity(),
        "config": stat_of(root / CONFIG_NAME),
        "theme": theme,
        "sources": {rel: [st.st_mtime_ns, st.st_size] for rel, st in found.items()},
        "refused": refused,
        "skipped": skipped,
        "deps": {rel: stat_of(root / rel) for rel in sorted(deps)},
        "flags": flags,
        "runs": runs_snapshot(root),
        "pins": stat_of(pins_path(root)),
        "git": git_stamp(root),  # a commit dates Markdown reports anew
    }


def code_identity() -> dict[str, Any]:
    """knowrepo's version, the stats of its modules (an edited checkout is new code), the
    chart libraries installed (installing bokeh turns notes into charts) and the distributions
    installed (a plugin installed or upgraded re-renders what it draws): ~3 ms."""
    package = Path(__file__).parent.parent
    modules = {str(p.relative_to(package)): stat_of(p) for p in sorted(package.rglob("*.py"))}
    charts = chart_packages()
    return {"version": __version__, "modules": modules, "charts": charts, "installed": installed_stamp()}


def runs_snapshot(root: Path) -> dict[str, int]:
    """mtimes of the run store's folders (a new run changes its variant folder's mtime)."""
    found: dict[str, int] = {}
    base = root / "runs"
    if not base.is_dir():
        return found
    for dirpath, dirnames, _files in os.walk(base):
        found[dirpath] = os.stat(dirpath).st_mtime_ns
        dirnames[:] = [d for d in dirnames if not (d[:8].isdigit() and "Z-" in d) and not d.startswith(".")]
    return found


def nothing_to_do(state: BuildState) -> bool:
    """The no-op test: every input as the last build saw it, and its site still published."""
    manifest = state.manifest
    return (
        not state.options.force
        and not manifest.errors  # a build that went wrong looks again at everything
        and manifest.snapshot == state.snapshot
        and not (manifest.search_pending and not state.options.defer_index)
        and state.previous is not None
        and os.path.exists(os.path.join(state.previous, "index.html"))  # (not emptied by hand)
    )


def published_files(state: BuildState) -> set[str]:
    """The files of the published version, as the manifest recorded them (6,000
    os.path.exists calls took 0.04 s in cProfile; nothing but knowrepo writes in a version folder)."""
    version = state.manifest.this_version
    if state.previous is None or version is None or version.dir != str(state.previous):
        return set()
    return set(version.files)


def settled_reports(state: BuildState, published: set[str]) -> dict[str, ReportEntry]:
    """The reports whose source, declared inputs, local images and runs have the stats the last
    build saw, under the same theme, config and code: their manifest entries, to keep whole.
    (The no-op test, per report. A report that failed last time is tried again, and so is one
    with a damaged run record: each build names it.)"""
    manifest, snapshot = state.manifest, state.snapshot
    if state.options.force or state.mode == "always" or not published or manifest.digest != state.digest:
        return {}
    before = manifest.snapshot
    old_sources, new_sources = before.get("sources", {}), snapshot["sources"]
    old_deps, new_deps = before.get("deps", {}), snapshot["deps"]
    old_runs, new_runs = before.get("runs", {}), snapshot["runs"]
    moved_runs = [d for d in old_runs.keys() | new_runs.keys() if old_runs.get(d) != new_runs.get(d)]
    runs_base = os.path.join(state.root, "runs")
    git_moved = before.get("git") != snapshot.get("git")  # a commit: dates from git may differ
    failed = set(manifest.failed)
    if before.get("pins") != snapshot.get("pins") or str(pins_path(state.root)) in failed:
        return {}  # (a pin changed, or one could not be followed: each report looks again)
    damaged = [path for path in failed if path.startswith(runs_base + os.sep)]  # run records left out
    settled: dict[str, ReportEntry] = {}
    for report in state.reports:
        entry = manifest.reports.get(report.slug)
        if (
            entry is None
            or report.meta.max_age  # its runs age: looked at every build
            or (git_moved and not report.meta.updated)
            or not entry.key
            or entry.source != report.source
            or report.source in failed
            or old_sources.get(report.source) != new_sources.get(report.source)
            or any(rel not in old_deps or old_deps[rel] != new_deps.get(rel) for rel in entry.deps)
        ):
            continue
        runs = os.path.join(runs_base, report.slug)
        if any(d == runs or d.startswith(runs + os.sep) for d in [*moved_runs, *damaged]):
            continue
        if all(f in published for f in entry.files):
            settled[report.slug] = entry
    return settled


def still_current(state: BuildState, entry: ReportEntry | None, key: str) -> bool:
    """Whether a planned report's published files are what this build would make (same key,
    its files still there; the caller checked that the files it read are unchanged)."""
    previous = state.previous
    return (
        entry is not None
        and previous is not None
        and not state.options.force
        and entry.key == key
        and all(os.path.exists(os.path.join(previous, f)) for f in entry.files)
    )


def deps_unchanged(root: Path, entry: ReportEntry | None) -> bool:
    """The files a report's pages read (images, declared inputs) have the content they had."""
    return entry is None or all(file_hash(root / rel) == digest for rel, digest in entry.deps.items())


def recyclable(manifest: Manifest, current: Path | None) -> tuple[Path | None, list[str], set[str]]:
    """The version folder before the current one, its files as the manifest recorded them
    (the new version is staged in it, see Stager), and which of them are the very files
    (same inodes) of the current version: all but those the current one made afresh."""
    before = manifest.previous_version
    if current is None or before is None or not before.dir:
        return None, [], set()
    folder = Path(before.dir)
    if folder == current or not folder.is_dir() or folder.is_symlink() or folder.parent != current.parent:
        return None, [], set()
    now = manifest.this_version
    if now is None or now.dir != str(current) or now.after != str(folder) or now.fresh is None:
        return folder, before.files, set()
    return folder, before.files, set(before.files).difference(now.fresh)


def version_record(manifest: Manifest, folder: Path | None) -> VersionRecord | None:
    """The manifest's record of the version in `folder` (its files), if it has one."""
    record = manifest.this_version
    return record if folder is not None and record is not None and record.dir == str(folder) else None


def changed_notebooks(before: Snapshot, snapshot: Snapshot, options: BuildOptions) -> int:
    """How many notebooks this build will render at most, from the snapshots alone."""
    if options.force or any(
        before.get(k) != snapshot.get(k) for k in ("knowrepo", "config", "theme", "flags")
    ):
        return EVERYTHING
    old = before.get("sources", {})
    changed = sum(
        1 for rel, st in snapshot["sources"].items() if not rel.endswith(".md") and old.get(rel) != st
    )  # (a jupytext .md notebook is not counted: this only decides how workers start)
    return changed + (before.get("runs") != snapshot.get("runs"))
