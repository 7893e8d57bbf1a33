"""The preview's watcher: file events become debounced rebuilds, one at a time, in this
process (so nbconvert's exporter and the theme's templates stay warm between edits)."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowrepo.config import CONFIG_NAME, load_config
from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.build import BuildOptions, BuildResult, build
from knowrepo.pipeline.render.job import warm_renderer
from knowrepo.plugins import LoadRegistry
from knowrepo.support.progress import LineReporter

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent
    from watchdog.observers.api import BaseObserver

DEBOUNCE_SECONDS = 0.1
IGNORED_PARTS = {".knowrepo", ".git", ".ipynb_checkpoints", "__pycache__", "node_modules"}


@dataclass
class State:
    """What the last build said, shared by the watcher thread and the request threads."""

    generation: int = 0
    builds: int = 0
    errors: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, errors: list[str], changed: list[str]) -> None:
        with self.lock:
            self.generation += 1
            self.builds += 1
            self.errors, self.changed = errors, changed
            self.lock.notify_all()

    def snapshot(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "builds": self.builds,
            "errors": self.errors,
            "changed": self.changed,
        }


def page_urls(base_path: str, paths: list[str]) -> list[str]:
    """Site paths written by a build as the URLs a browser shows (index.html dropped)."""
    urls = []
    for path in paths:
        if path.endswith(".html"):
            url = base_path + path
            urls.append(url)
            if path.endswith("index.html"):
                urls.append(base_path + path.removesuffix("index.html"))
    return urls


class SaidOnce(LineReporter):
    """The preview's build reporter: errors only, through its log, each once. A build says an
    error as it finds it and lists it in its result; the search-index build that follows, and
    the next edit's build, find it again: said already (the page's overlay keeps showing it),
    until a build without it (fixed) lets it be said anew."""

    def __init__(self, log: Callable[[str], None], before: set[str]) -> None:
        super().__init__(0)
        self.log, self.before = log, before
        self.said: set[str] = set()

    def error(self, message: str) -> None:
        if message not in self.said and message not in self.before:
            self.log(f"error: {message}")
        self.said.add(message)


class Builder:
    """Rebuilds on demand, one at a time; a request made during a build runs after it."""

    def __init__(
        self,
        root: Path,
        output: Path,
        execute: bool,
        state: State,
        log: Callable[[str], None],
        load_registry: LoadRegistry,
    ) -> None:
        self.root, self.output, self.state, self.log = root, output, state, log
        self.load_registry = load_registry
        self.options = BuildOptions(
            output=output,
            drafts=True,
            execute="auto" if execute else "never",
            defer_index=True,
            warm_here=True,
        )
        self.requests: queue.Queue[str | None] = queue.Queue()
        self.said: set[str] = set()  # the errors of the last build, said once

    def build_once(self, options: BuildOptions | None = None) -> BuildResult | None:
        reporter = SaidOnce(self.log, self.said)
        try:
            result = build(self.root, options or self.options, reporter, load_registry=self.load_registry)
        except KnowrepoError as exc:  # nothing could build (config, theme): keep the last good site
            for line in exc.lines():  # (a knowrepo.toml with several faults: one line each)
                reporter.error(line)
            self.said = reporter.said
            self.state.publish(exc.lines(), [])
            return None
        base = load_config(self.root, self.load_registry).site.base_path
        for message in result.errors:  # (a no-op build's are the last build's: already said)
            reporter.error(message)
        self.said = reporter.said
        if not result.noop:
            self.log(
                f"rebuilt in {result.seconds:.2f}s: {result.rendered} rendered, "
                f"{result.executed} executed, {len(result.changed)} files changed"
            )
        self.state.publish(result.errors, page_urls(base, result.changed))
        return result

    def run(self) -> None:
        """The watcher's thread: wait for a change, let the burst settle, build."""
        # Warm this process's renderer now (imports, first render: ~1 s), not on the first edit.
        with contextlib.suppress(Exception):
            jinja_cache = str(load_config(self.root, self.load_registry).state_dir / "cache" / "jinja")
            warm_renderer(jinja_cache, self.load_registry)
        while True:
            item = self.requests.get()
            if item is None:
                return
            deadline = time.monotonic() + DEBOUNCE_SECONDS
            while True:  # debounce: keep absorbing events until DEBOUNCE_SECONDS of quiet
                try:
                    item = self.requests.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    return
                deadline = time.monotonic() + DEBOUNCE_SECONDS
            result = self.build_once()
            if result is not None and result.index_pending and self.requests.empty():
                # The page is already reloaded; now bring the search index up to date.
                self.build_once(replace(self.options, defer_index=False))


def relevant(root: Path, output: Path, path: str) -> bool:
    """Whether a file event can change the site (not our own output, caches or editor temp files)."""
    try:
        rel = Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    parts = rel.parts
    if not parts or parts[0] in {output.name, f".{output.name}.versions"} or set(parts) & IGNORED_PARTS:
        return False
    name = parts[-1]
    if (
        name.startswith((".#", "#"))
        or name.endswith(("~", ".swp", ".swx", ".tmp"))
        or name.startswith(".tmp")
    ):
        return False
    return parts[0] in {"reports", "themes", "runs"} or (len(parts) == 1 and name == CONFIG_NAME)


def watch(root: Path, output: Path, builder: Builder) -> BaseObserver:
    """A watchdog observer that queues a rebuild for every relevant change."""
    from watchdog.events import FileSystemEventHandler  # (watchdog: `serve` only)
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in ("opened", "closed_no_write"):
                return
            paths = [event.src_path, getattr(event, "dest_path", "")]
            # An editor that saves by writing a temp file and renaming it shows up as `moved`,
            # with the real file as dest_path.
            if any(p and relevant(root, output, os.fsdecode(p)) for p in paths):
                builder.requests.put(os.fsdecode(event.dest_path or event.src_path))

    observer = Observer()
    handler = Handler()
    observer.schedule(handler, str(root), recursive=False)  # knowrepo.toml
    for name in ("reports", "themes", "runs"):
        if (root / name).is_dir():
            observer.schedule(handler, str(root / name), recursive=True)
    observer.daemon = True
    observer.start()
    return observer
