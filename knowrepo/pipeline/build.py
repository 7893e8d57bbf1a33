"""The build: discover -> execute -> render -> assemble -> index -> publish, over one BuildState.

Each stage is a function in the module named for it. A manifest of content hashes lets a
rebuild skip every report whose inputs did not change; the no-op test reads stats only, so
a build with nothing to do ends before importing jinja2 or nbconvert.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from knowrepo.config import Config, load_config
from knowrepo.errors import KnowrepoError, write_error
from knowrepo.pipeline import incremental
from knowrepo.pipeline.assemble.theme import (
    check_templates,
    check_user_static,
    link_extras,
    make_environment,
    theme_dirs,
    theme_extras,
)
from knowrepo.pipeline.execute.runstore import RunStore
from knowrepo.pipeline.manifest import load_manifest
from knowrepo.pipeline.state import BuildOptions, BuildResult, BuildState
from knowrepo.pipeline.versions import Stager, check_output, current_version
from knowrepo.plugins import LoadRegistry
from knowrepo.support import clock
from knowrepo.support.lock import repository_lock
from knowrepo.support.progress import LineReporter, Reporter

__all__ = ["BuildOptions", "BuildResult", "build"]


def build(
    root: Path,
    options: BuildOptions | None = None,
    reporter: Reporter | None = None,
    *,
    load_registry: LoadRegistry,
) -> BuildResult:
    """Build the repository at `root` into its output folder, with the parts of the registry
    `load_registry` loads (when the build does anything: a no-op build loads none). Raises
    KnowrepoError only when nothing can be built (bad config or theme, an output knowrepo may
    not replace, --strict); per-report errors are in the result. The published site is never
    left half-changed."""
    options = options or BuildOptions()
    reporter = reporter or LineReporter(0)
    started = time.perf_counter()
    config = load_config(root, load_registry)
    output = (options.output or root / config.site.output).absolute()
    _check_paths(root, config, output)
    with repository_lock(config.state_dir, "knowrepo build", reporter.info):
        try:
            abandoned_runs_removed(root)
            state = open_build(root, config, output, options, reporter, load_registry)
            if not incremental.nothing_to_do(state):
                state = run_stages_whole_if_lost(state)
        except OSError as exc:  # a full disk, a read-only output: the staging is gone, the site is not
            raise write_error(exc) or KnowrepoError(
                exc.filename or output,
                f"cannot write: {exc.strerror or exc}; the published site is unchanged",
            ) from None
    result = state.result
    if state.stager is None:  # nothing to do
        result.noop, result.reports = True, len(state.manifest.reports)
        result.errors, result.failed_runs = list(state.manifest.errors), list(state.manifest.failed_runs)
    result.seconds = time.perf_counter() - started
    return result


def abandoned_runs_removed(root: Path) -> None:
    """The temp folders of runs killed mid-kernel, of every report: whoever holds the lock
    removes them, so they never wait for their variant to run again."""
    RunStore(root).clean_all_abandoned()


def run_stages_whole_if_lost(state: BuildState) -> BuildState:
    """run_stages; if a file of the published version the build reuses is gone (removed by hand:
    `rm -rf _site/*`, a clean-up job), the build starts again without it, as a first build,
    rather than failing every time (even with --force) on a site it could make whole."""
    try:
        run_stages(state)
        return state
    except FileNotFoundError as exc:
        previous, missing = state.previous, str(exc.filename or "")
        if previous is None or not missing.startswith(str(previous) + os.sep):
            raise
    lost = os.path.relpath(missing, previous)
    state.reporter.warn(f"{state.output}: {lost} is gone from the published site; building it whole")
    first = state
    state = open_build(
        state.root, state.config, state.output, state.options, state.reporter, state.load_registry
    )
    state.previous = None
    if first.executed:  # its runs are recorded: the build starts again from them, running none twice
        state.executed = True
        state.result.executed, state.run_failures = first.result.executed, first.run_failures
        state.result.runs_failed = first.result.runs_failed
    run_stages(state)
    return state


def run_stages(state: BuildState) -> None:
    """The stages, in order, each followed by the build steps registered after it (the PDFs
    after render). The new version is staged from the start (reports kept as they are are
    linked in while others render) and thrown away on any failure before it is published; the
    renderer starts before planning, so its imports overlap it."""
    # (imported here: a no-op build ends before any stage, and must not import the parts they
    # call: jinja2, the renderers, the executors)
    from knowrepo.pipeline.render.renderer import open_renderer
    from knowrepo.pipeline.stages.assemble import assemble
    from knowrepo.pipeline.stages.discover import discover_reports
    from knowrepo.pipeline.stages.execute import execute
    from knowrepo.pipeline.stages.index import plan_index
    from knowrepo.pipeline.stages.publish import publish
    from knowrepo.pipeline.stages.render import render

    state.stager = Stager(
        state.output, state.previous, *incremental.recyclable(state.manifest, state.previous)
    )
    notebooks = incremental.changed_notebooks(state.manifest.snapshot, state.snapshot, state.options)
    state.renderer = open_renderer(
        state.config, notebooks, state.workers, state.options.warm_here, state.load_registry
    )
    try:
        discover_reports(state)
        steps_after("discover", state)
        keep_settled_reports(state)
        execute(state)
        steps_after("execute", state)
        render(state, meanwhile=lambda: prepare_while_rendering(state))
        steps_after("render", state)
        assemble(state)
        steps_after("assemble", state)
        plan_index(state)
        steps_after("index", state)
        publish(state)
    except BaseException:
        state.stager.discard()
        raise
    finally:
        if state.renderer is not None:
            state.renderer.close()
    leave_render_server(state)


def steps_after(stage: str, state: BuildState) -> None:
    """The build steps of knowrepo and its plugins registered to run after `stage`."""
    for step in state.load_registry().build_steps(stage):
        step(state)


def open_build(
    root: Path,
    config: Config,
    output: Path,
    options: BuildOptions,
    reporter: Reporter,
    load_registry: LoadRegistry,
) -> BuildState:
    """The state a build starts from: the last build's record and the stats of every input."""
    dirs = theme_dirs(root, config.theme.name)
    check_user_static(dirs)
    extras = theme_extras(root, config.theme, dirs)
    manifest_path = config.caches.manifest(output)  # one per output: serve's preview has its own
    manifest, problem = load_manifest(manifest_path)
    if problem:
        reporter.warn(f"{manifest_path}: the last build's record is not used ({problem}); rebuilding all")
    current = current_version(output)
    now = clock.now()
    flags = {"drafts": options.drafts, "output": str(output), "execute": options.execute, "pdf": options.pdf}
    flags["today"] = now.date().isoformat()  # a run's age (max_age) changes with the day
    deps = sorted({d for entry in manifest.reports.values() for d in entry.deps})
    snapshot = incremental.input_snapshot(root, dirs, deps, flags, tuple(extras.files.values()))
    if not snapshot["sources"] and manifest.reports and current is not None:
        raise KnowrepoError(
            root / "reports",
            f"holds no reports, but the published site has {len(manifest.reports)}; the site is"
            f" unchanged (remove {output.name} to publish an empty site)",
        )
    return BuildState(
        root=root,
        config=config,
        options=options,
        reporter=reporter,
        output=output,
        manifest=manifest,
        manifest_path=manifest_path,
        snapshot=snapshot,
        previous=current if current is not None and str(current) == manifest.published else None,
        result=BuildResult(output=output),
        load_registry=load_registry,
        now=now,
        theme_dirs=dirs,
        theme_extras=extras,
    )


def keep_settled_reports(state: BuildState) -> None:
    """Reports whose every input has the stats the last build saw keep their published files
    whole: not planned, keyed or loaded (1,000 reports: planning them took 0.2 s)."""
    state.kept = incremental.settled_reports(state, incremental.published_files(state))
    state.report_keys = {slug: entry.key for slug, entry in state.kept.items()}
    state.reports = [r for r in state.reports if r.slug not in state.kept]


def prepare_while_rendering(state: BuildState) -> None:
    """While the workers or the render server render: load the theme's templates (importing
    jinja2 and loading them is ~0.04 s, as long as a warm server's render) and link in the
    files of the reports kept as they are."""
    state.config.caches.jinja.mkdir(parents=True, exist_ok=True)
    state.env = make_environment(state.theme_dirs, state.load_registry(), state.config.caches.jinja)
    link_extras(state.env, state.theme_extras)
    check_templates(state.env, state.theme_files)
    if state.previous is not None and state.stager is not None:
        base = str(state.previous)
        for entry in state.kept.values():
            for path in entry.files:
                state.stager.link(path, os.path.join(base, path))


def leave_render_server(state: BuildState) -> None:
    """After an edit to a built site that rendered a few notebooks in fresh processes, start a
    warm render server for the next such build (this one paid the cold start)."""
    from knowrepo.pipeline.render import server  # (sockets, subprocesses: only after a build that rendered)

    config, result = state.config, state.result
    if state.renderer is not None and state.renderer.name == "server":
        result.render_server = "used"
    elif (
        state.previous is not None
        and 0 < result.rendered <= server.MAX_JOBS
        and not state.options.warm_here
        and server.enabled(config.build.render_server_idle)
        and server.start(config.state_dir, config.build.render_server_idle)
    ):
        result.render_server = "started"


def _check_paths(root: Path, config: Config, output: Path) -> None:
    protected = {
        "the repository": root,
        "reports/": root / "reports",
        "runs/": root / "runs",
        ".knowrepo/": config.state_dir,
    }
    check_output(output, protected, no_inside=("reports/", "runs/"))
    if not (root / "reports").is_dir():
        raise KnowrepoError(
            root / "reports", "no reports/ folder: nothing to build; the published site is unchanged"
        )
