"""Retired PCs (``eidflow retire``: returned, stolen, replaced under warranty), on record.

A retirement gives every claim on the EID back (kept in ``released`` with the retirement's
run) and adds a ``retirements`` line; until an ``undo`` line follows it, a manifest row
with that EID or serial is held back (``retired``) and the PC is neither a wanted group
member nor in the funnel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eidflow.errors import LedgerBusy
from eidflow.ledger import settle
from eidflow.ledger import states as s
from eidflow.ledger.corrections import Request
from eidflow.ledger.db import Connection

RETIRE, UNDO = "retire", "undo"
# The latest line of each EID, when it is a retirement.
RETIRED_NOW = (
    "SELECT t.eid, t.serial_number, t.entra_object_id, t.reason, r.run_id, r.started_at"
    " FROM retirements t JOIN runs r ON r.run_no = t.run_no WHERE t.action = 'retire'"
    " AND NOT EXISTS (SELECT 1 FROM retirements u WHERE u.eid = t.eid AND u.id > t.id)"
)


def retired(connection: Connection) -> dict[str, dict[str, Any]]:
    """The PCs retired now, by EID: serial, Entra object id, reason, run and its time."""
    return {str(line["eid"]): line for line in connection.rows(RETIRED_NOW)}


def retire(
    connection: Connection, eids: list[str], run_no: int, request: Request, now: Any
) -> None:
    """Retire ``eids`` by run ``run_no``: every claim on them is given back, and recorded."""
    marks = ", ".join(f":e{n}" for n in range(len(eids)))
    keys = {f"e{n}": eid for n, eid in enumerate(eids)}
    running = connection.all(
        "SELECT c.eid, r.run_id FROM claims c JOIN runs r ON r.run_no = c.run_no"
        f" WHERE c.eid IN ({marks}) AND r.state = :live",
        keys | {"live": s.LIVE},
    )
    if running:  # its files may be on their way: they must not hand off a retired PC
        raise LedgerBusy(
            f"run {running[0][1]} is handing {running[0][0]} off right now.",
            todo="Retire it once that run has finished (eidflow history shows it).",
        )
    known = {
        str(line[0]): (str(line[1]), str(line[2]))
        for line in connection.all(
            "SELECT eid, MIN(serial_number), MAX(entra_object_id) FROM (SELECT eid,"
            f" serial_number, entra_object_id FROM claims WHERE eid IN ({marks}) UNION ALL"
            " SELECT eid, serial_number, entra_object_id FROM released"
            f" WHERE eid IN ({marks})) seen GROUP BY eid",
            keys,
        )
    }
    connection.executemany(  # one line per EID, known or not (one only ever re-sent)
        "INSERT INTO retirements (eid, serial_number, entra_object_id, action, run_no, reason,"
        " requested_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (eid, *known.get(eid, ("", "")), RETIRE, run_no, request.reason, request.requested_by)
            for eid in eids
        ],
    )
    settle.release(connection, now, f"{{t}}.eid IN ({marks})", keys, released_by=run_no)


def undo(connection: Connection, eids: list[str], run_no: int, request: Request) -> None:
    """Put retired ``eids`` back: a later manifest hands them off again."""
    connection.executemany(
        "INSERT INTO retirements (eid, serial_number, entra_object_id, action, run_no, reason,"
        " requested_by) SELECT eid, serial_number, entra_object_id, ?, ?, ?, ? FROM retirements"
        " WHERE id = (SELECT MAX(id) FROM retirements WHERE eid = ?)",
        [(UNDO, run_no, request.reason, request.requested_by, eid) for eid in eids],
    )


def retired_rows(connection: Connection, eids: pa.Array, serials: pa.Array) -> np.ndarray:
    """Per key pair, whether the EID or the serial is retired now (a NumPy bool array)."""
    lines = connection.all(RETIRED_NOW)
    if not lines:
        return np.zeros(len(eids), dtype=bool)
    gone_eids = pa.array([str(line[0]) for line in lines], pa.string())
    gone_serials = pa.array([str(line[1]) for line in lines if line[1]], pa.string())
    hit = pc.or_(
        pc.is_in(eids, value_set=gone_eids),
        pc.and_(pc.not_equal(serials, ""), pc.is_in(serials, value_set=gone_serials)),
    )
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
