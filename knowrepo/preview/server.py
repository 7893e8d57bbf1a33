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
import signal
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from knowrepo.config import load_config
from knowrepo.errors import KnowrepoError
from knowrepo.plugins import LoadRegistry
from knowrepo.preview.watcher import Builder, State, watch

if TYPE_CHECKING:
    from types import FrameType

LIVE_PREFIX = "/__knowrepo/"

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


class PreviewHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the current site version under base_path, with live reload (make_handler sets
    the three class attributes)."""

    output: Path
    base_path: str
    state: State

    def log_message(self, *args: object) -> None:
        pass

    def translate_path(self, path: str) -> str:
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        if not path.startswith(self.base_path):
            return "/nonexistent"
        site = os.path.realpath(self.output)  # one version for this whole request
        rel = posixpath.normpath(path[len(self.base_path) :]).lstrip("/")
        if rel.startswith(".."):
            return "/nonexistent"
        return os.path.join(site, rel) if rel != "." else site

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith(LIVE_PREFIX):
            return self.live()
        if self.path in ("/", "") and self.base_path != "/":
            self.send_response(302)
            self.send_header("Location", self.base_path)
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
            page = Path(os.path.realpath(self.output)) / "404.html"
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
            self.send_body(json.dumps(self.state.snapshot()).encode(), "application/json")
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
        state = self.state
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


def make_handler(output: Path, base_path: str, state: State) -> type:
    return type("Handler", (PreviewHandler,), {"output": output, "base_path": base_path, "state": state})


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class PreviewServer(http.server.ThreadingHTTPServer):
    """The preview's HTTP server: `stopping` ends the open event streams when it stops."""

    stopping = False


def run_preview(
    root: Path, host: str, port: int, execute: bool, log: Callable[[str], None], load_registry: LoadRegistry
) -> None:
    """Build (with the registry `load_registry` loads), serve and watch until Ctrl-C."""
    config = load_config(root, load_registry)
    output = config.state_dir / "preview" / "site"
    output.parent.mkdir(parents=True, exist_ok=True)
    state = State()
    builder = Builder(root, output, execute, state, log, load_registry)
    handler = make_handler(output, config.site.base_path, state)
    try:
        server = PreviewServer((host, port), handler)
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
        server.stopping = True
        with state.lock:
            state.lock.notify_all()
        observer.stop()
        builder.requests.put(None)
        server.server_close()
        observer.join(timeout=5)
        worker.join(timeout=30)
