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
    if as_json:
        click.echo(json.dumps({"ok": not problems, "problems": [p.to_json() for p in problems]}, indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
        if obj.verbosity:
            found = f"{len(problems)} problem(s)" if problems else "no problems"
            click.echo(f"knowrepo check: {found} ({seconds:.2f}s)", err=True)
    sys.exit(1 if problems else 0)
