"""The ledger on SQLAlchemy: SQLite file or PostgreSQL. See ``base.py`` for the contract.

Every write is one transaction. Claims and the settling of dead runs run under one
lock (PostgreSQL: a transaction advisory lock; SQLite: ``BEGIN IMMEDIATE``), so the
checks of a claim see every committed claim; the partial unique index on live
(operator, eid) claims backs this up.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from eidflow import schema
from eidflow.errors import RunLost
from eidflow.ledger import bulk, enrolment, handoffs, liveness, settle
from eidflow.ledger import tables as t
from eidflow.ledger.base import Claim, ManifestRecord
from eidflow.ledger.connect import WRITE, translate_errors

CLAIM_LOCK_CLASS = 0x6E1D_0003


class SqlLedger:
    """A ledger in one database; one object per process (or per thread)."""

    def __init__(
        self, engine: Engine, url: URL, is_complete: Callable[[str, str], bool] | None = None
    ) -> None:
        self.engine = engine
        self.url = url
        self.is_complete = is_complete or settle.folder_is_complete
        self._run_locks: dict[str, Connection] = {}
        self._runs: set[str] = set()  # begun by this object and not ended

    # -- transactions -------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self, *, claim_lock: bool = False) -> Iterator[Connection]:
        """One write transaction; with ``claim_lock``, serialised with every claim."""
        with (
            translate_errors(self.url),
            self.engine.connect().execution_options(**{WRITE: True}) as connection,
            connection.begin(),
        ):
            if claim_lock and bulk.is_postgres(connection):
                connection.exec_driver_sql(
                    f"SELECT pg_advisory_xact_lock({CLAIM_LOCK_CLASS}, hashtext(current_schema()))"
                )
            yield connection

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with translate_errors(self.url), self.engine.connect() as connection, connection.begin():
            yield connection

    def now(self) -> Any:
        """The current time as the driver stores it (SQLite: SQLAlchemy's text format, UTC)."""
        moment = datetime.now(UTC)
        if self.engine.dialect.name == "sqlite":
            return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        return moment

    # -- runs ---------------------------------------------------------------------------------

    def begin_run(self, run_id: str, run_dir: str, kind: str = "ingest") -> None:
        self._runs.add(run_id)
        if self.engine.dialect.name == "postgresql":
            self._take_run_lock(run_id)
        settle.settle_dead_runs(self)
        me = liveness.this_process()
        liveness.LIVE_HERE.add(run_id)  # before the row exists: settling never sees it orphaned
        with self.write() as connection:
            bulk.execute(
                connection,
                "INSERT INTO runs (run_id, run_dir, kind, host, pid, proc_start, started_at, state)"
                " VALUES (:run_id, :run_dir, :kind, :host, :pid, :start, :now, :state)",
                run_id=run_id,
                run_dir=settle.absolute(run_dir),
                kind=kind,
                host=me.host,
                pid=me.pid,
                start=me.start,
                now=self.now(),
                state=t.LIVE,
            )

    def confirm_live(self, run_id: str) -> None:
        """Before the run's files leave: it is still live, and stays so.

        On PostgreSQL a run whose session was lost (a restart, a terminated backend) looks
        dead to other runs, which settle it and may claim its EIDs. So the run's lock is
        checked, and taken again on a new session if it was lost; then the run's state
        must still be live: if another run settled it meanwhile, ``RunLost`` (its files
        must not be handed off, the EIDs may be another run's now).
        """
        if self.engine.dialect.name == "postgresql":
            self._hold_run_lock(run_id)
        with self.read() as connection:
            state = connection.execute(
                text("SELECT state FROM runs WHERE run_id = :run_id"), {"run_id": run_id}
            ).scalar()
        if state != t.LIVE:
            raise RunLost(
                f"run {run_id} lost its ledger session and another run took it for dead"
                f" ({state}): its claims were released, so its files are void and hand nothing"
                " off.",
                todo="Run it again: the EIDs nobody else claimed meanwhile are handed off then.",
            )

    def _hold_run_lock(self, run_id: str) -> None:
        held = self._run_locks.get(run_id)
        if held is not None:
            try:
                held.exec_driver_sql("SELECT 1")
                return
            except DBAPIError:
                held.invalidate()
                held.close()
        key = f"{liveness.RUN_LOCK_CLASS}, {liveness.run_lock_key(run_id)}"
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with translate_errors(self.url):
            taken = connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})").scalar()
        if not taken:  # another run holds it: it is settling this one right now
            connection.close()
            raise RunLost(
                f"run {run_id} lost its ledger session and another run is settling it.",
                todo="Run it again once that run is done.",
            )
        self._run_locks[run_id] = connection

    def _take_run_lock(self, run_id: str) -> None:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with translate_errors(self.url):
            connection.exec_driver_sql(
                f"SELECT pg_advisory_lock({liveness.RUN_LOCK_CLASS}, "
                f"{liveness.run_lock_key(run_id)})"
            )
        self._run_locks[run_id] = connection

    def _end_run(self, run_id: str) -> None:
        liveness.LIVE_HERE.discard(run_id)
        self._runs.discard(run_id)
        connection = self._run_locks.pop(run_id, None)
        if connection is not None:
            connection.invalidate()  # closes the session: the advisory lock goes with it
            connection.close()

    def finish_run(
        self, run_id: str, manifests: list[dict[str, Any]], counts: dict[str, Any]
    ) -> None:
        with self.write(claim_lock=True) as connection:
            now = self.now()
            settle.reclaim_if_settled(connection, run_id, now)
            settle.deliver_staged(connection, run_id, now)
            settle.record_manifests(connection, run_id, manifests, now)
            bulk.execute(
                connection,
                "UPDATE runs SET state = :state, finished_at = :now, counts = :counts"
                " WHERE run_id = :run_id",
                state=t.COMPLETE,
                now=now,
                counts=json.dumps(counts, default=str),
                run_id=run_id,
            )
        self._end_run(run_id)

    def abort_run(self, run_id: str, error: str) -> None:
        with self.write(claim_lock=True) as connection:
            settle.release_claims(connection, run_id, self.now())
            bulk.execute(
                connection,
                "UPDATE runs SET state = :state, finished_at = :now, error = :error"
                " WHERE run_id = :run_id",
                state=t.ABORTED,
                now=self.now(),
                error=error,
                run_id=run_id,
            )
        self._end_run(run_id)

    def mark_delivered(self, run_id: str, operator: str, files: list[dict[str, Any]]) -> None:
        paths = "; ".join(dict.fromkeys(str(item.get("path", "")) for item in files))
        with self.write() as connection:
            bulk.execute(
                connection,
                "UPDATE handoffs SET state = :delivered, delivered_at = :now, file = :file"
                " WHERE run_id = :run_id AND operator = :operator AND state = :staged",
                delivered=t.DELIVERED,
                now=self.now(),
                file=paths,
                run_id=run_id,
                operator=operator,
                staged=t.STAGED,
            )
            previous = connection.execute(
                text("SELECT files FROM runs WHERE run_id = :run_id"), {"run_id": run_id}
            ).scalar()
            listed = json.loads(previous) if previous else []
            listed += [{"operator": operator, **item} for item in files]
            bulk.execute(
                connection,
                "UPDATE runs SET files = :files WHERE run_id = :run_id",
                files=json.dumps(listed, default=str),
                run_id=run_id,
            )

    # -- manifests and devices ----------------------------------------------------------------

    def manifest_seen(self, sha256: str) -> ManifestRecord | None:
        with self.read() as connection:
            row = connection.execute(
                text(
                    "SELECT m.sha256, m.name, m.run_id, m.received_at, m.rows FROM manifests m"
                    " JOIN runs r ON r.run_id = m.run_id WHERE m.sha256 = :sha256"
                    " AND m.outcome = :processed AND r.state IN (:complete, :recovered)"
                    " ORDER BY m.received_at, m.id LIMIT 1",
                ),
                {
                    "sha256": sha256,
                    "processed": t.PROCESSED,
                    "complete": t.COMPLETE,
                    "recovered": t.RECOVERED,
                },
            ).first()
        if row is None:
            return None
        return ManifestRecord(row[0], row[1], row[2], bulk.as_datetime(row[3]), int(row[4]))

    def known_devices(self, eids: pd.Series, serials: pd.Series) -> pd.DataFrame:
        with self.read() as connection:
            return handoffs.live_claims(connection, eids, serials)

    def claim_handoff(self, run_id: str, operator: str, devices: pd.DataFrame) -> pd.Series:
        return self.claim_handoffs(run_id, devices.assign(**{schema.OPERATOR: operator}))

    def claim(self, run_id: str, devices: pd.DataFrame) -> Claim:
        with self.write(claim_lock=True) as connection:
            return handoffs.claim(connection, run_id, devices, self.now())

    def claim_handoffs(self, run_id: str, devices: pd.DataFrame) -> pd.Series:
        return self.claim(run_id, devices).reasons

    def record_intune_states(self, run_id: str, states: pd.DataFrame) -> None:
        with self.write() as connection:
            enrolment.record_states(connection, run_id, states, self.now())

    def pending_enrollment(self, group_id: str) -> pd.DataFrame:
        with self.read() as connection:
            return enrolment.pending(connection, group_id)

    def record_memberships(self, run_id: str, group_id: str, object_ids: pd.DataFrame) -> None:
        with self.write() as connection:
            enrolment.record_memberships(connection, run_id, group_id, object_ids, self.now())

    def close(self) -> None:
        for run_id in list(self._runs):
            self._end_run(run_id)
        self.engine.dispose()
