"""Settling the claims of runs that died: the ledger and the delivery target decide.

A run records where its files go (``runs.destination``) when it begins, and that they
are on their way (``runs.delivery = 'delivering'``) before the first one leaves. A dead
run that never started delivering handed nothing off: its claims are released, and the
next run hands those EIDs off again. One that did is asked of its target: its receipt
there (the S3 receipt object, the outbox's receipt file, the run folder's summary.json
when the run folder is the target) means the operator may have the files, so its claims
stand (``recovered``); no receipt means the delivery is void and its claims are released
(``abandoned``). A target that cannot be asked now (S3 unreachable, a folder this host
cannot see) leaves the run live, its claims held, for a later run to settle.

No host-local folder decides anything but a run folder that is itself the target.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eidflow.errors import EidflowError
from eidflow.ledger import enrolment, liveness
from eidflow.ledger import states as s
from eidflow.ledger.db import Connection
from eidflow.ledger.url import LedgerUrl

LOG = logging.getLogger("eidflow.ledger")
SUMMARY_FILE = "summary.json"  # the run folder's commit point (app.runfolder)
RECEIPT_FILE = "receipt.json"  # a delivery's proof at its target (exporters.delivery)


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    run_no: int
    run_dir: str
    destination: str
    delivering: bool


# Whether a run's files reached their target: (run, then) True, False, or an EidflowError
# when the target cannot be asked now.
Target = Callable[[DeadRun], bool]


class Ledger(Protocol):
    """What settling needs of the ledger (``sql.SqlLedger`` is one)."""

    url: LedgerUrl
    target: Target

    def read(self) -> AbstractContextManager[Connection]: ...

    def write(self, *, claim_lock: bool = False) -> AbstractContextManager[Connection]: ...

    def connect(self) -> Connection: ...

    def now(self) -> Any: ...


def reached_target(run: DeadRun) -> bool:
    """The proof at a folder target; S3 needs credentials (``app.pipeline``)."""
    if run.destination.startswith("s3://"):
        raise EidflowError(
            f"run {run.run_id} delivered to {run.destination}: S3 not configured here."
        )
    destination = Path(run.destination or run.run_dir)
    in_place = not run.destination or run.destination == run.run_dir
    proof = destination / (SUMMARY_FILE if in_place else RECEIPT_FILE)
    if proof.is_file():
        return True
    if not destination.parent.is_dir():
        raise EidflowError(
            f"run {run.run_id} delivered to {destination}, which this host cannot see."
        )
    return False


def settle_dead_runs(ledger: Ledger) -> list[str]:
    """Settle every live run whose process is gone; returns their ids."""
    with ledger.read() as connection:
        candidates = connection.all(
            "SELECT run_id, run_no, run_dir, destination, delivery, host, pid, proc_start"
            " FROM runs WHERE state = :live",
            {"live": s.LIVE},
        )
    settled = []
    for run_id, run_no, run_dir, destination, delivery, host, pid, start in candidates:
        if run_id in liveness.LIVE_HERE:
            continue
        run = DeadRun(run_id, int(run_no), run_dir, destination, delivery == s.DELIVERING)
        if ledger.url.sqlite:
            if liveness.is_alive(run_id, liveness.ProcessId(host, int(pid), start)):
                continue
            done = settle_run(ledger, run)
        else:
            done = _settle_if_unlocked(ledger, run)
        if done:
            settled.append(run_id)
    return settled


def _settle_if_unlocked(ledger: Ledger, run: DeadRun) -> bool:
    """PostgreSQL: the run's owner is dead if its session-level advisory lock is free."""
    key = f"{liveness.RUN_LOCK_CLASS}, {liveness.run_lock_key(run.run_id)}"
    connection = ledger.connect()
    try:
        if not connection.scalar(f"SELECT pg_try_advisory_lock({key})"):
            return False
        return settle_run(ledger, run)
    finally:
        connection.close()  # the lock goes with the session


def settle_run(ledger: Ledger, run: DeadRun) -> bool:
    """Let the claims of a dead run stand or release them; False if another process settled
    it first, or if its target cannot be asked now (it stays live, its claims held)."""
    try:
        handed_off = run.delivering and ledger.target(run)
    except EidflowError as error:
        LOG.warning("run %s died; cannot tell yet whether it handed off: %s", run.run_id, error)
        return False
    with ledger.write(claim_lock=True) as connection:
        if (
            connection.scalar("SELECT state FROM runs WHERE run_id = :id", {"id": run.run_id})
            != s.LIVE
        ):
            return False
        now = ledger.now()
        if not handed_off:
            release_claims(connection, run.run_no, now)
        connection.execute(
            "UPDATE runs SET state = :state, finished_at = :now, error = :error"
            " WHERE run_id = :run_id",
            {
                "state": s.RECOVERED if handed_off else s.ABANDONED,
                "now": now,
                "error": "" if handed_off else _why_void(run),
                "run_id": run.run_id,
            },
        )
    LOG.warning(
        "run %s had died; %s",
        run.run_id,
        "its files had reached their target: its hand-offs stand (recovered)"
        if handed_off
        else "its files never reached their target: its EIDs are free to hand off again",
    )
    return True


def _why_void(run: DeadRun) -> str:
    if not run.delivering:
        return "the run stopped before its files left"
    return f"the run stopped before its receipt reached {run.destination or run.run_dir}"


def release_claims(connection: Connection, run_no: int, now: Any) -> None:
    """Give the run's claims back (kept in ``released``); its serials go with them."""
    release(connection, now, "{t}.run_no = :run_no", {"run_no": run_no})


def release(
    connection: Connection, now: Any, chosen: str, params: dict[str, Any], released_by: int = 0
) -> None:
    """Give back the claims ``chosen`` picks (a condition on the alias ``{t}``), kept in
    ``released`` with the correction that released them (``released_by``: a void's or a
    retirement's run; 0 for a run's own failure); serials no claim holds any more go too."""
    values = params | {"now": now, "released_by": released_by}
    enrolment.keep_released_states(connection, chosen, params)
    connection.execute(
        "INSERT INTO released (eid, operator, run_no, serial_number, imei, manifest, row,"
        " description, intune_state, entra_object_id, state_run, released_at, released_by)"
        " SELECT eid, operator, run_no, serial_number, imei, manifest, row, description,"
        " intune_state, entra_object_id, state_run, :now, :released_by FROM claims c"
        f" WHERE {chosen.format(t='c')}",
        values,
    )
    connection.execute(
        f"DELETE FROM serials WHERE eid IN (SELECT c.eid FROM claims c WHERE {chosen.format(t='c')})"
        " AND NOT EXISTS (SELECT 1 FROM claims o WHERE o.eid = serials.eid"
        f" AND NOT ({chosen.format(t='o')}))",
        params,
    )
    connection.execute(f"DELETE FROM claims WHERE {chosen.format(t='claims')}", params)


def reclaim_if_settled(connection: Connection, run_id: str, run_no: int) -> None:
    """A run taken for dead while it lived (PostgreSQL session lost) completes after all.

    Its released claims stand again where nobody claimed the EID since; where another run
    did, that EID went to the operator twice, which is logged loudly. Its re-sends stand
    with the run.
    """
    state = connection.scalar("SELECT state FROM runs WHERE run_id = :id", {"id": run_id})
    if state != s.ABANDONED:
        return
    columns = (
        "eid, operator, run_no, serial_number, imei, manifest, row, description,"
        " intune_state, entra_object_id, state_run"
    )
    free = (
        "r.run_no = :run_no AND NOT EXISTS (SELECT 1 FROM claims c"
        " WHERE c.eid = r.eid AND c.operator = r.operator)"
    )
    connection.execute(
        f"INSERT INTO claims ({columns}) SELECT {columns} FROM released r WHERE {free}",
        {"run_no": run_no},
    )
    connection.execute(
        "INSERT INTO serials (serial_number, eid) SELECT DISTINCT serial_number, eid"
        " FROM claims WHERE run_no = :run_no AND serial_number <> '' ON CONFLICT DO NOTHING",
        {"run_no": run_no},
    )
    twice = connection.scalar(
        "SELECT COUNT(*) FROM released r WHERE r.run_no = :run_no AND NOT EXISTS (SELECT 1"
        " FROM claims c WHERE c.eid = r.eid AND c.operator = r.operator AND c.run_no = :run_no)",
        {"run_no": run_no},
    )
    connection.execute(
        "DELETE FROM released WHERE run_no = :run_no AND EXISTS (SELECT 1 FROM claims c"
        " WHERE c.eid = released.eid AND c.operator = released.operator"
        " AND c.run_no = :run_no)",
        {"run_no": run_no},
    )
    if twice:
        LOG.error(
            "run %s was taken for dead while it ran (its database session was lost); "
            "%s EID(s) it handed off were handed off by another run meanwhile: "
            "see eidflow history",
            run_id,
            twice,
        )
