"""`knowrepo check`: the whole repository validated like a linter, without building or
executing (pipeline/check.py finds the problems; this prints them)."""

from __future__ import annotations

import json
import sys
import time

import click

from knowrepo.commands.group import Context, main, user_errors, verbosity
from knowrepo.loader import load_registry


@main.command()
@verbosity
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON on stdout.")
@click.pass_obj
def check(obj: Context, as_json: bool) -> None:
    """Validate the repository without building or executing: every problem, one line each."""
    # (imported when the command runs, as every command's work: they are all defined at each start)
    from knowrepo.pipeline.check import check_repository

    started = time.perf_counter()
    with user_errors(as_json):
        problems = check_repository(obj.root(), load_registry)
    seconds = time.perf_counter() - started
    errors = [p for p in problems if not p.warning]
    if as_json:
        click.echo(json.dumps({"ok": not errors, "problems": [p.to_json() for p in problems]}, indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
        if obj.verbosity:
            found = f"{len(errors)} problem(s)" if errors else "no problems"
            warned = f", {len(problems) - len(errors)} warning(s)" if len(problems) > len(errors) else ""
            click.echo(f"knowrepo check: {found}{warned} ({seconds:.2f}s)", err=True)
    sys.exit(1 if errors else 0)
