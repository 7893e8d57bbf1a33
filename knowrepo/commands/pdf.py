"""`knowrepo pdf`: a report (each variant, or one run) as a typeset PDF."""

from __future__ import annotations

from pathlib import Path

import click

from knowrepo.commands.group import Context, main, user_errors, variants_option, verbosity
from knowrepo.loader import load_registry


@main.command()
@verbosity
@click.argument("report")
@click.option(
    "--run", "run_id", metavar="RUN_ID", help="Export this run (default: the latest successful run)."
)
@variants_option
@click.option("--last-good", is_flag=True, help="Export the last successful run when the latest failed.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The PDF file (default: <slug>.pdf here; one file per variant).",
)
@click.pass_obj
def pdf(
    obj: Context,
    report: str,
    run_id: str | None,
    variants: tuple[str, ...],
    last_good: bool,
    output: Path | None,
) -> None:
    """Export REPORT (a slug or a path) to a typeset PDF: every variant unless --variant."""
    # (imported when the command runs: the commands are all defined at each start)
    from knowrepo.exports.bodies import exports_for

    with user_errors():
        root = obj.root()
        config, exports = exports_for(
            root, report, run_id, variants, obj.reporter(), load_registry, last_good
        )
        export_pdf = load_registry().export("pdf")
        for item in exports:
            data = export_pdf(root, config, item)
            target = output or Path(item.file_name)
            if output and len(exports) > 1:
                target = output.with_name(f"{output.stem}-{item.variant}{output.suffix or '.pdf'}")
            target.write_bytes(data)
            if obj.verbosity:
                click.echo(f"wrote {target} ({len(data) // 1024} KiB)", err=True)
