"""The `knowrepo` command group and what every verb shares: finding the repository, the
reporter, and turning errors into one line and an exit code."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click

from knowrepo.config import find_root, option_named
from knowrepo.errors import KnowrepoError
from knowrepo.loader import load_registry
from knowrepo.support.progress import make_reporter
from knowrepo.support.quiet import quiet_libraries

if TYPE_CHECKING:
    from knowrepo.support.progress import Reporter

Command = TypeVar("Command", bound=Callable[..., object])  # a command's function, as decorated


class Context:
    def __init__(self, directory: Path | None, verbosity: int) -> None:
        self.directory = directory
        self.verbosity = verbosity

    def root(self, given: Path | None = None) -> Path:
        return find_root(given or self.directory or Path.cwd())

    def reporter(self, as_json: bool = False) -> Reporter:
        quiet_libraries(self.verbosity)  # (worker processes are forked after this: they inherit it)
        return make_reporter(0 if as_json else self.verbosity)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run as if started in DIR (the repository is found upward from there).",
)
@click.option("-q", "--quiet", count=True, help="Print only errors.")
@click.option("-v", "--verbose", count=True, help="Print every file handled.")
@click.version_option(package_name="knowrepo")
@click.pass_context
def main(ctx: click.Context, directory: Path | None, quiet: int, verbose: int) -> None:
    """Publish notebooks and Markdown analyses as a static knowledge site."""
    ctx.obj = Context(directory, max(0, 1 + verbose - quiet))


def _adjust(delta: int) -> Callable[[click.Context, click.Parameter, int], None]:
    def callback(ctx: click.Context, _param: click.Parameter, count: int) -> None:
        obj = ctx.find_object(Context)
        if count and obj is not None:
            obj.verbosity = max(0, obj.verbosity + delta * count)

    return callback


def verbosity(command: Command) -> Command:
    """-q / -v after the command name too (`knowrepo build -q`), not only before it."""
    command = click.option(
        "-q", "--quiet", count=True, expose_value=False, callback=_adjust(-1), help="Print only errors."
    )(command)
    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=_adjust(1),
        help="Print every file handled.",
    )(command)


def fail(error: KnowrepoError, as_json: bool = False) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"ok": False, "error": str(error)}))
    for line in error.lines():  # (a file with several faults: each on its own line)
        click.echo(f"error: {line}", err=True)
    sys.exit(1)


def interrupted() -> NoReturn:
    click.echo("interrupted: the published site and recorded runs are unchanged", err=True)
    sys.exit(130)


@contextlib.contextmanager
def user_errors(as_json: bool = False) -> Iterator[None]:
    """A KnowrepoError ends the command with its one line and exit 1; Ctrl-C with exit 130;
    a file that cannot be written with its one line; anything else (a bug) with one line and
    exit 2, the traceback only with -vv (cron mails stay readable)."""
    try:
        yield
    except KnowrepoError as exc:
        fail(exc, as_json)
    except KeyboardInterrupt:
        interrupted()
    except OSError as exc:
        fail(KnowrepoError(exc.filename, f"cannot read or write: {exc.strerror or exc}"), as_json)
    except Exception as exc:
        context = click.get_current_context(silent=True)
        obj = context.find_object(Context) if context else None
        if obj is not None and obj.verbosity >= 3:
            import traceback  # (only to show a bug's traceback (-vv))

            traceback.print_exc()
        message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        click.echo(
            f"error: knowrepo failed unexpectedly ({message}); this is a bug, please report it"
            " (-vv shows the traceback)",
            err=True,
        )
        sys.exit(2)


def params_option(command: Command) -> Command:
    return click.option(
        "-p",
        "--param",
        "params",
        multiple=True,
        metavar="NAME=VALUE",
        help="Set a parameter (repeatable); the value is read as the parameter's type.",
    )(command)


def variants_option(command: Command) -> Command:
    return click.option("--variant", "variants", multiple=True, help="Only this variant (repeatable).")(
        command
    )


def like_config(section: str, name: str) -> click.ParamType[str | int | bool]:
    """The click type of a flag that sets [section] name for one command: its declared choices
    or minimum, so that the flag and knowrepo.toml take the same values."""
    declared = option_named(section, name)
    if declared.registered:
        return LazyChoice(functools.partial(_registered_names, declared.registered))
    if callable(declared.choices):
        return LazyChoice(declared.choices)
    if declared.choices:
        return click.Choice(declared.choices)
    if declared.minimum is not None:
        return click.IntRange(min=declared.minimum)
    return {bool: click.BOOL, int: click.INT}.get(type(declared.default), click.STRING)


def _registered_names(kind: str) -> list[str]:
    """The names of the parts of `kind` that knowrepo and its plugins register."""
    return load_registry().names(kind)  # (the parts are loaded when a flag is checked)


class LazyChoice(click.Choice[str]):
    """A click.Choice whose choices are asked for when a value or the help needs them: a plugin
    registry supplies them, and loading it while the commands are defined would cost every one."""

    def __init__(self, supply: Callable[[], Iterable[str]]) -> None:
        self.supply = supply
        self.case_sensitive = True

    @property  # (click declares `choices` an attribute: a property in its place is this class's point)
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.supply())
