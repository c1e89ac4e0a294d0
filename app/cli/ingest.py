"""``eidflow ingest``: manifests in, a complete run folder out."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eidflow.errors import EXIT_OK, ConfigError, EidflowError, printable

if TYPE_CHECKING:
    from app.runfolder import InputRecord
    from app.settings import Settings


# What ``ingest`` and ``check`` read, and how: the same options for both.
READING_OPTIONS = [
    click.option(
        "--inventory",
        help='Intune "All devices" export (DevicesWithInventory CSV, or its zip), or "graph" for'
        " the live tenant (default: [inventory] intune).",
    ),
    click.option(
        "--entra-devices",
        help='Entra "Download devices" CSV (exportDevice_*.csv), or "graph" (default: [inventory]'
        " entra_devices).",
    ),
    click.option(
        "--autopilot",
        help='Windows Autopilot devices export (CSV), "graph", or "none" (default: [inventory]'
        " autopilot, else Graph when the inventory comes from Graph): registered PCs not yet"
        " enrolled join the group lists as autopilot_registered.",
    ),
    click.option(
        "--ledger",
        "ledger_url",
        help="sqlite:///path or postgresql://… (default: [ledger] url, else the per-user ledger).",
    ),
    click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path),
        help="eidflow.toml (default: ./eidflow.toml if present).",
    ),
    click.option(
        "--oem-profile",
        help="Read the manifests with this [parsers.profiles.NAME] of eidflow.toml.",
    ),
    click.option(
        "--reprocess",
        is_flag=True,
        help="Read manifests the ledger has processed before, again (after fixing a conflict"
        " with another file); what was handed off stays already_registered.",
    ),
    click.option(
        "--new-ledger",
        is_flag=True,
        help="The output root holds runs of another ledger and a new ledger is meant: go on.",
    ),
]


def reading_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The manifests argument and ``READING_OPTIONS``, in the order ``--help`` shows them."""
    for option in reversed(READING_OPTIONS):
        command = option(command)
    return click.argument("manifests", nargs=-1, required=True)(command)


@click.command()
@reading_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="The run folder; default runs/<run-id>/.",
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
    from app.cli.options import settings_from

    settings = settings_from(config_file, ledger_url)
    check_ledger_soon(settings)  # while the pipeline's libraries load
    from app.pipeline import IngestRequest, RunResult

    refuse_nothing_to_do(manifests, settings, reprocess)
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
    say_inputs(result.inputs)
    click.echo(printable(one_line_summary(result.summary, result.run_dir)))
    sys.exit(result.exit_code)


def check_ledger_soon(settings: Settings) -> None:
    """Start the SQLite ledger's quick check in the background (``connect.check_soon``)."""
    from eidflow.ledger import parse
    from eidflow.ledger.connect import check_soon

    if settings.flows.secret_blocks.ledger_url:
        return  # the flow's ledger, named by a Secret block
    try:
        check_soon(parse(settings.ledger.url))
    except EidflowError:
        return  # the run opens it and says what is wrong


def refuse_nothing_to_do(manifests: tuple[str, ...], settings: Settings, reprocess: bool) -> None:
    """Before a run folder is made: a manifest path that names nothing is a usage error
    (exit 2); manifests that complete runs ingested, every one, are said so (exit 0)."""
    from app.ingested import every_one_ingested

    _refuse_missing(manifests)
    if not reprocess:
        ingested = every_one_ingested(list(manifests), settings)
        for manifest in ingested:
            _say(f"eidflow: {manifest.sentence()}")
        if ingested:
            sys.exit(EXIT_OK)


def say_inputs(records: list[InputRecord]) -> None:
    """What the run says of its manifests on stderr, one line each."""
    for record in records:
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


def one_line_summary(summary: dict[str, Any], run_dir: Path, what: str = "run") -> str:
    """The run's last line on stdout (``what``: "run", or "check" for ``eidflow check``)."""
    by_status = summary["counts"]["by_status"]
    parts = ", ".join(f"{count} {status}" for status, count in by_status.items()) or "no rows"
    return (
        f"{what} {summary['run_id']}: {summary['counts']['rows']} rows ({parts}) -> {run_dir}"
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
