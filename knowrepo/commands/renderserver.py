"""`knowrepo render-server SOCKET IDLE` (hidden): the process of the warm render server that a
build starts (pipeline/render/server.py). Its entry is a command, as every knowrepo process's:
it loads the registry, which the server's renders take."""

from __future__ import annotations

import click

from knowrepo.commands.group import main
from knowrepo.loader import load_registry


@main.command(name="render-server", hidden=True)  # (pipeline/render/server.py: SERVER_COMMAND)
@click.argument("socket_path")
@click.argument("idle_seconds", type=float)
def render_server(socket_path: str, idle_seconds: float) -> None:
    """Render the jobs of the builds that connect to SOCKET_PATH, until IDLE_SECONDS idle."""
    # (imported here, as every command's work: the commands are defined at each start)
    from knowrepo.pipeline.render.server import run_server

    run_server(socket_path, idle_seconds, load_registry)
