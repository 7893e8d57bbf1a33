"""The build: discover -> render (parallel, cached) -> assemble -> publish atomically.

A manifest of content hashes (.knowrepo/manifest.json) lets a rebuild skip every report whose
inputs did not change. The fast path checks stats only: if no input file changed since the
last build, the build ends before importing jinja2 or nbconvert.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from knowrepo import __version__
from knowrepo.config import CONFIG_NAME, Config, load_config
from knowrepo.errors import KnowrepoError, WriteError, write_error
from knowrepo.pipeline.assemble.theme import theme_dirs
from knowrepo.pipeline.discover import discover, scan_sources
from knowrepo.pipeline.index import INDEX_DIR, index_site
from knowrepo.pipeline.publish import Stager, check_output, current_version, prune_versions
from knowrepo.pipeline.render.assets import write_atomic
from knowrepo.support.faults import pause_point
from knowrepo.support.lock import repository_lock
from knowrepo.support.pool import run_parallel
from knowrepo.support.progress import LineReporter, Reporter

MANIFEST_VERSION = 2


@dataclass
class BuildOptions:
    output: Path | None = None
    drafts: bool = False
    strict: bool = False
    workers: int = 0  # 0: the config's, else one per core
    force: bool = False  # ignore caches, render everything
    pdf: bool = False  # build a PDF of every report page too (also [pdf] enabled)
    defer_index: bool = False  # publish first with the previous search index (serve), index later
    execute: str | None = None  # never | auto | always (default: [execute] mode)
    warm_here: bool = False  # serve: this process keeps a warm renderer; a small edit renders here


@dataclass
class BuildResult:
    output: Path
    noop: bool = False
    reports: int = 0
    executed: int = 0
    pdfs: int = 0
    indexed_pages: int = 0
    index_seconds: float = 0.0
    index_pending: bool = False  # pages published with the previous index: build again to index
    rendered: int = 0
    cached: int = 0
    pages_written: int = 0
    files_linked: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # site paths written anew
    render_server: str = ""  # "used": a warm server rendered; "started": one is warming for next time

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items() if k != "changed"}


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def input_snapshot(root: Path, dirs: list[Path], deps: list[str], flags: dict[str, Any]) -> dict[str, Any]:
    """Stats of every file a build reads: equal snapshots mean the build has nothing to do."""
    found, refused = scan_sources(root / "reports")
    theme: dict[str, Any] = {}
    for folder in dirs:
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                path = Path(dirpath) / name
                theme[str(path)] = _stat(path)
    return {
        "knowrepo": __version__,
        "config": _stat(root / CONFIG_NAME),
        "theme": theme,
        "sources": {rel: [st.st_mtime_ns, st.st_size] for rel, st in found.items()},
        "refused": refused,
        "deps": {rel: _stat(root / rel) for rel in sorted(deps)},
        "flags": flags,
    }


class Manifest:
    """What the last build read and wrote; lives in .knowrepo/ and is never published.

    Stored as a header line (version and checksum of the rest) and the JSON: a manifest that
    is truncated, edited or from another version is not trusted, and the build starts over
    (a full rebuild, never a crash)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem = ""
        self.data: dict[str, Any] = {}
        try:
            raw = path.read_bytes()
        except OSError:
            return  # none yet
        header, _, payload = raw.partition(b"\n")
        try:
            head = orjson.loads(header)
        except ValueError:  # orjson.JSONDecodeError is a ValueError
            head = None
        if not isinstance(head, dict) or head.get("version") != MANIFEST_VERSION:
            self.problem = "it is from another version of knowrepo, or damaged"
        elif head.get("sha256") != hashlib.sha256(payload).hexdigest():
            self.problem = "it is damaged"
        else:
            self.data = orjson.loads(payload)  # what knowrepo wrote, checksum and all

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def save(self, data: dict[str, Any]) -> str | None:
        """Write the manifest; on failure remove it (the next build is then a full one) and
        say why: the site is already published, so this never fails the build."""
        try:
            # orjson: at 1,000 reports the manifest is ~2.4 MB; json took 0.04 s, orjson 0.005 s.
            payload = orjson.dumps(data)
            header = orjson.dumps(
                {"version": MANIFEST_VERSION, "sha256": hashlib.sha256(payload).hexdigest()}
            )
            write_atomic(self.path, header + b"\n" + payload)
        except (TypeError, ValueError, OSError) as exc:
            with contextlib.suppress(OSError):
                self.path.unlink()
            return f"{self.path}: the build state could not be saved ({exc}); the next build rebuilds all"
        return None


def _pygments_css(cache_dir: Path) -> Path:
    """The one highlighting stylesheet, made once per Pygments version (0.01 s each build in cProfile)."""
    import pygments

    path = cache_dir / f"pygments-{pygments.__version__}-xcode.css"
    if not path.exists():
        from pygments.formatters import HtmlFormatter

        # xcode: the one stock Pygments style whose every colour passes WCAG AA on the code background.
        write_atomic(path, HtmlFormatter(style="xcode").get_style_defs(".highlight").encode())
    return path


def build(root: Path, options: BuildOptions | None = None, reporter: Reporter | None = None) -> BuildResult:
    """Build the repository at `root` into its output folder. Raises KnowrepoError only when
    nothing can be built (bad config or theme, an output knowrepo may not replace, --strict);
    per-report errors are in the result. The published site is never left half-changed."""
    options = options or BuildOptions()
    reporter = reporter or LineReporter(0)
    started = time.perf_counter()
    config = load_config(root)
    output = (options.output or root / config.site.output).absolute()
    check_output(
        output,
        {
            "the repository": root,
            "reports/": root / "reports",
            "runs/": root / "runs",
            ".knowrepo/": config.state_dir,
        },
        no_inside=("reports/", "runs/"),
    )
    if not (root / "reports").is_dir():
        raise KnowrepoError(
            root / "reports", "no reports/ folder: nothing to build; the published site is unchanged"
        )
    with repository_lock(config.state_dir, "knowrepo build", reporter.info):
        try:
            return _build_locked(root, config, output, options, reporter, started)
        except OSError as exc:  # a full disk, a read-only output: the staging is gone, the site is not
            raise write_error(exc) or KnowrepoError(
                exc.filename or output,
                f"cannot write: {exc.strerror or exc}; the published site is unchanged",
            ) from None


def _build_locked(
    root: Path, config: Config, output: Path, options: BuildOptions, reporter: Reporter, started: float
) -> BuildResult:
    dirs = theme_dirs(root, config.site.theme)
    # One manifest per output folder: `serve`'s preview and `build`'s site never disturb each other.
    manifest = Manifest(
        config.state_dir / f"manifest-{hashlib.sha256(str(output).encode()).hexdigest()[:10]}.json"
    )
    flags = {"drafts": options.drafts, "output": str(output), "execute": options.execute, "pdf": options.pdf}

    if manifest.problem:
        reporter.warn(
            f"{manifest.path}: the last build's record is not used ({manifest.problem}); rebuilding all"
        )
    previous_version = current_version(output)
    prev_published = manifest.get("published")
    deps = sorted({d for r in manifest.get("reports", {}).values() for d in r.get("deps", {})})
    snapshot = input_snapshot(root, dirs, deps, flags)
    snapshot["runs"] = runs_snapshot(root)
    if not snapshot["sources"] and manifest.get("reports") and previous_version is not None:
        raise KnowrepoError(
            root / "reports",
            f"holds no reports, but the published site has {len(manifest.get('reports'))}; the site is"
            f" unchanged (remove {output.name} to publish an empty site)",
        )
    if (
        not options.force
        and not manifest.get("errors")  # a build that went wrong looks again at everything
        and manifest.get("snapshot") == snapshot
        and not (manifest.get("search_pending") and not options.defer_index)
        and previous_version is not None
        and str(previous_version) == prev_published
    ):
        result = BuildResult(output=output, noop=True, errors=list(manifest.get("errors", [])))
        result.reports = len(manifest.get("reports", {}))
        result.seconds = time.perf_counter() - started
        return result

    # The build has something to do: the new version is staged from the start (kept reports
    # are linked in while others render) and thrown away on any failure before it is published.
    import knowrepo.pipeline.render.server as renderserver  # not before: a no-op build has no use for it

    previous = previous_version if str(previous_version) == prev_published else None
    stager = Stager(output, previous, *_recyclable(manifest, previous))
    changed = _changed_notebooks(manifest.get("snapshot") or {}, snapshot, options)
    pool = _warm_render_pool(config, changed, options)
    try:
        result = _build_into(
            stager, pool, root, config, output, dirs, manifest, snapshot, options, reporter, previous, started
        )
    except BaseException:
        stager.discard()
        raise
    finally:
        if isinstance(pool, renderserver.RenderServer):
            pool.close()
        elif pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    if isinstance(pool, renderserver.RenderServer):
        result.render_server = "used"
    elif (
        previous is not None  # an edit to a built site, not a first or clean build
        and 0 < result.rendered <= renderserver.MAX_JOBS
        and not options.warm_here
        and renderserver.enabled(config.build.render_server_idle)
        and renderserver.start(config.state_dir, config.build.render_server_idle)
    ):
        result.render_server = "started"  # for the next build: this one paid the cold start
    return result


def _render_all(
    jobs: list[Any],
    keys: list[str],
    workers: int,
    strict: bool,
    reporter: Reporter,
    pool: Any = None,
    meanwhile: Any = None,
) -> tuple[dict[str, Any], dict[str, KnowrepoError], list[str]]:
    """Run render jobs over worker processes (the warm `pool` if there is one); results and
    errors by view key. `meanwhile` runs here while the workers render."""
    pages: dict[str, Any] = {}
    errors: dict[str, KnowrepoError] = {}
    warnings: list[str] = []
    if not jobs:
        if meanwhile is not None:
            meanwhile()
        return pages, errors, warnings
    reporter.phase("Rendering", len(jobs))

    def collect(key: str, job: Any, outcome: Any) -> None:
        if isinstance(outcome, WriteError):
            raise outcome  # a full disk: no report can be rendered, nothing is published
        if isinstance(outcome, KnowrepoError):
            errors[key] = outcome
            reporter.error(str(outcome))
            if strict:
                raise outcome
        else:
            page, page_warnings = outcome
            pages[key] = page
            warnings.extend(page_warnings)
        reporter.advance(job.source)

    from knowrepo.pipeline.render.job import render_or_error
    from knowrepo.pipeline.render.server import RenderServer

    keyed = dict(zip((id(job) for job in jobs), keys, strict=True))
    try:
        if isinstance(pool, RenderServer):
            jobs = pool.run(jobs, lambda job, outcome: collect(keyed[id(job)], job, outcome), meanwhile)
            pool, meanwhile = None, None  # whatever it left (it died) renders here
        run_parallel(
            render_or_error,
            jobs,
            workers,
            lambda job, outcome: collect(keyed[id(job)], job, outcome),
            pool=pool if any(job.kind == "notebook" for job in jobs) else None,
            meanwhile=meanwhile,
            on_crash=lambda job: KnowrepoError(
                job.source, "rendering it killed the worker process twice (out of memory?)"
            ),
        )
    finally:
        reporter.end_phase()
    return pages, errors, warnings


@dataclass
class View:
    """One body to render: a report's source, or one run of it (merged with current prose)."""

    key: str
    job: Any  # RenderJob; None for a run that has no notebook to render
    run: Any = None  # Run


def _views(
    root: Path, config: Config, reports: list[Any], plans: dict[str, Any], fingerprint: str, assets_dir: Path
) -> dict[str, dict[str, View]]:
    """For each report, its views by name: 'source', or run ids."""
    from knowrepo.pipeline.render.job import RenderJob

    views: dict[str, dict[str, View]] = {}
    for report in reports:
        code = report.meta.code or config.site.code
        base = dict(
            root=str(root),
            source=report.source,
            kind=report.kind,
            slug=report.slug,
            code=code,
            title=report.meta.title,
            assets_dir=str(assets_dir),
            index_code=config.site.index_code,
            sanitize=config.site.sanitize,
            max_output=config.site.max_output_kb * 1024,
        )
        # What else shapes the body.
        shape = (
            code,
            report.meta.title,
            config.site.index_code,
            config.site.sanitize,
            config.site.max_output_kb,
        )
        plan = plans.get(report.slug)
        mine: dict[str, View] = {}
        if plan is None or not any(v.runs for v in plan.variants):
            key = _hash(fingerprint, report.source_hash, report.kind, shape)
            mine["source"] = View(key, RenderJob(**base))
        else:
            for variant in plan.variants:
                shown = variant.shown
                for run in variant.runs:
                    merge = run is shown and run.record.get("cache_key") == variant.key
                    key = _hash(fingerprint, run.id, merge, report.source_hash if merge else "", shape)
                    if not run.has_notebook:  # it ended before writing one: its page says so
                        mine[run.id] = View(key, None, run)
                        continue
                    notebook = run.notebook.relative_to(root).as_posix()
                    mine[run.id] = View(key, RenderJob(**base, notebook=notebook, merge=merge), run)
        views[report.slug] = mine
    return views


def _execute(
    root: Path,
    config: Config,
    reports: list[Any],
    mode: str,
    options: BuildOptions,
    reporter: Reporter,
    errors: list[KnowrepoError],
    cache_dir: Path,
    failed: set[str],
) -> tuple[dict[str, Any], list[str], int]:
    """Plan every notebook's variants, execute what needs it; plans by slug, run failures."""
    from knowrepo.pipeline.execute.plan import needs_run, plan_report, run_request
    from knowrepo.pipeline.execute.runstore import RunStore

    store = RunStore(root)
    plans: dict[str, Any] = {}
    requests = []
    for report in reports:
        if report.kind != "notebook":
            continue
        try:
            plan = plan_report(root, config, report, cache_dir, store)
            wanted = [
                run_request(root, config, plan, variant, {"by": "build"})
                for variant in plan.variants
                if (plan.executes or mode == "always") and needs_run(variant, mode)
            ]
        except KnowrepoError as exc:
            errors.append(exc)
            failed.add(report.source)  # (the error may name another file: a run record, an input)
            reporter.error(str(exc))
            if options.strict:
                raise
            continue
        plans[report.slug] = plan
        requests += wanted
    if requests:
        from knowrepo.pipeline.execute.run import execute_all

        workers = options.workers or config.execute.workers or os.cpu_count() or 1
        records = execute_all(requests, workers, reporter)
        for plan in plans.values():
            for variant in plan.variants:
                variant.runs = store.runs(plan.report.slug, variant.name)
        failures = [
            f"{r['source']}: run of variant '{r['variant']}' failed: "
            f"{(r.get('error') or {}).get('ename', '')}: {(r.get('error') or {}).get('evalue', '')}"
            for r in records
            if r["status"] != "ok"
        ]
        return plans, failures, len(records)
    return plans, [], 0


def _published_files(manifest: Manifest, previous_version: Path | None) -> set[str]:
    """The files of the published version, as the manifest recorded them (6,000
    os.path.exists calls took 0.04 s in cProfile; nothing but knowrepo writes in a version folder)."""
    version = manifest.get("this_version") or {}
    if previous_version is None or version.get("dir") != str(previous_version):
        return set()
    return set(version["files"])


def _settled_reports(
    root: Path,
    reports: list[Any],
    manifest: Manifest,
    snapshot: dict[str, Any],
    digest: str,
    published: set[str],
    mode: str,
    options: BuildOptions,
) -> dict[str, dict[str, Any]]:
    """The reports whose source, declared inputs, local images and runs have the stats the last
    build saw, under the same theme, config and code: their manifest entries, to keep whole.
    (The no-op test, per report. A report that failed last time is tried again.)"""
    before = manifest.get("snapshot") or {}
    if options.force or mode == "always" or not published or manifest.get("digest") != digest:
        return {}
    old_sources, new_sources = before.get("sources", {}), snapshot["sources"]
    old_deps, new_deps = before.get("deps", {}), snapshot["deps"]
    old_runs, new_runs = before.get("runs", {}), snapshot["runs"]
    moved_runs = [d for d in old_runs.keys() | new_runs.keys() if old_runs.get(d) != new_runs.get(d)]
    runs_base = os.path.join(root, "runs")
    failed = set(manifest.get("failed", []))
    settled: dict[str, dict[str, Any]] = {}
    for report in reports:
        entry = manifest.get("reports", {}).get(report.slug)
        if (
            entry is None
            or "key" not in entry
            or entry["source"] != report.source
            or report.source in failed
            or old_sources.get(report.source) != new_sources.get(report.source)
            or any(rel not in old_deps or old_deps[rel] != new_deps.get(rel) for rel in entry.get("deps", {}))
        ):
            continue
        runs = os.path.join(runs_base, report.slug)
        if any(d == runs or d.startswith(runs + os.sep) for d in moved_runs):
            continue
        if all(f in published for f in entry["files"]):
            settled[report.slug] = entry
    return settled


def _recyclable(manifest: Manifest, current: Path | None) -> tuple[Path | None, list[str], set[str]]:
    """The version folder before the current one, its files as the manifest recorded them
    (the new version is staged in it, see Stager), and which of them are the very files
    (same inodes) of the current version: all but those the current one made afresh."""
    before = manifest.get("previous_version") or {}
    folder = Path(before.get("dir", ""))
    if current is None or not before.get("dir") or folder == current or not folder.is_dir():
        return None, [], set()
    if folder.is_symlink() or folder.parent != current.parent:
        return None, [], set()
    files = before.get("files", [])
    now = manifest.get("this_version") or {}
    if now.get("dir") != str(current) or now.get("after") != str(folder) or "fresh" not in now:
        return folder, files, set()
    return folder, files, set(files).difference(now["fresh"])


def _version_record(manifest: Manifest, folder: Path | None) -> dict[str, Any] | None:
    """The manifest's record of the version in `folder` (its files), if it has one."""
    record = manifest.get("this_version") or {}
    return record if folder is not None and record.get("dir") == str(folder) else None


def _changed_notebooks(before: dict[str, Any], snapshot: dict[str, Any], options: BuildOptions) -> int:
    """How many notebooks this build will render at most, from the snapshots alone."""
    if options.force or any(
        before.get(k) != snapshot.get(k) for k in ("knowrepo", "config", "theme", "flags")
    ):
        return 1 << 30
    old = before.get("sources", {})
    new = snapshot["sources"].items()
    changed = sum(1 for rel, st in new if rel.endswith(".ipynb") and old.get(rel) != st)
    return changed + (before.get("runs") != snapshot.get("runs"))


def _warm_render_pool(config: Config, changed: int, options: BuildOptions) -> Any:
    """What renders this build's notebooks, ready before planning: the repository's warm
    render server for a few, else worker processes started now so that their ~1 s of imports
    and first-render set-up overlaps the planning (None: nothing to render, or serve's own)."""
    import knowrepo.pipeline.render.server as renderserver
    from knowrepo.pipeline.render.job import warm_renderer
    from knowrepo.support.pool import start_pool

    if not changed or (options.warm_here and changed <= 1):
        return None
    if changed <= renderserver.MAX_JOBS and renderserver.enabled(config.build.render_server_idle):
        server = renderserver.RenderServer.connect(config.state_dir)
        if server is not None:
            return server
    workers = min(options.workers or config.execute.workers or os.cpu_count() or 1, changed)
    cache = str(config.state_dir / "cache" / "jinja")
    return start_pool(workers, functools.partial(warm_renderer, cache))


def _build_into(
    stager: Stager,
    pool: Any,
    root: Path,
    config: Config,
    output: Path,
    dirs: list[Path],
    manifest: Manifest,
    snapshot: dict[str, Any],
    options: BuildOptions,
    reporter: Reporter,
    previous_version: Path | None,
    started: float,
) -> BuildResult:
    from knowrepo.model import RenderedPage
    from knowrepo.pipeline.assemble.pages import (
        SiteContext,
        card_key,
        check_slug,
        listing_pages,
        newest_date,
        report_pages,
    )
    from knowrepo.pipeline.assemble.theme import (
        check_templates,
        make_environment,
        template_failure,
        theme_digest,
        theme_files,
    )
    from knowrepo.pipeline.render.job import no_notebook_page, render_fingerprint

    result = BuildResult(output=output)
    found = discover(
        root,
        manifest.get("sources", {}),
        drafts=options.drafts,
        stats=snapshot["sources"],
        refused=snapshot["refused"],
    )
    errors: list[KnowrepoError] = list(found.errors)
    reports = []
    for report in found.reports:
        try:
            check_slug(report)
            reports.append(report)
        except KnowrepoError as exc:
            errors.append(exc)
    if options.strict and errors:
        raise errors[0]
    for exc in errors:
        reporter.error(str(exc))

    cache_dir = config.state_dir / "cache"
    assets_dir = cache_dir / "assets"
    fingerprint = render_fingerprint()
    prev_reports: dict[str, Any] = manifest.get("reports", {})
    mode = options.execute or config.execute.mode
    files = theme_files(dirs)
    # What every page depends on. The slugs are those of every report found (links to a report
    # whose run or render fails still lead to its previous page, which it keeps).
    slug_by_source = {r.source: r.slug for r in reports}
    digest = _hash(
        theme_digest(files), config.digest, fingerprint, __version__, sorted(slug_by_source.items())
    )
    pdf_on = options.pdf or config.pdf.enabled

    # A report whose every input is as the previous build saw it keeps its manifest entry and
    # published files as they are: not planned, keyed or loaded. Judged first by stats alone
    # (1,000 reports: planning took 0.2 s), then by key for the reports that were planned.
    published = _published_files(manifest, previous_version)
    reused = _settled_reports(root, reports, manifest, snapshot, digest, published, mode, options)
    report_keys = {slug: entry["key"] for slug, entry in reused.items()}
    kept = [r for r in reports if r.slug in reused]
    reports = [r for r in reports if r.slug not in reused]
    plan_failed: set[str] = set()
    plans, run_failures, result.executed = _execute(
        root, config, reports, mode, options, reporter, errors, cache_dir, plan_failed
    )
    failed_sources = {e.path for e in errors} | found.failed_sources | plan_failed
    reports = [r for r in reports if r.source not in failed_sources]
    views = _views(root, config, reports, plans, fingerprint, assets_dir)

    # Render every view that has no valid cached body.
    bodies: dict[str, Any] = {}
    jobs = []
    for report in reports:
        prev = prev_reports.get(report.slug, {})
        deps_ok = all(_dep_hash(root, rel) == h for rel, h in prev.get("deps", {}).items())
        report_keys[report.slug] = key = _hash(
            digest,
            [v.key for v in views[report.slug].values()],
            report.source_hash,  # the front matter too
            report.date,
            pdf_on,
        )
        if (
            deps_ok
            and not options.force
            and prev.get("key") == key
            and previous_version is not None
            and all(os.path.exists(os.path.join(previous_version, f)) for f in prev["files"])
        ):
            reused[report.slug] = prev
            continue
        for view in views[report.slug].values():
            if view.job is None:
                bodies[view.key] = no_notebook_page(view.run.record)
                continue
            cached = cache_dir / "render" / f"{view.key}.json"
            if not options.force and cached.exists() and (view.key not in prev.get("views", []) or deps_ok):
                try:
                    bodies[view.key] = RenderedPage.from_json(json.loads(cached.read_text()))
                    result.cached += 1
                    continue
                except (OSError, ValueError, TypeError):
                    pass
            jobs.append(view)

    env: Any = None

    def while_rendering() -> None:
        """While the workers or the render server render: load the theme's templates (importing
        jinja2 and loading them is ~0.04 s, as long as a warm server's render) and link in the
        files of the reports kept as they are."""
        nonlocal env
        (cache_dir / "jinja").mkdir(parents=True, exist_ok=True)
        env = make_environment(dirs, cache_dir / "jinja")
        check_templates(env, files)
        if previous_version is not None:
            base = str(previous_version)
            for entry in reused.values():
                for path in entry["files"]:
                    stager.link(path, os.path.join(base, path))

    workers = options.workers or config.execute.workers or os.cpu_count() or 1
    by_key = {v.key: v for v in jobs}
    rendered, render_errors, warnings = _render_all(
        [v.job for v in jobs],
        [v.key for v in jobs],
        workers,
        options.strict,
        reporter,
        pool,
        while_rendering,
    )
    for key, page in rendered.items():
        write_atomic(cache_dir / "render" / f"{key}.json", json.dumps(page.to_json()).encode())
    bodies.update(rendered)
    result.rendered = len(rendered)
    for key, exc in render_errors.items():
        errors.append(exc)
        failed_sources.add(by_key[key].job.source)
    result.warnings.extend(dict.fromkeys(warnings))  # once each; the command prints them at the end

    # Assemble.
    reporter.phase("Assembling", 1)
    ctx = SiteContext(config=config, absolute_url=config.site.absolute_url, generated="")
    planned: dict[str, tuple[str, Any]] = {}  # site path -> ("bytes"|"file"|"link", value)
    owner: dict[str, str] = {}

    def plan(path: str, kind: str, value: Any, who: str) -> None:
        if path in planned and owner[path] != who:
            raise KnowrepoError(who, f"would write {path}, which {owner[path]} writes too")
        planned[path], owner[path] = (kind, value), who

    prev_keys: dict[str, str] = manifest.get("page_keys", {})

    def reuse(path: str, key: str) -> bool:
        return (
            prev_keys.get(path) == key and previous_version is not None and (previous_version / path).exists()
        )

    pdf_pages: dict[str, dict[str, str]] = {}
    pdf_files: dict[str, Path] = {}
    if pdf_on:
        pdf_pages, pdf_files, pdf_errors = _build_pdfs(
            root,
            config,
            env,
            files,
            digest,
            reports,
            plans,
            views,
            bodies,
            failed_sources,
            workers,
            reporter,
            result,
        )
        errors.extend(pdf_errors)
    page_keys: dict[str, str] = {}
    cards: list[dict[str, Any]] = []
    new_reports: dict[str, Any] = {}
    for report in [*kept, *reports]:
        if report.source in failed_sources:
            continue
        if report.slug in reused:
            entry = reused[report.slug]
            for path in entry["files"]:  # (strings: pathlib cost more than staging, 5,000 files)
                plan(path, "link", os.path.join(previous_version, path), report.source)  # type: ignore[arg-type]
                if path in prev_keys:
                    page_keys[path] = prev_keys[path]
            cards.append(entry["card"])
            new_reports[report.slug] = entry
            continue
        report_views = views[report.slug]
        try:
            pages, entry = report_pages(
                env,
                ctx,
                report,
                plans.get(report.slug),
                report_views,
                bodies,
                slug_by_source,
                digest,
                reuse,
                pdf_pages.get(report.slug),
            )
            for pdf_path in pdf_pages.get(report.slug, {}).values():
                plan(pdf_path, "link", pdf_files[pdf_path], report.source)
                entry["files"].append(pdf_path)
            for path, (kind, value, key) in pages.items():
                if kind == "reuse":
                    plan(path, "link", previous_version / path, report.source)  # type: ignore[operator]
                else:
                    plan(path, kind, value, report.source)
                if key:
                    page_keys[path] = key
        except KnowrepoError as exc:
            errors.append(exc)
            reporter.error(str(exc))
            continue
        except Exception as exc:  # a theme template that fails on this report's data
            errors.append(KnowrepoError(report.source, template_failure(exc)))
            reporter.error(str(errors[-1]))
            continue
        entry["deps"] = {
            k: v
            for view in report_views.values()
            if view.key in bodies
            for k, v in bodies[view.key].deps.items()
        }
        if report.slug in plans:  # declared inputs: a change must end a no-op and re-run
            entry["deps"].update({rel: _dep_hash(root, rel) for rel in plans[report.slug].inputs})
        entry["views"] = [v.key for v in report_views.values()]
        entry["key"] = report_keys[report.slug]
        cards.append(entry["card"])
        new_reports[report.slug] = entry

    # A report that failed keeps its last published pages, card and images.
    failed_sources |= {e.path for e in errors}
    for slug, prev in prev_reports.items():
        if slug in new_reports or previous_version is None or prev["source"] not in failed_sources:
            continue
        for path in prev["files"]:
            if (previous_version / path).exists():
                plan(path, "link", previous_version / path, prev["source"])
                if path in prev_keys:
                    page_keys[path] = prev_keys[path]
        new_reports[slug] = prev
        cards.append(prev["card"])

    ctx = SiteContext(config=config, absolute_url=config.site.absolute_url, generated=newest_date(cards))
    if not config.site.absolute_url and cards:
        result.warnings.append(
            f"{CONFIG_NAME}: base_url is a path; the feed and sitemap use site-relative links"
            " (set an absolute https:// base_url)"
        )
    for entry in new_reports.values():  # kept with the entry: hashing 1,000 cards, 0.02-0.03 s in cProfile
        if "card_key" not in entry:
            entry["card_key"] = card_key(entry["card"])
    try:
        listing, listing_keys = listing_pages(
            env, ctx, cards, digest, reuse, {id(e["card"]): e["card_key"] for e in new_reports.values()}
        )
    except Exception as exc:  # a listing template that fails: no site can be published without them
        raise KnowrepoError(None, f"the listing pages cannot be built: {template_failure(exc)}") from None
    page_keys.update(listing_keys)
    for path, data in listing.items():
        if data is None:
            plan(path, "link", previous_version / path, "site")  # type: ignore[operator]
        else:
            plan(path, "bytes", data, "site")
    for rel, path in files.items():
        if rel.startswith("static/"):
            plan("assets/" + rel.removeprefix("static/"), "file", path, "theme")
    plan("assets/pygments.css", "file", _pygments_css(cache_dir), "theme")
    # Images are named by content: the published one is the same file as the cached one, and
    # linking it from the published version lets the next build skip it (see Stager).
    cached_assets = str(assets_dir)
    for entry in new_reports.values():
        for name in entry["images"]:
            path = f"assets/img/{name}"
            if path in published:
                plan(path, "link", os.path.join(previous_version, path), "assets")  # type: ignore[arg-type]
            elif os.path.exists(source := os.path.join(cached_assets, name)):
                plan(path, "link", source, "assets")
    reporter.end_phase()

    if options.strict and errors:
        raise errors[0]
    search_key = _hash(
        sorted((p, k) for e in new_reports.values() for p, k in e.get("searchable", {}).items())
    )
    prev_index = previous_version / INDEX_DIR if previous_version else None
    reuse_index = manifest.get("search_key") == search_key and prev_index is not None and prev_index.is_dir()
    deferred = options.defer_index and not reuse_index and prev_index is not None and prev_index.is_dir()
    if deferred:  # serve: publish the pages now with the old index, index in a follow-up build
        result.index_pending = True
        search_key = manifest.get("search_key", "")
    if reuse_index or deferred:  # no indexed page changed: the previous index is still exact
        for path in prev_index.rglob("*"):  # type: ignore[union-attr]
            if path.is_file():
                plan(f"{INDEX_DIR}/{path.relative_to(prev_index).as_posix()}", "link", path, "search")

    def index(staged: Path) -> None:
        if reuse_index or deferred:
            return
        pause_point("index", config.state_dir)
        reporter.phase("Indexing", 1)
        try:
            searchable = sorted(  # oldest first: large sites are indexed in parts by date
                (e["card"]["date"], p) for e in new_reports.values() for p in e.get("searchable", {})
            )
            result.indexed_pages, result.index_seconds = index_site(
                staged,
                [p for _date, p in searchable],
                config.site.language,
                config.site.search_part_size,
                scratch_root=manifest.path.with_name(manifest.path.stem.replace("manifest", "search")),
            )
        finally:
            reporter.end_phase()

    # A new index replaces the whole of the old one (in a recycled version): index_site clears it.
    spare = None if reuse_index or deferred else INDEX_DIR + "/"
    _stage(stager, planned, manifest.get("files", {}), previous_version, index, spare, config.state_dir)
    all_deps = sorted({d for r in new_reports.values() for d in r.get("deps", {})})
    snapshot["deps"] = {rel: _stat(root / rel) for rel in all_deps}
    snapshot["runs"] = runs_snapshot(root)
    result.errors = [str(e) for e in errors] + run_failures
    problem = manifest.save(
        {
            "snapshot": snapshot,
            "sources": found.sources,
            "reports": new_reports,
            "files": stager.files,
            "published": str(stager.dir),
            "errors": result.errors,
            "page_keys": page_keys,
            "search_key": search_key,
            "search_pending": deferred,
            "digest": digest,
            "failed": sorted(failed_sources),
            "this_version": {
                "dir": str(stager.dir),
                "files": (version_files := stager.all_files()),
                "after": str(previous_version) if previous_version else None,
                # Not hard links into the version before: written or linked anew (a new index too).
                "fresh": sorted(
                    stager.fresh.union(f for f in version_files if spare and f.startswith(spare))
                ),
            },
            "previous_version": _version_record(manifest, previous_version),
        }
    )
    if problem:
        result.warnings.append(problem)
    keep = {stager.dir} | ({previous_version} if previous_version else set())
    if options.defer_index:  # serve: the browser is waiting; old versions can go a moment later
        threading.Thread(target=prune_versions, args=(output, keep), daemon=True).start()
    else:
        prune_versions(output, keep)
    result.reports = len(new_reports)
    result.pages_written = stager.written
    result.changed = [p for p in stager.changed if not p.startswith(INDEX_DIR + "/")]
    result.files_linked = stager.linked
    result.seconds = time.perf_counter() - started
    return result


def _build_pdfs(
    root: Path,
    config: Config,
    env: Any,
    files: dict[str, Path],
    digest: str,
    reports: list[Any],
    plans: dict[str, Any],
    views: dict[str, dict[str, View]],
    bodies: dict[str, Any],
    failed_sources: set[str],
    workers: int,
    reporter: Reporter,
    result: BuildResult,
) -> tuple[dict[str, dict[str, str]], dict[str, Path], list[KnowrepoError]]:
    """A PDF of each report's latest page and of each variant, cached by what shapes it.
    Returns ({slug: {page path: pdf site path}}, {pdf site path: cached file}, errors)."""
    from knowrepo.exports.pdf import PdfJob, pdf_name, print_html, render_pdf

    cache = config.state_dir / "cache" / "pdf"
    cache.mkdir(parents=True, exist_ok=True)
    stylesheet = files["static/print.css"].read_text() if "static/print.css" in files else ""
    assets = config.state_dir / "cache" / "assets"
    pages: dict[str, dict[str, str]] = {}
    produced: dict[str, Path] = {}
    jobs: dict[str, tuple[PdfJob, list[tuple[str, str, str]]]] = {}
    errors: list[KnowrepoError] = []
    for report in reports:
        if report.source in failed_sources:
            continue
        plan = plans.get(report.slug)
        wanted: list[tuple[str, str, Any, str]] = []  # (page path, pdf path, view, variant)
        if plan is None or not any(v.runs for v in plan.variants):
            wanted.append(
                (
                    f"{report.slug}/index.html",
                    f"{report.slug}/{pdf_name(report.slug)}",
                    views[report.slug]["source"],
                    "",
                )
            )
        else:
            shown = [v for v in plan.variants if v.shown is not None]
            label = len(shown) > 1
            for variant in shown:
                name = variant.name if label else ""
                view = views[report.slug][variant.shown.id]
                wanted.append(
                    (
                        f"{report.slug}/v/{variant.name}/index.html",
                        f"{report.slug}/v/{variant.name}/{pdf_name(report.slug, name)}",
                        view,
                        name,
                    )
                )
                if variant is shown[0]:
                    wanted.append(
                        (
                            f"{report.slug}/index.html",
                            f"{report.slug}/{pdf_name(report.slug, name)}",
                            view,
                            name,
                        )
                    )
        for page, pdf_path, view, variant in wanted:
            if view.key not in bodies:
                continue
            run = view.run.record if view.run is not None else None
            key = _hash(view.key, report.meta.to_json(), report.date, run, variant, digest, config.pdf.paper)
            cached = cache / f"{key}.pdf"
            if not cached.exists() and key not in jobs:
                try:
                    document = print_html(
                        env, config, report, bodies[view.key], run, variant, assets, stylesheet
                    )
                except Exception as exc:  # the theme's print.html fails on this report
                    from knowrepo.pipeline.assemble.theme import template_failure

                    errors.append(KnowrepoError(report.source, f"PDF: {template_failure(exc)}"))
                    reporter.error(str(errors[-1]))
                    continue
                job = PdfJob(
                    key=key, source=report.source, html=document, base_url=str(root), allowed=(str(assets),)
                )
                jobs[key] = (job, [])
            if key in jobs:
                jobs[key][1].append((report.slug, page, pdf_path))
            else:
                pages.setdefault(report.slug, {})[page] = pdf_path
                produced[pdf_path] = cached
    if jobs:
        reporter.phase("PDF", len(jobs))

        def done(job: Any, outcome: Any) -> None:
            if isinstance(outcome, WriteError):
                raise outcome
            if isinstance(outcome, KnowrepoError):
                errors.append(outcome)
                reporter.error(str(outcome))
            else:
                write_atomic(cache / f"{job.key}.pdf", outcome)
                result.pdfs += 1
                for slug, page, pdf_path in jobs[job.key][1]:
                    pages.setdefault(slug, {})[page] = pdf_path
                    produced[pdf_path] = cache / f"{job.key}.pdf"
            reporter.advance(job.source)

        try:
            run_parallel(
                render_pdf,
                [job for job, _targets in jobs.values()],
                workers,
                done,
                on_crash=lambda job: KnowrepoError(job.source, "its PDF killed the worker process twice"),
            )
        finally:
            reporter.end_phase()
    return pages, produced, errors


def _stage(
    stager: Stager,
    planned: dict[str, tuple[str, Any]],
    prev_files: dict[str, str],
    previous_version: Path | None,
    before_publish: Any = None,
    spare: str | None = None,
    state_dir: Path | None = None,
) -> None:
    """Complete the new version (unchanged files as hard links), let `before_publish` add to it
    (the search index: what is under `spare` is left to it), then publish it atomically."""
    previous = str(previous_version) if previous_version else None
    for path, (kind, value) in sorted(planned.items()):
        if kind == "link":
            if path not in stager.done:
                stager.link(path, value)
            stager.files[path] = prev_files.get(path) or os.path.basename(value)
            continue
        data = value if kind == "bytes" else Path(value).read_bytes()
        sha = hashlib.sha256(data).hexdigest()[:20]
        old = os.path.join(previous, path) if previous else None
        if old and prev_files.get(path) == sha and os.path.exists(old):
            stager.link(path, old)
        else:
            stager.write(path, data)
        stager.files[path] = sha
    stager.finish(spare)
    if before_publish is not None:
        before_publish(stager.dir)
    if state_dir is not None:
        pause_point("publish", state_dir)  # staged whole, not yet published
    stager.publish()


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


def _dep_hash(root: Path, rel: str) -> str | None:
    try:
        return hashlib.sha256((root / rel).read_bytes()).hexdigest()[:20]
    except OSError:
        return None
