"""``eidflow resend``: hand devices to an operator again, on purpose, with a reason."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli.options import (
    config_option,
    json_option,
    ledger_option,
    mistyped_eid,
    open_for_run,
    print_json,
)
from eidflow import __version__
from eidflow.errors import ConfigError
from eidflow.ledger import queries

if TYPE_CHECKING:
    import pandas as pd

    from app.pipeline import RunInProgress
    from app.settings import Settings
    from eidflow.ledger import SqlLedger
    from eidflow.ledger import resend as resending
    from exporters.config import OperatorProfile


@click.command()
@click.argument("keys", nargs=-1, required=True)
@click.option(
    "--operator", "operator_name", required=True, help="The operator profile to re-send to."
)
@click.option(
    "--reason",
    default="",
    help="Why (recorded in the ledger). Required, unless the operator rejected them.",
)
@click.option("--by", "requested_by", default="", help="Who asks (default: the login name).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="The run folder.")
@ledger_option
@config_option
@json_option
def resend(
    keys: tuple[str, ...],
    operator_name: str,
    reason: str,
    requested_by: str,
    out_dir: Path | None,
    ledger_url: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Hand EIDs (or serial numbers) to an operator again, on purpose, with a reason.

    Without --reason, the operator's answer is the reason when it rejected every one of
    them (eidflow operator-response): they are sent again after the fix."""
    settings, ledger = open_for_run(config_file, ledger_url)
    try:
        if not reason.strip():
            reason = _rejected_as_reason(ledger, keys, operator_name)
        summary = _resend(
            settings,
            ledger,
            keys,
            operator_name,
            reason.strip(),
            requested_by or getpass.getuser(),
            out_dir,
        )
    finally:
        ledger.close()
    if as_json:
        print_json(summary)
    else:
        click.echo(
            f"run {summary['run_id']}: re-sent {summary['counts']['rows']} EID(s) to "
            f"{operator_name} -> {summary['run_dir']}"
        )


def _resend(
    settings: Settings,
    ledger: SqlLedger,
    keys: tuple[str, ...],
    operator_name: str,
    reason: str,
    requested_by: str,
    out_dir: Path | None,
) -> dict[str, Any]:
    """Write the re-send run and deliver it like an ingest's hand-off: the re-send lines
    are staged first, delivered once the receipt and summary.json are written, released
    if the delivery fails; a re-send killed midway is settled like any dead run."""
    from app.pipeline import RunInProgress
    from app.runfolder import new_run_id, prepare_run_dir
    from eidflow.ledger import resend as resending
    from exporters.delivery import destination_of

    profile = operator_profile(settings, operator_name)
    with ledger.read() as connection:
        eids = resolve_keys(connection, keys)
        handoff = resending.handoff_frame(connection, eids, operator_name)
    started_at = datetime.now(UTC)
    run_id = new_run_id(started_at)
    run_dir = prepare_run_dir(out_dir, settings.output.runs_dir, run_id)
    destination = destination_of(settings.delivery, run_dir, run_id)
    ledger.begin_run(run_id, str(run_dir.resolve()), kind="resend", destination=destination)
    run = RunInProgress(ledger, run_id, run_dir, destination, started_at)
    request = resending.Request(operator_name, reason, requested_by)
    try:
        resending.claim_resend(ledger, run_id, request, handoff)
        summary, handed = _write_and_deliver(settings, handoff, profile, request, run)
    except Exception as error:  # released, unless its file reached S3 or the outbox
        run.fail(settings, error)
        raise
    ledger.mark_delivered(run_id, operator_name, handed)
    ledger.finish_run(run_id)
    return summary | {"run_dir": str(run_dir)}


def _rejected_as_reason(ledger: SqlLedger, keys: tuple[str, ...], operator: str) -> str:
    """The operator's rejections of these EIDs as the re-send's reason, when it rejected
    every one (the answer in force: not one an earlier re-send answered for already)."""
    from eidflow.ledger import answer_queries

    with ledger.read() as connection:
        eids = resolve_keys(connection, keys)
        answers = answer_queries.in_force(connection, operator, eids, live_too=False)
    unanswered = [eid for eid in eids if answers.get(eid, {}).get("answer") != "rejected"]
    if unanswered:
        raise click.UsageError(
            f"a re-send needs --reason TEXT (it is recorded in the ledger): {len(unanswered)}"
            f" EID(s) were not rejected by {operator} ({', '.join(unanswered[:3])}"
            f"{' …' if len(unanswered) > 3 else ''}); only a rejection recorded by eidflow"
            " operator-response stands for a reason."
        )
    said = sorted({answers[eid]["reason"] or answers[eid]["operator_status"] for eid in eids})
    where = sorted({f"{answers[eid]['source_file']} row {answers[eid]['row']}" for eid in eids})
    return (
        f"rejected by {operator}: {'; '.join(said)[:200]} ({', '.join(where)[:200]});"
        " sent again after the fix"
    )


def _write_and_deliver(
    settings: Settings,
    handoff: pd.DataFrame,
    profile: OperatorProfile,
    request: resending.Request,
    run: RunInProgress,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The operator files, delivered (``receipt.json``), then ``summary.json`` last.

    Returns the summary and the operator files handed off."""
    from app.runfolder import write_summary
    from exporters.operator import write_operator_files

    run_dir, run_id, started_at = run.run_dir, run.run_id, run.started_at
    outputs = write_operator_files(handoff, profile, run_dir, run_id)
    handed = [output.as_dict() for output in outputs]
    counts = {"rows": len(handoff), "by_operator": {request.operator: len(handoff)}}
    outputs += run.deliver(
        settings,
        outputs,
        counts,
        "No receipt was written: this re-send is void and the ledger records it as not"
        " delivered. Fix the cause (network, credentials, bucket policy), then run the same"
        " eidflow resend again.",
    )
    summary: dict[str, Any] = {
        "run_id": run_id,
        "kind": "resend",
        "eidflow_version": __version__,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "exit_status": 0,
        "resend": {
            "operator": request.operator,
            "reason": request.reason,
            "requested_by": request.requested_by,
        },
        "inputs": [],
        "counts": counts,
        "outputs": [output.as_dict() for output in outputs],
    }
    run.ledger.confirm_live(run_id)
    write_summary(run_dir, summary)
    return summary, handed


def operator_profile(settings: Settings, name: str) -> OperatorProfile:
    """The operator profile of that name; none is a ConfigError naming those there are."""
    profiles = {profile.name: profile for profile in settings.operators}
    if name not in profiles:
        raise ConfigError(
            f"no operator profile {name!r}.",
            todo=f"Choose one of: {', '.join(sorted(profiles))} ([[operators]] in eidflow.toml).",
        )
    return profiles[name]


def resolve_keys(connection: Any, keys: tuple[str, ...]) -> list[str]:
    """The EIDs the keys (EIDs or serial numbers) mean; one the ledger does not know is a
    ConfigError."""
    eids: list[str] = []
    for key in keys:
        _refuse_mistyped_eid(key)
        found = queries.find_eids(connection, key)
        if not found:
            raise ConfigError(
                f"{key!r} is not in the ledger.", todo="Check the EID or serial number."
            )
        eids += [eid for eid in found if eid not in eids]
    return eids


def _refuse_mistyped_eid(key: str) -> None:
    """32 digits are taken for an EID (``queries.find_eids``): say so when they cannot be one."""
    mistake = mistyped_eid(key)
    if mistake:
        raise ConfigError(
            mistake, todo="Copy the EID again from the manifest or the hand-off file."
        )
