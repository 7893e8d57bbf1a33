"""`knowrepo serve`: build, serve the site, watch the sources, rebuild what changed, reload.

The build runs in this process, so after the first build nbconvert's exporter and jinja's
templates stay warm and a one-report edit costs only that report. Requests are served from
whatever version the output symlink points at when they arrive: never a half-built site. The
live-reload script is added to HTML responses as they are served and never written to disk.
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import json
import os
import posixpath
import queue
import signal
import threading
import time
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from knowrepo.config import CONFIG_NAME, load_config
from knowrepo.errors import KnowrepoError
from knowrepo.pipeline.build import BuildOptions, BuildResult, build

LIVE_PREFIX = "/__knowrepo/"
DEBOUNCE_SECONDS = 0.1
IGNORED_PARTS = {".knowrepo", ".git", ".ipynb_checkpoints", "__pycache__", "node_modules"}

LIVE_SCRIPT = """\
// knowrepo serve: reload this page when a rebuild changed it; show build errors on top of it.
(function () {
  var box = null;
  function overlay(errors) {
    if (!errors.length) { if (box) { box.remove(); box = null; } return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "knowrepo-error-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:16px;right:16px;bottom:16px;z-index:99999;max-height:45vh;" +
        "overflow:auto;background:#fff5f5;color:#5c1610;border:1px solid #f5c2bd;border-radius:10px;" +
        "padding:14px 18px;font:14px/1.5 system-ui,sans-serif;box-shadow:0 8px 30px rgba(0,0,0,.2)";
      document.body.appendChild(box);
    }
    box.innerHTML = "<strong>Build error</strong> (the last good page is shown)<ul style='margin:6px 0 0;" +
      "padding-left:20px;font-family:ui-monospace,monospace;font-size:13px'></ul>";
    errors.forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = e;
      box.querySelector("ul").appendChild(li);
    });
  }
  var here = location.pathname;
  var source = new EventSource("/__knowrepo/events");
  source.onmessage = function (message) {
    var state = JSON.parse(message.data);
    overlay(state.errors);
    if (state.changed.indexOf(here) !== -1) location.reload();
  };
})();
"""


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


class Builder:
    """Rebuilds on demand, one at a time; a request made during a build runs after it."""

    def __init__(self, root: Path, output: Path, execute: bool, state: State, log: Any) -> None:
        self.root, self.output, self.state, self.log = root, output, state, log
        self.options = BuildOptions(
            output=output,
            drafts=True,
            execute="auto" if execute else "never",
            defer_index=True,
            warm_here=True,
        )
        self.requests: queue.Queue[str | None] = queue.Queue()

    def build_once(self, options: BuildOptions | None = None) -> BuildResult | None:
        try:
            result = build(self.root, options or self.options)
        except KnowrepoError as exc:  # nothing could build (config, theme): keep the last good site
            self.log(f"error: {exc}")
            self.state.publish([str(exc)], [])
            return None
        base = load_config(self.root).site.base_path
        for message in result.errors:
            self.log(f"error: {message}")
        if not result.noop:
            self.log(
                f"rebuilt in {result.seconds:.2f}s: {result.rendered} rendered, "
                f"{result.executed} executed, {len(result.changed)} files changed"
            )
        self.state.publish(result.errors, page_urls(base, result.changed))
        return result

    def run(self) -> None:
        """The watcher's thread: wait for a change, let the burst settle, build."""
        from knowrepo.pipeline.render.job import warm_renderer

        # Warm this process's renderer now (imports, first render: ~1 s), not on the first edit.
        with contextlib.suppress(Exception):
            warm_renderer(str(load_config(self.root).state_dir / "cache" / "jinja"))
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


def watch(root: Path, output: Path, builder: Builder) -> Any:
    """A watchdog observer that queues a rebuild for every relevant change."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: Any) -> None:
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


def make_handler(output: Path, base_path: str, state: State) -> type:
    class Handler(http.server.SimpleHTTPRequestHandler):
        """Serves the current site version under base_path, with live reload."""

        def log_message(self, *args: object) -> None:
            pass

        def translate_path(self, path: str) -> str:
            path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
            if not path.startswith(base_path):
                return "/nonexistent"
            site = os.path.realpath(output)  # one version for this whole request
            rel = posixpath.normpath(path[len(base_path) :]).lstrip("/")
            if rel.startswith(".."):
                return "/nonexistent"
            return os.path.join(site, rel) if rel != "." else site

        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith(LIVE_PREFIX):
                return self.live()
            if self.path in ("/", "") and base_path != "/":
                self.send_response(302)
                self.send_header("Location", base_path)
                self.end_headers()
                return None
            target = self.translate_path(self.path)
            if os.path.isdir(target):
                if not self.path.split("?")[0].endswith("/"):
                    return super().do_GET()  # the standard redirect to the slash form
                target = os.path.join(target, "index.html")
            if target.endswith(".html") and os.path.isfile(target):
                return self.send_html(Path(target).read_bytes())
            if not os.path.exists(target):
                page = Path(os.path.realpath(output)) / "404.html"
                if page.is_file():
                    return self.send_html(page.read_bytes(), 404)
            return super().do_GET()

        def send_html(self, body: bytes, status: int = 200) -> None:
            tag = b'<script src="/__knowrepo/live.js"></script>'
            body = body.replace(b"</body>", tag + b"</body>", 1) if b"</body>" in body else body + tag
            self.send_body(body, "text/html; charset=utf-8", status)

        def send_body(self, body: bytes, content_type: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def live(self) -> None:
            if self.path.startswith(LIVE_PREFIX + "live.js"):
                self.send_body(LIVE_SCRIPT.encode(), "application/javascript")
            elif self.path.startswith(LIVE_PREFIX + "status"):
                self.send_body(json.dumps(state.snapshot()).encode(), "application/json")
            elif self.path.startswith(LIVE_PREFIX + "events"):
                self.events()
            else:
                self.send_error(404)

        def events(self) -> None:
            """Server-sent events: one message per finished build (and the current state first)."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen = -1
            with contextlib.suppress(OSError):
                while not getattr(self.server, "stopping", False):
                    with state.lock:
                        if state.generation == seen:
                            state.lock.wait(timeout=15)
                        snapshot = state.snapshot()
                    if snapshot["generation"] == seen:
                        self.wfile.write(b": keep-alive\n\n")  # notices a closed tab
                    else:
                        if seen == -1:
                            snapshot["changed"] = []  # the first message only sets the overlay
                        seen = snapshot["generation"]
                        self.wfile.write(f"data: {json.dumps(snapshot)}\n\n".encode())
                    self.wfile.flush()

    return Handler


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def run_preview(root: Path, host: str, port: int, execute: bool, log: Any) -> None:
    """Build, serve and watch until Ctrl-C."""
    config = load_config(root)
    output = config.state_dir / "preview" / "site"
    output.parent.mkdir(parents=True, exist_ok=True)
    state = State()
    builder = Builder(root, output, execute, state, log)
    handler = make_handler(output, config.site.base_path, state)
    try:
        server = http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise KnowrepoError(
                None, f"port {port} on {host} is in use; choose another with --port {port + 1}"
            ) from None
        raise KnowrepoError(None, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    server.daemon_threads = True
    # Ctrl-C and SIGTERM stop the server cleanly, even when started from a shell that
    # ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    builder.build_once()
    observer = watch(root, output, builder)
    worker = threading.Thread(target=builder.run, name="knowrepo-rebuild", daemon=True)
    worker.start()
    log(
        f"Serving {root.name} at http://{host}:{server.server_address[1]}{config.site.base_path} "
        "(Ctrl-C stops)"
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.stopping = True  # type: ignore[attr-defined]
        with state.lock:
            state.lock.notify_all()
        observer.stop()
        builder.requests.put(None)
        server.server_close()
        observer.join(timeout=5)
        worker.join(timeout=30)
