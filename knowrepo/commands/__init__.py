"""The `knowrepo` command: one module per verb, a thin shell over the pipeline stages.

Imports stay lazy: a no-op build must not pay for nbconvert, jinja2 or papermill.
"""

from __future__ import annotations

from knowrepo.commands import (  # noqa: F401 - each adds its verb
    build,
    check,
    email,
    init,
    listing,
    new,
    pdf,
    publish,
    renderserver,
    run,
    runs,
    serve,
)
from knowrepo.commands.group import main

__all__ = ["command", "main"]


def command() -> None:
    """The `knowrepo` command (console script and `python -m knowrepo`)."""
    build._AS_COMMAND[0] = True
    main()
