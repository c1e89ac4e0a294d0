"""``eidflow check``: what ``ingest`` would decide, with nothing claimed or handed off."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli.ingest import one_line_summary, reading_options, refuse_nothing_to_do, say_inputs
from eidflow.errors import printable


@click.command()
@reading_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="The folder for decisions.csv and report.xlsx; default runs/checks/check-<id>/.",
)
def check(
    manifests: tuple[str, ...],
    inventory: str | None,
    entra_devices: str | None,
    autopilot: str | None,
    ledger_url: str | None,
    config_file: Path | None,
    oem_profile: str | None,
    reprocess: bool,
    new_ledger: bool,
    out_dir: Path | None,
) -> None:
    """Decide MANIFEST files' rows as ingest would now; claim, record and send nothing."""
    from app.check import run_check
    from app.cli.options import settings_from
    from app.pipeline import IngestRequest

    settings = settings_from(config_file, ledger_url)
    refuse_nothing_to_do(manifests, settings, reprocess)
    request = IngestRequest(
        list(manifests),
        inventory,
        entra_devices,
        out_dir,
        oem_profile,
        reprocess,
        new_ledger,
        autopilot=autopilot,
    )
    result = run_check(request, settings)
    say_inputs(result.inputs)
    summary = one_line_summary(result.summary, result.run_dir, what="check")
    click.echo(printable(f"{summary}; nothing was claimed or handed off"))
    sys.exit(result.exit_code)
