"""The deliberate re-send: hand devices to an operator again, with a reason, on record.

A re-send never touches the exactly-once claim: it adds a hand-off line with the
reason and who asked, staged and settled like any other run's claims: staged before
its files leave, delivered once its receipt and summary.json are written, released if
the delivery fails; a re-send run that dies is settled by its folder and its receipt.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, bindparam, text

from eidflow import schema
from eidflow.codes import Status
from eidflow.errors import ConfigError
from eidflow.ledger import bulk
from eidflow.ledger import tables as t
from eidflow.ledger.sql import SqlLedger

DEVICE_FIELDS = (schema.SERIAL_NUMBER, schema.IMEI, schema.SOURCE_FILE, *schema.DESCRIPTIVE)


def handoff_frame(connection: Connection, eids: list[str], operator: str) -> pd.DataFrame:
    """The hand-off lines to write again (decisions columns and descriptive fields).

    Every EID must have been delivered to ``operator`` before: a first hand-off is the
    job of ``eidflow ingest``, which checks for duplicates and conflicts.
    """
    statement = text(
        "SELECT d.eid, d.serial_number, d.imei, d.source_file, d.row, d.intune_state,"
        f" d.entra_object_id, {', '.join('d.' + name for name in schema.DESCRIPTIVE)}"
        " FROM devices d WHERE d.eid IN :eids AND EXISTS (SELECT 1 FROM handoffs h"
        " WHERE h.eid = d.eid AND h.operator = :operator AND h.state = :delivered"
        " AND h.resend_reason = '')"
    ).bindparams(bindparam("eids", expanding=True))
    rows = connection.execute(
        statement, {"eids": eids, "operator": operator, "delivered": t.DELIVERED}
    ).mappings()
    found = pd.DataFrame([dict(row) for row in rows])
    missing = sorted(set(eids) - set(found.get(schema.EID, [])))
    if missing:
        raise ConfigError(
            f"{len(missing)} EID(s) were never delivered to operator {operator!r}: "
            f"{', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}.",
            todo="Re-send only what was delivered; a first hand-off goes through eidflow ingest.",
        )
    found = found.set_index(schema.EID).loc[eids].reset_index()
    return _as_decisions(found, operator)


def _as_decisions(found: pd.DataFrame, operator: str) -> pd.DataFrame:
    frame = pd.DataFrame({column: "" for column in schema.DECISION_COLUMNS}, index=found.index)
    for column in (schema.EID, *DEVICE_FIELDS, schema.INTUNE_STATE, schema.ENTRA_OBJECT_ID):
        frame[column] = found[column].fillna("").astype("str")
    frame[schema.ROW] = found["row"].astype("int64")
    frame[schema.EID_RAW] = frame[schema.EID]
    frame[schema.STATUS] = Status.ACCEPTED.value
    frame[schema.OPERATOR] = operator
    frame[schema.DETAIL] = "Re-sent on request."
    return frame


@dataclass(frozen=True)
class Request:
    """Who asks to send again, to which operator, and why: recorded on every line."""

    operator: str
    reason: str
    requested_by: str


def claim_resend(ledger: SqlLedger, run_id: str, request: Request, handoff: pd.DataFrame) -> None:
    """Stage the re-send lines of this run (settled with the run, like any claim)."""
    lines = handoff[[schema.EID, schema.SERIAL_NUMBER, schema.IMEI, schema.SOURCE_FILE, "row"]]
    with ledger.write() as connection:
        lines = lines.assign(
            operator=request.operator,
            run_id=run_id,
            state=t.STAGED,
            staged_at=ledger.now(),
            resend_reason=request.reason,
            requested_by=request.requested_by,
        )
        bulk.insert_frame(connection, "handoffs", lines)
