"""Settling the claims of runs that died: their run folder decides.

A dead run whose folder is complete (``summary.json``) delivered its hand-off: its
claims become delivered and the manifests its summary lists are recorded. A dead
run whose folder is incomplete delivered nothing: its claims are released, so the
next run hands those EIDs off again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from eidflow.errors import EidflowError
from eidflow.ledger import bulk, liveness
from eidflow.ledger import tables as t
from eidflow.runfolder import SUMMARY_FILE, is_complete

if TYPE_CHECKING:
    from eidflow.ledger.sql import SqlLedger

LOG = logging.getLogger(__name__)


def folder_is_complete(run_id: str, run_dir: str) -> bool:
    return bool(run_dir) and is_complete(Path(run_dir))


def absolute(run_dir: str) -> str:
    """A local folder as an absolute path (another run may settle it from elsewhere)."""
    return run_dir if "://" in run_dir else str(Path(run_dir).resolve())


def settle_dead_runs(ledger: SqlLedger) -> list[str]:
    """Settle every live run whose process is gone; returns their ids."""
    with ledger.read() as connection:
        candidates = connection.execute(
            text("SELECT run_id, run_dir, host, pid, proc_start FROM runs WHERE state = :live"),
            {"live": t.LIVE},
        ).all()
    settled = []
    for run_id, run_dir, host, pid, start in candidates:
        if run_id in liveness.LIVE_HERE:
            continue
        if ledger.engine.dialect.name == "postgresql":
            done = _settle_if_unlocked(ledger, run_id, run_dir)
        elif not liveness.is_alive(run_id, liveness.ProcessId(host, int(pid), start)):
            done = settle_run(ledger, run_id, run_dir)
        else:
            done = False
        if done:
            settled.append(run_id)
    return settled


def _settle_if_unlocked(ledger: SqlLedger, run_id: str, run_dir: str) -> bool:
    """PostgreSQL: the run's owner is dead if its session-level advisory lock is free."""
    key = f"{liveness.RUN_LOCK_CLASS}, {liveness.run_lock_key(run_id)}"
    with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if not connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})").scalar():
            return False
        try:
            return settle_run(ledger, run_id, run_dir)
        finally:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")


def settle_run(ledger: SqlLedger, run_id: str, run_dir: str) -> bool:
    """Promote or release the claims of a dead run; False if another process settled it
    first, or if whether it handed its files off cannot be told now (it stays live, its
    claims held: a later run settles it)."""
    try:
        complete = ledger.is_complete(run_id, run_dir)
    except EidflowError as error:
        LOG.warning("run %s died; cannot tell yet whether it handed off: %s", run_id, error)
        return False
    with ledger.write(claim_lock=True) as connection:
        state = connection.execute(
            text("SELECT state FROM runs WHERE run_id = :run_id"), {"run_id": run_id}
        ).scalar()
        if state != t.LIVE:
            return False
        now = ledger.now()
        if complete:
            deliver_staged(connection, run_id, now)
            record_manifests(connection, run_id, summary_manifests(run_dir), now)
        else:
            release_claims(connection, run_id, now)
        bulk.execute(
            connection,
            "UPDATE runs SET state = :state, finished_at = :now, error = :error"
            " WHERE run_id = :run_id",
            state=t.RECOVERED if complete else t.ABANDONED,
            now=now,
            error="" if complete else "the run stopped before its folder was complete",
            run_id=run_id,
        )
    return True


def reclaim_if_settled(connection: Connection, run_id: str, now: Any) -> None:
    """A run taken for dead while it lived (PostgreSQL session lost) completes after all.

    Its released claims are delivered again where nobody claimed the EID since; where
    another run did, that EID went to the operator twice, which is logged loudly. Its
    re-send lines (outside the exactly-once claim: nobody can take them) all stand.
    """
    state = connection.execute(
        text("SELECT state FROM runs WHERE run_id = :run_id"), {"run_id": run_id}
    ).scalar()
    if state != t.ABANDONED:
        return
    bulk.execute(
        connection,
        "UPDATE handoffs SET state = :staged, released_at = NULL WHERE run_id = :run_id"
        " AND state = :released AND (resend_reason <> '' OR NOT EXISTS (SELECT 1 FROM handoffs o"
        " WHERE o.operator = handoffs.operator AND o.eid = handoffs.eid"
        " AND o.state <> :released AND o.resend_reason = ''))",
        staged=t.STAGED,
        released=t.RELEASED,
        run_id=run_id,
    )
    twice = connection.execute(
        text("SELECT COUNT(*) FROM handoffs WHERE run_id = :run_id AND state = :released"),
        {"run_id": run_id, "released": t.RELEASED},
    ).scalar()
    if twice:
        LOG.error(
            "run %s was taken for dead while it ran (its database session was lost); "
            "%s EID(s) it handed off were handed off by another run meanwhile: "
            "see eidflow history",
            run_id,
            twice,
        )


def release_claims(connection: Connection, run_id: str, now: Any) -> None:
    bulk.execute(
        connection,
        "UPDATE handoffs SET state = :released, released_at = :now"
        " WHERE run_id = :run_id AND state <> :released",
        released=t.RELEASED,
        now=now,
        run_id=run_id,
    )


def record_manifests(
    connection: Connection, run_id: str, manifests: list[dict[str, Any]], now: Any
) -> None:
    for manifest in manifests:
        error = str(manifest.get("error") or "")
        bulk.execute(
            connection,
            "INSERT INTO manifests (sha256, name, run_id, received_at, rows, outcome, error)"
            " VALUES (:sha256, :name, :run_id, :now, :rows, :outcome, :error)",
            sha256=str(manifest.get("sha256") or ""),
            name=str(manifest.get("name") or manifest.get("path") or ""),
            run_id=run_id,
            now=now,
            rows=int(manifest.get("rows") or 0),
            outcome="unreadable"
            if error
            else (t.HELD if manifest.get("claimed_by_running_runs") else t.PROCESSED),
            error=error,
        )


def summary_manifests(run_dir: str) -> list[dict[str, Any]]:
    """The manifests a complete run processed, as its summary.json lists them."""
    try:
        summary = json.loads((Path(run_dir) / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [
        item
        for item in summary.get("inputs", [])
        if isinstance(item, dict)
        and item.get("kind", "manifest") == "manifest"
        and item.get("sha256")
        and not item.get("error")
        and not item.get("already_processed_by")
    ]


def deliver_staged(connection: Connection, run_id: str, now: Any) -> None:
    """The run is complete: its staged claims become delivered."""
    bulk.execute(
        connection,
        "UPDATE handoffs SET state = :delivered, delivered_at = :now"
        " WHERE run_id = :run_id AND state = :staged",
        delivered=t.DELIVERED,
        now=now,
        run_id=run_id,
        staged=t.STAGED,
    )
