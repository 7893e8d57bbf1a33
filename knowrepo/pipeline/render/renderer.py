"""What renders a build's bodies, behind one interface: worker processes started (and warmed)
before planning, or the repository's warm render server (server.py) for a few notebooks.

A fresh process needs about a second before its first page (importing nbconvert), so the
choice is made from the snapshots alone, before planning, and the imports overlap it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Protocol

from knowrepo.config import Config
from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.render import server
from knowrepo.pipeline.render.job import OnDone, RenderJob, render_or_error, warm_renderer
from knowrepo.plugins import LoadRegistry
from knowrepo.support.pool import run_parallel, start_pool


class Renderer(Protocol):
    name: str  # "server" or "workers"

    def render(
        self, jobs: Sequence[RenderJob], on_done: OnDone, meanwhile: Callable[[], None]
    ) -> list[RenderJob]:
        """Render `jobs`, calling on_done as each returns and `meanwhile` here while they render;
        returns the jobs it could not do (the caller renders them itself)."""
        ...

    def close(self) -> None: ...


class WorkerPool:
    """Worker processes, started now: each imports nbconvert and renders a tiny notebook while
    the build plans, so the work they get later starts warm."""

    name = "workers"

    def __init__(self, workers: int, jinja_cache: str, load_registry: LoadRegistry) -> None:
        self.workers = workers
        self.task = functools.partial(render_or_error, load_registry=load_registry)
        self.pool = start_pool(workers, functools.partial(warm_renderer, jinja_cache, load_registry))

    def render(
        self, jobs: Sequence[RenderJob], on_done: OnDone, meanwhile: Callable[[], None]
    ) -> list[RenderJob]:
        run_parallel(
            self.task,
            jobs,
            self.workers,
            on_done,
            pool=self.pool,
            meanwhile=meanwhile,
            on_crash=crashed,
        )
        return []

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def crashed(job: RenderJob) -> KnowrepoError:
    return KnowrepoError(job.source, "rendering it killed the worker process twice (out of memory?)")


def open_renderer(
    config: Config, notebooks: int, workers: int, warm_here: bool, load_registry: LoadRegistry
) -> Renderer | None:
    """What will render this build's notebooks (at most `notebooks` of them): the warm server
    for a few, else worker processes started now (loading the registry); None when nothing
    renders or this process keeps a warm renderer of its own for one (serve)."""
    if not notebooks or (warm_here and notebooks <= 1):
        return None
    if notebooks <= server.MAX_JOBS and server.enabled(config.build.render_server_idle):
        connected = server.RenderServer.connect(config.state_dir)
        if connected is not None:
            return connected
    return WorkerPool(min(workers, notebooks), str(config.caches.jinja), load_registry)


def render_all(
    jobs: Sequence[RenderJob],
    workers: int,
    on_done: OnDone,
    load_registry: LoadRegistry,
    renderer: Renderer | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Render every job with `renderer` (what it leaves, here or in a pool of our own, with
    the registry `load_registry` loads)."""
    meanwhile = meanwhile or (lambda: None)
    if renderer is not None:
        jobs = renderer.render(jobs, on_done, meanwhile)
        if not jobs:
            return
        meanwhile = lambda: None  # noqa: E731 - it ran already
    task = functools.partial(render_or_error, load_registry=load_registry)
    run_parallel(task, jobs, workers, on_done, meanwhile=meanwhile, on_crash=crashed)
