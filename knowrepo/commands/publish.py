"""`knowrepo publish`: choose the run a variant shows (a pin, in runs/pins.yaml), or release it."""

from __future__ import annotations

import sys

import click

from knowrepo.commands.group import Context, main, user_errors, variants_option, verbosity
from knowrepo.loader import load_registry


@main.command()
@verbosity
@click.argument("target", metavar="RUN_ID | REPORT", required=False)
@click.option(
    "--unpin",
    is_flag=True,
    help="Release the pin: of the run RUN_ID, or of REPORT's variants (those of --variant only, if given).",
)
@variants_option
@click.option("--build", "then_build", is_flag=True, help="Then build the site, so that it shows the change.")
@click.pass_obj
def publish(
    obj: Context, target: str | None, unpin: bool, variants: tuple[str, ...], then_build: bool
) -> None:
    """Pin run RUN_ID: its variant's page, card, PDF and email show it from now on, whatever
    runs come later (a scratch run too: that is how one is published). A failed run cannot be
    pinned.

    `knowrepo publish --unpin RUN_ID` (or `--unpin REPORT [--variant V]`) releases pins: the
    variant shows again its successful run of the newest period. Pins are kept in
    runs/pins.yaml (commit it: review and history see who published what). Without
    arguments: list the pins."""
    # (imported when the command runs, as every command's work: they are all defined at each start)
    from knowrepo.pipeline.execute import publishing

    with user_errors():
        root = obj.root()
        if target is None:
            if unpin or variants:
                raise click.UsageError("name a RUN_ID or a REPORT to unpin")
            pins = publishing.list_pins(root)
            for one in pins:
                click.echo(f"{one.slug}\t{one.variant}\t{one.run_id}")
            if not pins and obj.verbosity:
                click.echo(
                    "Nothing is pinned: each variant shows its successful run of the newest period.", err=True
                )
            return
        if unpin:
            for one in publishing.unpin(root, target, variants, load_registry):
                again = "it shows its newest period again"
                _say(obj, f"{one.slug} [{one.variant}]: unpinned (was run {one.run_id}); {again}")
        else:
            if variants:
                raise click.UsageError("--variant goes with --unpin REPORT (a run id names its variant)")
            run, before = publishing.pin(root, target, load_registry)
            was = f" (was run {before})" if before and before != run.id else ""
            scratch = "; a scratch run, published because you pinned it" if run.scratch else ""
            _say(obj, f"{run.slug} [{run.variant}]: shows run {run.id} from now on{was}{scratch}")
    if then_build:
        # (the build command's shell: only with --build)
        from knowrepo.commands.run import _build_site

        if not _build_site(obj, False):
            sys.exit(1)
    else:
        _say(obj, "Pins are kept in runs/pins.yaml (commit it); the site shows them after `knowrepo build`.")


def _say(obj: Context, line: str) -> None:
    if obj.verbosity:
        click.echo(line, err=True)
