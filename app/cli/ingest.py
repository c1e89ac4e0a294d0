"""``eidflow ingest``: manifests in, a complete run folder out."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from eidflow.errors import ConfigError, printable


@click.command()
@click.argument("manifests", nargs=-1, required=True)
@click.option(
    "--inventory",
    help='Intune "All devices" export (DevicesWithInventory CSV, or its zip), or "graph" for'
    " the live tenant (default: [inventory] intune).",
)
@click.option(
    "--entra-devices",
    help='Entra "Download devices" CSV (exportDevice_*.csv), or "graph" (default: [inventory]'
    " entra_devices).",
)
@click.option(
    "--autopilot",
    help='Windows Autopilot devices export (CSV), "graph", or "none" (default: [inventory]'
    " autopilot, else Graph when the inventory comes from Graph): registered PCs not yet"
    " enrolled join the group lists as autopilot_registered.",
)
@click.option(
    "--ledger",
    "ledger_url",
    help="sqlite:///path or postgresql://… (default: [ledger] url, else the per-user ledger).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="The run folder; default runs/<run-id>/.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="eidflow.toml (default: ./eidflow.toml if present).",
)
@click.option(
    "--oem-profile", help="Read the manifests with this [parsers.profiles.NAME] of eidflow.toml."
)
@click.option(
    "--reprocess",
    is_flag=True,
    help="Read manifests the ledger has processed before, again (after fixing a conflict"
    " with another file); what was handed off stays already_registered.",
)
@click.option(
    "--new-ledger",
    is_flag=True,
    help="The output root holds runs of another ledger and a new ledger is meant: go on.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr (default: when stderr is a terminal).",
)
def ingest(
    manifests: tuple[str, ...],
    inventory: str | None,
    entra_devices: str | None,
    autopilot: str | None,
    ledger_url: str | None,
    out_dir: Path | None,
    config_file: Path | None,
    oem_profile: str | None,
    reprocess: bool,
    new_ledger: bool,
    progress: bool | None,
) -> None:
    """Validate, deduplicate and reconcile MANIFEST files; write the run folder."""
    from app.pipeline import IngestRequest, RunResult
    from app.settings import load_settings

    _refuse_missing(manifests)
    if os.environ.get("PREFECT_API_URL"):
        # A Prefect server is configured: run as a flow so that the run shows in its UI.
        from flows.ingest import IngestParameters, ingest_manifests
        from flows.runs import outcome_of

        parameters = IngestParameters(
            manifests=list(manifests),
            inventory=inventory,
            entra_devices=entra_devices,
            autopilot=autopilot,
            out_dir=str(out_dir) if out_dir else None,
            config_file=str(config_file) if config_file else None,
            ledger_url=ledger_url,
            oem_profile=oem_profile,
            reprocess=reprocess,
            new_ledger=new_ledger,
        )
        try:
            result = outcome_of(ingest_manifests(parameters, return_state=True), RunResult)
        except RuntimeError as error:
            if "Failed to reach API" not in str(error):
                raise
            raise ConfigError(
                f"PREFECT_API_URL={os.environ['PREFECT_API_URL']}: the Prefect server does not"
                " answer; nothing was read or handed off.",
                todo="Start the server (prefect server start), or unset PREFECT_API_URL to"
                " run without it.",
            ) from None
    else:
        # No server: call the same steps directly; an ephemeral Prefect server costs seconds.
        from app.pipeline import run_ingest

        overrides: dict[str, Any] = {"ledger": {"url": ledger_url}} if ledger_url else {}
        settings = load_settings(config_file, **overrides)
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
        if progress if progress is not None else sys.stderr.isatty():
            from app.progress import ProgressSteps

            with ProgressSteps() as steps:
                result = run_ingest(request, settings, steps=steps)
        else:
            result = run_ingest(request, settings)
    for record in result.inputs:
        if record.hidden_sheets and not record.error:
            sheets = ", ".join(repr(sheet) for sheet in record.hidden_sheets)
            _say(
                f"eidflow: {record.path}: rows of the hidden sheet(s) {sheets} were read like the"
                " others (warning sheet_hidden): check that they belong to this shipment."
            )
        if record.error:
            _say(f"eidflow: {record.error}")
        elif record.claimed_by_running_runs:
            _say(
                f"eidflow: {record.path}: {record.claimed_by_running_runs} row(s) are being"
                " handed off by another run not finished yet (claimed_by_running_run). Run"
                " this again once it ends: if it failed, those rows are handed off then.",
            )
        elif record.already_processed_by == "this run":
            _say(
                f"eidflow: {record.path}: the same bytes as another manifest given; read once.",
            )
        elif record.already_processed_by:
            _say(
                f"eidflow: {record.path}: already processed by run {record.already_processed_by};"
                " nothing to do. To judge its rows again (after fixing a conflict with another"
                " file), add --reprocess.",
            )
    click.echo(printable(_one_line_summary(result.summary, result.run_dir)))
    sys.exit(result.exit_code)


def _refuse_missing(manifests: tuple[str, ...]) -> None:
    """A manifest path that names nothing is a typo on the command line: exit 2 before a run
    folder is made (a link whose target is gone is named by the run, with its target)."""
    missing = [
        source for source in manifests if "://" not in source and not os.path.lexists(source)
    ]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)}: no such file.",
            todo="Check the path (eidflow ingest reads the files named); nothing was read or"
            " handed off.",
        )


def _say(message: str) -> None:
    """One line on stderr, names in it escaped (a file name cannot forge a second line)."""
    click.echo(printable(message), err=True)


def _one_line_summary(summary: dict[str, Any], run_dir: Path) -> str:
    by_status = summary["counts"]["by_status"]
    parts = ", ".join(f"{count} {status}" for status, count in by_status.items()) or "no rows"
    return (
        f"run {summary['run_id']}: {summary['counts']['rows']} rows ({parts}) -> {run_dir}"
        f" (ledger {summary.get('ledger', '')}){_not_checked(summary)}"
    )


def _not_checked(summary: dict[str, Any]) -> str:
    """What the states do not say for want of a file: without an inventory every accepted
    row reads not_enrolled, without Entra devices every enrolled one entra_unresolved."""
    kinds = {item.get("kind") for item in summary.get("inputs", [])}
    if not summary["counts"]["by_status"].get("accepted"):
        return ""
    if "inventory" not in kinds:
        return (
            "; Intune was not checked (no --inventory): accepted PCs read not_enrolled until"
            " a reconcile sees them"
        )
    if "entra_devices" not in kinds:
        return (
            "; Entra was not checked (no --entra-devices): enrolled PCs have no object id and"
            " are in no group list"
        )
    return ""
