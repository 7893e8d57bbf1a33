"""The registry of this process: knowrepo's own parts (builtins.py), then every installed
plugin's, loaded once, when a command first asks for them.

The commands, knowrepo's process entries, hand `load_registry` down to what needs the parts; a
part never imports it. A function rather than the registry: a no-op build never calls it, and a
worker process gets it by reference (pickled by name) and loads its own registry once.
"""

from __future__ import annotations

from functools import cache

from knowrepo.plugins import Registry, load_plugins


@cache
def load_registry() -> Registry:
    """knowrepo's own parts, then every installed plugin's; once per process (the command, each
    render worker, the render server)."""
    from knowrepo import builtins  # (every part of knowrepo: only once a part is needed)

    registry = Registry()
    builtins.setup(registry)
    load_plugins(registry)
    registry.check()
    return registry
