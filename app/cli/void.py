"""``eidflow void``: withdraw a hand-off sent by mistake, on record, with a withdrawal file.

Without ``--apply`` a plan. With it: one ledger transaction records the void and gives the
run's claims to that operator back (a corrected manifest hands those EIDs off again), then
the operator's withdrawal file is delivered like a hand-off (outbox or S3, receipt last).
A void whose delivery failed or died is *owed*: the same ``eidflow void`` delivers it, and
until then the claim holds those EIDs back from that operator.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli.options import config_option, json_option, ledger_option, open_for_run, print_json
from app.cli.resend import operator_profile
from eidflow import __version__
from eidflow.errors import LedgerBusy

if TYPE_CHECKING:
    from app.settings import Settings
    from eidflow.ledger import SqlLedger, corrections
    from exporters.config import OperatorProfile

SHOWN = 5  # EIDs named in the plan


@click.command()
@click.argument("run_id")
@click.option("--operator", "operator_name", required=True, help="The operator it went to.")
@click.option("--reason", required=True, help="Why (recorded, and written in the file).")
@click.option("--by", "requested_by", default="", help="Who asks (default: the login name).")
@click.option("--apply", is_flag=True, help="Void it (default: show the plan only).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="The run folder.")
@ledger_option
@config_option
@json_option
def void(
    run_id: str,
    operator_name: str,
    reason: str,
    requested_by: str,
    apply: bool,
    out_dir: Path | None,
    ledger_url: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Withdraw what run RUN_ID handed to an operator (a manifest with swapped columns):
    the ledger records it, the operator gets a withdrawal file, the EIDs are free again."""
    from eidflow.ledger import corrections, settle
    from eidflow.ledger import states as s

    if not reason.strip():
        raise click.UsageError("--reason TEXT must say why (it is recorded and sent).")
    settings, ledger = open_for_run(config_file, ledger_url)
    try:
        profile = operator_profile(settings, operator_name)
        settle.settle_dead_runs(ledger)  # a void that died: its receipt decides first
        with ledger.read() as connection:
            voided = corrections.void_of(connection, run_id, operator_name)
            first = corrections.void_eids(connection, voided, SHOWN)
        report = _plan(settings, voided, first)
        if voided.void_state == s.STAGED:
            raise LedgerBusy(
                f"run {run_id} is being voided for {operator_name} by run"
                f" {voided.void_run_id} right now.",
                todo="Wait for it to finish; eidflow history shows it.",
            )
        if apply and voided.void_state != corrections.WITHDRAWN:
            request = corrections.Request(reason.strip(), requested_by or getpass.getuser())
            report["applied"] = _void(settings, ledger, voided, profile, request, out_dir)
    finally:
        ledger.close()
    _show(report, as_json)


def _plan(settings: Settings, voided: corrections.Voided, first: list[str]) -> dict[str, Any]:
    from exporters.withdrawal import withdrawal_path

    folder = settings.delivery.folder or f"{settings.output.runs_dir}/<new run>"
    where = (
        f"s3://{settings.delivery.s3.bucket}/{settings.delivery.s3.prefix}"
        if settings.delivery.kind == "s3"
        else str(folder)
    )
    return {
        "run_id": voided.run_id,
        "operator": voided.operator,
        "eids": voided.eids,
        "first_eids": first,
        "state": voided.void_state or "planned",
        "voided_at": voided.voided_at,
        "reason": voided.reason,
        "withdrawal_file": withdrawal_path(voided.operator, voided.run_id),
        "delivered_to": where,
        "applied": None,
    }


def _void(
    settings: Settings,
    ledger: SqlLedger,
    voided: corrections.Voided,
    profile: OperatorProfile,
    request: corrections.Request,
    out_dir: Path | None,
) -> dict[str, Any]:
    """Record the void (or take up an owed one) under a run of its own, then deliver the
    withdrawal file, then summary.json; a failure leaves it owed for the next void."""
    import pandas as pd

    from app.pipeline import RunInProgress
    from app.runfolder import new_run_id, prepare_run_dir, write_summary
    from eidflow.ledger import corrections
    from eidflow.ledger import states as s
    from exporters.delivery import destination_of
    from exporters.withdrawal import write_withdrawal_file

    started_at = datetime.now(UTC)
    void_run = new_run_id(started_at)
    run_dir = prepare_run_dir(out_dir, settings.output.runs_dir, void_run)
    destination = destination_of(settings.delivery, run_dir, void_run)
    ledger.begin_run(void_run, str(run_dir.resolve()), kind="void", destination=destination)
    run = RunInProgress(ledger, void_run, run_dir, destination, started_at)
    try:
        with ledger.write(claim_lock=True) as connection:
            run_no = int(
                connection.scalar("SELECT run_no FROM runs WHERE run_id = :id", {"id": void_run})
            )
            again = corrections.void_of(connection, voided.run_id, voided.operator)
            if again.void_state in (corrections.WITHDRAWN, s.STAGED):
                raise LedgerBusy(
                    f"run {voided.run_id} was voided for {voided.operator} meanwhile"
                    f" (run {again.void_run_id}).",
                    todo="eidflow history shows it; nothing more to do.",
                )
            if again.void_id:
                corrections.deliver_again(connection, again, run_no)
                reason = again.reason
            else:
                corrections.record_void(connection, again, run_no, request, ledger.now())
                reason = request.reason
            lines = pd.DataFrame(
                corrections.withdrawn_lines(connection, again), columns=["eid", "serial_number"]
            )
        output = write_withdrawal_file(lines, profile, run_dir, voided.run_id, reason)
        counts = {"rows": len(lines), "by_operator": {voided.operator: len(lines)}}
        delivered = run.deliver(
            settings,
            [output],
            counts,
            "No receipt was written: the void is recorded, its withdrawal file is owed. Fix"
            f" the cause, then run eidflow void {voided.run_id} --operator {voided.operator}"
            " --apply again: it delivers the withdrawal.",
        )
        summary = {
            "run_id": void_run,
            "kind": "void",
            "eidflow_version": __version__,
            "started_at": started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "exit_status": 0,
            "void": {
                "run_id": voided.run_id,
                "operator": voided.operator,
                "reason": reason,
                "requested_by": request.requested_by,
            },
            "inputs": [],
            "counts": counts,
            "outputs": [item.as_dict() for item in [output, *delivered]],
        }
        ledger.confirm_live(void_run)
        write_summary(run_dir, summary)
    except Exception as error:  # the void stands; its withdrawal is owed
        run.fail(settings, error)
        raise
    ledger.mark_delivered(void_run, voided.operator, [output.as_dict()])
    ledger.finish_run(void_run)
    return {"run_id": void_run, "run_dir": str(run_dir), "eids": len(lines), "reason": reason}


def _show(report: dict[str, Any], as_json: bool) -> None:
    from eidflow.ledger import corrections

    if as_json:
        print_json(report)
        return
    run, operator = report["run_id"], report["operator"]
    applied = report["applied"]
    if applied:
        click.echo(
            f"voided run {run} for {operator}: {applied['eids']} EID(s) withdrawn"
            f" ({applied['reason']}), run {applied['run_id']} -> {applied['run_dir']}"
        )
    elif report["state"] == corrections.WITHDRAWN:
        click.echo(
            f"run {run} was voided for {operator} already, on {report['voided_at']} UTC"
            f" ({report['reason']}): nothing sent."
        )
    else:
        owed = report["state"] == corrections.OWED
        first = ", ".join(report["first_eids"]) + (" …" if report["eids"] > SHOWN else "")
        click.echo(
            f"run {run} to {operator}: {report['eids']} EID(s) ({first})."
            + (
                f" Voided on {report['voided_at']} UTC ({report['reason']}); its withdrawal"
                " file was never delivered."
                if owed
                else ""
            )
        )
        click.echo(
            "With --apply: "
            + ("" if owed else "the ledger records the void and gives those claims back; ")
            + f"{report['withdrawal_file']} is delivered to {report['delivered_to']}"
            " (receipt.json last). Nothing was changed."
        )
