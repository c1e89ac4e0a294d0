"""The deliberate re-send: hand devices to an operator again, with a reason, on record.

A re-send never touches the exactly-once claim: it adds a ``resends`` line per EID with
the reason and who asked, in the state of its run: staged while the run is live,
delivered once its receipt and summary.json are written, released if the delivery fails;
a re-send run that dies is settled by its target like any run.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from eidflow import schema
from eidflow.codes import Status
from eidflow.errors import ConfigError
from eidflow.ledger import states as s
from eidflow.ledger.db import Connection
from eidflow.ledger.sql import SqlLedger

DEVICE_FIELDS = (schema.SERIAL_NUMBER, schema.IMEI, schema.SOURCE_FILE, *schema.DESCRIPTIVE)
FINISHED = ", ".join(f"'{state}'" for state in s.FINISHED_STATES)


def handoff_frame(connection: Connection, eids: list[str], operator: str) -> pd.DataFrame:
    """The hand-off lines to write again (decisions columns and descriptive fields).

    Every EID must have been delivered to ``operator`` before: a first hand-off is the
    job of ``eidflow ingest``, which checks for duplicates and conflicts.
    """
    marks = ", ".join(f":e{n}" for n in range(len(eids))) or "''"
    fields = ", ".join(f"COALESCE(d.{name}, '') AS {name}" for name in schema.DESCRIPTIVE)
    found = connection.rows(
        "SELECT c.eid, c.serial_number, c.imei, COALESCE(m.name, '') AS source_file, c.row,"
        f" c.intune_state, c.entra_object_id, {fields} FROM claims c"
        " JOIN runs r ON r.run_no = c.run_no LEFT JOIN manifests m ON m.id = c.manifest"
        " LEFT JOIN descriptions d ON d.id = c.description"
        f" WHERE c.eid IN ({marks}) AND c.operator = :operator AND r.state IN ({FINISHED})",
        {"operator": operator} | {f"e{n}": eid for n, eid in enumerate(eids)},
    )
    by_eid = {line["eid"]: line for line in found}
    missing = [eid for eid in eids if eid not in by_eid]
    if missing:
        raise ConfigError(
            f"{len(missing)} EID(s) were never delivered to operator {operator!r}: "
            f"{', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}.",
            todo="Re-send only what was delivered; a first hand-off goes through eidflow ingest.",
        )
    return _as_decisions(pd.DataFrame([by_eid[eid] for eid in eids]), operator)


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
    """Record the re-send lines of this run (settled with the run, like any claim)."""
    with ledger.write() as connection:
        run_no = connection.scalar("SELECT run_no FROM runs WHERE run_id = :id", {"id": run_id})
        connection.executemany(
            "INSERT INTO resends (eid, operator, run_no, reason, requested_by)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (eid, request.operator, int(run_no), request.reason, request.requested_by)
                for eid in handoff[schema.EID].tolist()
            ],
        )
