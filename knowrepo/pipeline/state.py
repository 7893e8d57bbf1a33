"""The typed state one build passes from stage to stage (like mkdocs' Files and Sphinx's
BuildEnvironment): each stage reads what the ones before it left here and adds its own part."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.config import Config
from knowrepo.errors import KnowrepoError
from knowrepo.model import RenderedPage, Report
from knowrepo.pipeline.manifest import Manifest, ReportEntry, Snapshot, SourceRecord
from knowrepo.plugins import LoadRegistry
from knowrepo.support.progress import Reporter

if TYPE_CHECKING:
    from jinja2 import Environment

    from knowrepo.pipeline.assemble.theme import ThemeExtras
    from knowrepo.pipeline.execute.plan import ReportPlan
    from knowrepo.pipeline.files import SiteFiles
    from knowrepo.pipeline.render.renderer import Renderer
    from knowrepo.pipeline.render.views import View
    from knowrepo.pipeline.versions import Stager


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
    failed_runs: list[str] = field(default_factory=list)  # variants whose latest run failed: still failing
    runs_failed: int = 0  # runs this build executed that failed (what fails the build; see commands/build)
    warnings: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # site paths written anew
    render_server: str = ""  # "used": a warm server rendered; "started": one is warming for next time

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items() if k != "changed"}


@dataclass
class BuildState:
    """Everything one build knows, stage by stage."""

    # Set up by build() before any stage.
    root: Path
    config: Config
    options: BuildOptions
    reporter: Reporter
    output: Path
    manifest: Manifest  # the last build's record (empty when there is none to trust)
    manifest_path: Path
    snapshot: Snapshot  # stats of every input, as incremental.input_snapshot makes them
    previous: Path | None  # the published version, when the manifest describes it
    result: BuildResult
    load_registry: LoadRegistry  # the parts of knowrepo and its plugins: loaded when first asked for
    now: dt.datetime  # the build's clock (support.clock.now)
    stager: Stager | None = None
    renderer: Renderer | None = None
    errors: list[KnowrepoError] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # sources that failed this build
    # discover
    sources: dict[str, SourceRecord] = field(default_factory=dict)  # every source, as read
    reports: list[Report] = field(default_factory=list)  # the reports this build works on
    slug_by_source: dict[str, str] = field(default_factory=dict)  # every report found
    theme_files: dict[str, Path] = field(default_factory=dict)
    theme_dirs: list[Path] = field(default_factory=list)
    theme_extras: ThemeExtras | None = None  # [theme] extra_css, extra_js (open_build finds them)
    digest: str = ""  # what every page depends on: theme, config, code, slugs
    fingerprint: str = ""  # of the code that renders bodies
    kept: dict[str, ReportEntry] = field(default_factory=dict)  # reports kept as published, by slug
    # execute
    executed: bool = False  # the execute stage ran: what it had to run is recorded in runs/
    plans: dict[str, ReportPlan] = field(default_factory=dict)
    run_failures: list[str] = field(default_factory=list)  # runs that failed before reaching the store
    # render
    views: dict[str, dict[str, View]] = field(default_factory=dict)  # by slug, then view name
    bodies: dict[str, RenderedPage] = field(default_factory=dict)  # by view key
    report_keys: dict[str, str] = field(default_factory=dict)
    env: Environment | None = None  # the theme's templates (prepare_while_rendering loads them)
    pdfs: dict[str, dict[str, str]] = field(default_factory=dict)  # slug -> page path -> PDF path
    pdf_files: dict[str, Path] = field(default_factory=dict)  # PDF path -> cached file
    # assemble
    files: SiteFiles | None = None
    entries: dict[str, ReportEntry] = field(default_factory=dict)  # what the manifest will record
    page_keys: dict[str, str] = field(default_factory=dict)
    search_key: str = ""
    index_reused: bool = False  # the previous search index is still exact
    index_deferred: bool = False

    @property
    def mode(self) -> str:
        """never | auto | always; `never` once the runs are made (a build that starts again
        whole, see build.run_stages_whole_if_lost, must not run the notebooks twice)."""
        return "never" if self.executed else self.options.execute or self.config.execute.mode

    @property
    def reusable(self) -> Path | None:
        """The published version when its files may be linked in as they are (pages, images and
        the search index this build would make the same); none with --force, which makes every
        file anew, so a file damaged or removed by hand is whole again. (A report that fails
        keeps its last pages all the same.)"""
        return None if self.options.force else self.previous

    @property
    def workers(self) -> int:
        return self.config.workers(self.options.workers)

    @property
    def pdf_on(self) -> bool:
        return self.options.pdf or self.config.pdf.enabled

    def fail(self, error: KnowrepoError, source: str | None = None) -> None:
        """A report failed: say so now; it keeps its previous pages. --strict stops the build."""
        self.failed.add(source or error.path or "")
        self.complain(error)

    def complain(self, error: KnowrepoError) -> None:
        """Something went wrong that the report still publishes without (its PDF)."""
        self.errors.append(error)
        self.reporter.error(str(error))
        if self.options.strict:
            raise error
