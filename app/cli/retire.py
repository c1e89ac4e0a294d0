"""``eidflow retire``: take a PC out (returned, stolen, replaced under warranty), on record.

Without ``--apply`` a plan. With it, in one ledger transaction: a run of its own (``retire``
or ``unretire``, listed by ``history``), a line per PC with the reason, and the PC's claims
given back: it leaves the funnel and the wanted group members (``groups sync`` removes
it), and a later manifest with its EID or serial is held back (``retired``) until
``eidflow retire --undo`` puts it back, which is recorded the same way.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli.options import config_option, json_option, ledger_option, open_for_run, print_json
from app.cli.resend import resolve_keys
from eidflow.errors import ConfigError

if TYPE_CHECKING:
    from eidflow.ledger import corrections


@click.command()
@click.argument("keys", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why (recorded in the ledger).")
@click.option("--undo", is_flag=True, help="Put retired PCs back (recorded too).")
@click.option("--by", "requested_by", default="", help="Who asks (default: the login name).")
@click.option("--apply", is_flag=True, help="Record it (default: show the plan only).")
@ledger_option
@config_option
@json_option
def retire(
    keys: tuple[str, ...],
    reason: str,
    undo: bool,
    requested_by: str,
    apply: bool,
    ledger_url: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Retire PCs by EID or serial number, or put them back with --undo."""
    from eidflow.ledger import corrections, retirements

    if not reason.strip():
        raise click.UsageError("--reason TEXT must say why (it is recorded).")
    _, ledger = open_for_run(config_file, ledger_url)
    try:
        with ledger.read() as connection:
            eids = resolve_keys(connection, keys)
            retired = retirements.retired(connection)
            holders = {eid: _holders(connection, eid) for eid in eids}
        _refuse(eids, retired, undo)
        report: dict[str, Any] = {
            "action": retirements.UNDO if undo else retirements.RETIRE,
            "pcs": [{"eid": eid, "handed_to": holders[eid]} for eid in eids],
            "applied": None,
        }
        if apply:
            request = corrections.Request(reason.strip(), requested_by or getpass.getuser())
            run_id = _record(ledger, eids, undo, request)
            report["applied"] = {"run_id": run_id, "reason": request.reason}
    finally:
        ledger.close()
    _show(report, as_json)


def _holders(connection: Any, eid: str) -> list[str]:
    from eidflow.ledger import queries

    story = queries.device_story(connection, eid)
    return sorted({line["operator"] for line in story["handoffs"] if line["state"] == "delivered"})


def _refuse(eids: list[str], retired: dict[str, dict[str, Any]], undo: bool) -> None:
    """Retire only what is in service, undo only what is retired: neither happens twice."""
    from eidflow.ledger import queries

    if undo:
        wrong = [eid for eid in eids if eid not in retired]
        if wrong:
            raise ConfigError(
                f"{', '.join(wrong[:5])} {'is' if len(wrong) == 1 else 'are'} not retired.",
                todo="eidflow show EID tells a PC's story; --undo is for retired PCs only.",
            )
        return
    done = [eid for eid in eids if eid in retired]
    if done:
        line = retired[done[0]]
        raise ConfigError(
            f"{done[0]} was retired already on {queries.iso(line['started_at'])[:16]} UTC"
            f" ({line['reason']}, run {line['run_id']}).",
            todo="Nothing to do; eidflow retire --undo puts it back.",
        )


def _record(ledger: Any, eids: list[str], undo: bool, request: corrections.Request) -> str:
    from app.runfolder import new_run_id
    from eidflow.ledger import corrections, retirements

    run_id = new_run_id(datetime.now(UTC))
    counts = json.dumps({"rows": len(eids)})
    with ledger.write(claim_lock=True) as connection:
        kind = "unretire" if undo else "retire"
        run_no = corrections.record_run(connection, run_id, kind, ledger.now(), counts)
        if undo:
            retirements.undo(connection, eids, run_no, request)
        else:
            retirements.retire(connection, eids, run_no, request, ledger.now())
    return run_id


def _show(report: dict[str, Any], as_json: bool) -> None:
    from eidflow.ledger import retirements

    if as_json:
        print_json(report)
        return
    undo = report["action"] == retirements.UNDO
    for pc in report["pcs"]:
        held = ", ".join(pc["handed_to"]) or "no operator now"
        click.echo(f"{pc['eid']} (handed to {held})")
    applied = report["applied"]
    if applied:
        click.echo(
            f"{'put back' if undo else 'retired'} {len(report['pcs'])} PC(s) by run"
            f" {applied['run_id']} ({applied['reason']})."
        )
        return
    click.echo(
        "With --apply: "
        + (
            "recorded as back in service; the next manifest with them hands them off again."
            if undo
            else "recorded as retired; their claims are given back, groups sync removes them"
            " from the group, and a later manifest with them is held back (retired)."
        )
        + " Nothing was changed."
    )
