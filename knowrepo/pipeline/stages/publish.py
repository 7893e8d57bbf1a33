"""Stage 6, publish: every file staged into the new version (versions.py), the search index
added, the output pointed at it in one step; then the build recorded and old versions pruned."""

from __future__ import annotations

import threading

from knowrepo.pipeline.incremental import runs_snapshot, stat_of, version_record
from knowrepo.pipeline.manifest import Manifest, VersionRecord, save_manifest
from knowrepo.pipeline.search import INDEX_DIR
from knowrepo.pipeline.stages.index import index
from knowrepo.pipeline.state import BuildState
from knowrepo.pipeline.versions import prune_versions
from knowrepo.support.faults import pause_point


def publish(state: BuildState) -> None:
    """Stage every file into the new version, let the index step add the search index, then
    point the output at it in one step; record the build and remove old versions."""
    stager, files = state.stager, state.files
    assert stager is not None and files is not None
    files.stage(stager, state.manifest.files if state.reusable else {})
    # A new index replaces the whole of the old one (in a recycled version): index_site clears it.
    spare = None if state.index_reused or state.index_deferred else INDEX_DIR + "/"
    stager.finish(spare)
    index(state, stager.dir)
    pause_point("publish", state.config.state_dir)  # staged whole, not yet published
    stager.publish()
    state.result.pages_written = stager.written
    state.result.changed = [p for p in stager.changed if not p.startswith(INDEX_DIR + "/")]
    state.result.files_linked = stager.linked
    _record(state, spare)
    keep = {stager.dir} | ({state.previous} if state.previous else set())
    if state.options.defer_index:  # serve: the browser is waiting; old versions can go a moment later
        threading.Thread(target=prune_versions, args=(state.output, keep), daemon=True).start()
    else:
        prune_versions(state.output, keep)


def _record(state: BuildState, spare: str | None) -> None:
    """The manifest of this build (the site is published: saving it never fails the build)."""
    stager = state.stager
    assert stager is not None and state.files is not None
    deps = sorted({d for entry in state.entries.values() for d in entry.deps})
    state.snapshot["deps"] = {rel: stat_of(state.root / rel) for rel in deps}
    state.snapshot["runs"] = runs_snapshot(state.root)
    state.result.errors = [str(e) for e in state.errors]
    lines = [line for entry in state.entries.values() for line in entry.failed_runs]
    state.result.failed_runs = sorted(dict.fromkeys([*lines, *state.run_failures]))
    version_files = stager.all_files()
    # Not hard links into the version before: written or linked anew (a new index too).
    fresh = sorted(stager.fresh.union(f for f in version_files if spare and f.startswith(spare)))
    before = str(state.previous) if state.previous else None
    manifest = Manifest(
        snapshot=state.snapshot,
        sources=state.sources,
        reports=state.entries,
        files=stager.files,
        published=str(stager.dir),
        errors=state.result.errors,
        failed_runs=state.result.failed_runs,
        page_keys=state.files.keys,
        search_key=state.search_key,
        search_pending=state.index_deferred,
        digest=state.digest,
        failed=sorted(state.failed | {e.path for e in state.errors if e.path}),
        this_version=VersionRecord(str(stager.dir), version_files, before, fresh),
        previous_version=version_record(state.manifest, state.previous),
    )
    if problem := save_manifest(state.manifest_path, manifest):
        state.result.warnings.append(problem)
