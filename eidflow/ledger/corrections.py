"""Corrections on record: a hand-off voided (``eidflow void``); and what every correction
shares, its request and its run (retirements: ``retirements``).

A void gives the run's claims to one operator back, in one transaction with its ``voids``
line, so that a corrected manifest hands those EIDs off again; the claims go to
``released`` with the void's run (``released_by``). The withdrawal file is the void's run's
delivery: the void is *withdrawn* once that run is finished, *staged* while it is live, and
*owed* when it failed or died before its receipt (the next ``eidflow void`` of that run
delivers it, from the same released lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eidflow.errors import ConfigError
from eidflow.ledger import settle
from eidflow.ledger import states as s
from eidflow.ledger.db import Connection

WITHDRAWN, OWED = "withdrawn", "owed"
FINISHED = ", ".join(f"'{state}'" for state in s.FINISHED_STATES)
VOIDED_CLAIMS = "{t}.run_no = :voided AND {t}.operator = :operator"


@dataclass(frozen=True)
class Request:
    """Who asks for a correction, and why: recorded with it."""

    reason: str
    requested_by: str


@dataclass(frozen=True)
class Voided:
    """A run's hand-off to one operator, and its void if it has one."""

    run_id: str
    run_no: int
    operator: str
    eids: int  # delivered claims of the run to the operator (before a void), or voided
    void_id: int = 0
    void_run_id: str = ""
    void_state: str = ""  # withdrawn, staged, owed; "" when not voided
    voided_at: str = ""
    reason: str = ""


def void_of(connection: Connection, run_id: str, operator: str) -> Voided:
    """The hand-off of ``run_id`` to ``operator`` and its void: a run the ledger does not
    know, or that never delivered anything to ``operator``, is a ConfigError."""
    found = connection.rows(
        "SELECT run_no, state, kind FROM runs WHERE run_id = :id", {"id": run_id}
    )
    if not found:
        raise ConfigError(
            f"run {run_id!r} is not in the ledger.", todo="eidflow history lists the runs."
        )
    run_no = int(found[0]["run_no"])
    void = connection.rows(
        "SELECT v.id, v.eids, v.reason, r.run_id, r.state, r.started_at, f.started_at AS first"
        " FROM voids v JOIN runs r ON r.run_no = v.run_no JOIN runs f ON f.run_no = v.released_by"
        " WHERE v.voided_run_no = :run_no AND v.operator = :operator",
        {"run_no": run_no, "operator": operator},
    )
    if void:
        line = void[0]
        return Voided(
            run_id,
            run_no,
            operator,
            int(line["eids"]),
            int(line["id"]),
            str(line["run_id"]),
            _void_state(str(line["state"])),
            str(line["first"])[:19],
            str(line["reason"]),
        )
    held = 0
    if found[0]["state"] in s.FINISHED_STATES:
        held = int(
            connection.scalar(
                "SELECT COUNT(*) FROM claims WHERE run_no = :run_no AND operator = :operator",
                {"run_no": run_no, "operator": operator},
            )
            or 0
        )
    if not held:
        kind = f" (a {found[0]['kind']} run: void the run that first handed them off)"
        raise ConfigError(
            f"run {run_id} handed nothing off to operator {operator!r} that the ledger holds"
            f"{kind if found[0]['kind'] != 'ingest' else ''}.",
            todo="eidflow history shows each run's hand-offs by operator.",
        )
    return Voided(run_id, run_no, operator, held)


def _void_state(run_state: str) -> str:
    if run_state in s.FINISHED_STATES:
        return WITHDRAWN
    return s.STAGED if run_state == s.LIVE else OWED


def record_void(
    connection: Connection, voided: Voided, run_no: int, request: Request, now: Any
) -> None:
    """Record the void by run ``run_no`` and give the claims back (the caller's transaction)."""
    connection.execute(
        "INSERT INTO voids (voided_run_no, operator, released_by, run_no, eids, reason,"
        " requested_by) VALUES (:voided, :operator, :run_no, :run_no, :eids, :reason, :by)",
        {
            "voided": voided.run_no,
            "operator": voided.operator,
            "run_no": run_no,
            "eids": voided.eids,
            "reason": request.reason,
            "by": request.requested_by,
        },
    )
    settle.release(
        connection,
        now,
        VOIDED_CLAIMS,
        {"voided": voided.run_no, "operator": voided.operator},
        released_by=run_no,
    )


def deliver_again(connection: Connection, voided: Voided, run_no: int) -> None:
    """An owed withdrawal is delivered by the run ``run_no`` now."""
    connection.execute(
        "UPDATE voids SET run_no = :run_no WHERE id = :id", {"run_no": run_no, "id": voided.void_id}
    )


def withdrawn_lines(connection: Connection, voided: Voided) -> list[dict[str, Any]]:
    """The EIDs the void gave back (EID order): ``eid``, ``serial_number``."""
    return connection.rows(
        "SELECT x.eid, x.serial_number FROM released x JOIN voids v"
        " ON v.voided_run_no = x.run_no AND v.operator = x.operator"
        " AND v.released_by = x.released_by WHERE v.voided_run_no = :voided"
        " AND v.operator = :operator ORDER BY x.eid",
        {"voided": voided.run_no, "operator": voided.operator},
    )


def owed_rows(connection: Connection, eids: pa.Array, operators: pa.Array) -> np.ndarray:
    """Per (EID, operator), whether a void of that hand-off has not been withdrawn yet (a
    NumPy bool array): the claim holds those rows back until the withdrawal is delivered."""
    owed = connection.all(
        "SELECT x.eid, x.operator FROM released x JOIN voids v"
        " ON v.voided_run_no = x.run_no AND v.operator = x.operator"
        " AND v.released_by = x.released_by JOIN runs r ON r.run_no = v.run_no"
        f" WHERE r.state NOT IN ({FINISHED})"
    )
    if not owed:  # the usual case: nothing is compared
        return np.zeros(len(eids), dtype=bool)
    pairs = {(str(line[0]), str(line[1])) for line in owed}
    by_eid = pa.array(sorted({eid for eid, _ in pairs}), pa.string())
    hit = pc.fill_null(pc.is_in(eids, value_set=by_eid), False)
    rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    waiting = np.zeros(len(eids), dtype=bool)
    picked = pa.array(rows, pa.int64())
    found = zip(eids.take(picked).to_pylist(), operators.take(picked).to_pylist(), strict=True)
    waiting[rows] = [pair in pairs for pair in found]  # a few rows: the voids' EIDs
    return waiting


def record_run(connection: Connection, run_id: str, kind: str, now: Any, counts: str) -> int:
    """A correction that hands nothing off (a retirement) as a complete run of its own, in
    the caller's transaction: ``history`` lists it with the runs. Returns its number."""
    connection.execute(
        "INSERT INTO runs (run_id, run_no, kind, started_at, finished_at, state, counts)"
        " VALUES (:run_id, (SELECT COALESCE(MAX(run_no), 0) + 1 FROM runs), :kind, :now, :now,"
        " :state, :counts)",
        {"run_id": run_id, "kind": kind, "now": now, "state": s.COMPLETE, "counts": counts},
    )
    return int(connection.scalar("SELECT run_no FROM runs WHERE run_id = :id", {"id": run_id}))


def void_eids(connection: Connection, voided: Voided, limit: int) -> list[str]:
    """The first EIDs a void gives back (or gave back), EID order."""
    if voided.void_id:
        return [str(line["eid"]) for line in withdrawn_lines(connection, voided)[:limit]]
    return [
        str(row[0])
        for row in connection.all(
            "SELECT eid FROM claims WHERE run_no = :run_no AND operator = :operator"
            " ORDER BY eid LIMIT :limit",
            {"run_no": voided.run_no, "operator": voided.operator, "limit": limit},
        )
    ]
