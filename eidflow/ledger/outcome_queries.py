"""The rows eidflow read and did not hand off (``row_outcomes``), as ``show`` and ``pending``
ask for them: plain dicts, no pandas (``show`` starts in a fraction of a second)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eidflow.codes import Reason, Status
from eidflow.identifiers import eid as eid_rules
from eidflow.ledger import states as s
from eidflow.ledger.db import Connection
from eidflow.ledger.queries import iso, shipment_filter

FINISHED = ", ".join(f"'{state}'" for state in s.FINISHED_STATES)
# The step of ``eidflow pending`` a row waits at, and what to do about it, by its status.
STEP = {
    Status.REJECTED: "held back: rejected",
    Status.DUPLICATE: "held back: duplicate in the run",
    Status.CONFLICT: "held back: conflict",
}
TODO = {
    Status.REJECTED: (
        "correct the row in the manifest (or ask the sender for it), then ingest the corrected file"
    ),
    Status.DUPLICATE: "nothing: the first of these rows in the run is the one handed off",
    Status.CONFLICT: (
        "find out which EID and serial belong together, correct the manifest, then"
        " ingest it again with --reprocess"
    ),
}
# Handed off since: by a later run (a duplicate: by its own run, which took the first row).
LATER = f"c.run_no + (CASE WHEN o.status = '{Status.DUPLICATE.value}' THEN 1 ELSE 0 END) > o.run_no"
CLAIMED_SINCE = (
    f"SELECT 1 FROM claims c WHERE c.eid = o.eid AND o.eid <> '' AND {LATER}"
    " UNION ALL SELECT 1 FROM serials s JOIN claims c ON c.eid = s.eid"
    f" WHERE s.serial_number = o.serial_number AND o.serial_number <> '' AND {LATER}"
)
SELECT = (
    "SELECT o.eid, o.eid_raw, o.serial_number, o.imei, o.status, o.reason, o.detail,"
    " o.sheet, o.row, fm.sha256 AS file_sha256, o.operator,"
    " COALESCE(m.name, '') AS source_file,"
    " r.run_id, r.state AS run_state, r.started_at, f.run_id AS first_run_id"
    " FROM row_outcomes o JOIN runs r ON r.run_no = o.run_no"
    " LEFT JOIN runs f ON f.run_no = o.first_run_no LEFT JOIN manifests m ON m.id = o.manifest"
    " JOIN manifests fm ON fm.id = o.file"
)


def rows_for(connection: Connection, key: str) -> list[dict[str, Any]]:
    """The rows not handed off whose EID (as normalised or as written), serial or IMEI is
    ``key``, newest run first."""
    compact = eid_rules.compact(key)
    if not compact:
        return []
    found = connection.rows(
        f"{SELECT} WHERE o.eid = :eid OR o.eid_raw = :raw OR o.serial_number = :serial"
        " OR (o.imei = :digits AND o.imei <> '') ORDER BY r.started_at DESC, o.id DESC",
        {
            "eid": compact,
            "raw": key.strip(),
            "serial": key.strip().upper(),
            "digits": compact if compact.isdigit() else "",
        },
    )
    return [_line(row) for row in found]


def waiting(
    connection: Connection,
    *,
    operator: str = "",
    po: str = "",
    manifest: str = "",
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """The rows finished runs read and did not hand off that still wait, oldest first: not
    those whose EID or serial a later run handed off (nor a duplicate whose first row was),
    filtered like ``funnel.pcs``. A retired PC's rows wait for nobody (``retire --undo``
    is a decision, not a next step): ``show`` finds them, ``pending`` does not list them."""
    where, params = shipment_filter(
        connection,
        "o.operator",
        "fm.sha256",
        operator=operator,
        po=po,
        manifest=manifest,
        since=since,
    )
    where += [f"r.state IN ({FINISHED})", f"NOT EXISTS ({CLAIMED_SINCE})", "o.reason <> :retired"]
    params["retired"] = Reason.RETIRED.value
    found = connection.rows(
        f"{SELECT} LEFT JOIN descriptions d ON d.id = o.description"
        f" WHERE {' AND '.join(where)} ORDER BY r.started_at, o.id",
        params,
    )
    return [_line(row) for row in found]


def _line(row: dict[str, Any]) -> dict[str, Any]:
    status = Status(row["status"])
    return {
        **row,
        "eid_raw": row["eid_raw"] or row["eid"],  # kept only where it differs
        "started_at": iso(row["started_at"]),
        "row": int(row["row"] or 0),
        "step": STEP[status],
        "todo": TODO[status],
    }
