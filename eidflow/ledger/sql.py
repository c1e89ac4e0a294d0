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

from eidflow import schema
from eidflow.ledger import bulk, enrolment, liveness, settle
from eidflow.ledger import tables as t
from eidflow.ledger.base import ManifestRecord
from eidflow.ledger.claims import claim_reasons
from eidflow.ledger.connect import WRITE, translate_errors

CLAIM_LOCK_CLASS = 0x6E1D_0003
KNOWN_COLUMNS = (schema.EID, schema.SERIAL_NUMBER, schema.OPERATOR)
LIVE = f"h.state <> '{t.RELEASED}' AND h.resend_reason = ''"
KNOWN_SQL = f"""
SELECT h.eid, h.serial_number, h.operator FROM handoffs h JOIN tmp_keys k ON k.eid = h.eid
WHERE {LIVE}
UNION
SELECT h.eid, h.serial_number, h.operator FROM handoffs h
JOIN tmp_keys k ON k.serial_number = h.serial_number WHERE {LIVE} AND k.serial_number <> ''
"""
DEVICE_COLUMNS = (schema.EID, *t.DEVICE_TEXT, "row", "first_run", "first_seen_at")


class SqlLedger:
    """A ledger in one database; one object per process (or per thread)."""

    def __init__(
        self, engine: Engine, url: URL, is_complete: Callable[[str], bool] | None = None
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
        liveness.LIVE_HERE.add(run_id)

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
        with self.write() as connection:
            now = self.now()
            bulk.execute(
                connection,
                "UPDATE handoffs SET state = :delivered, delivered_at = :now"
                " WHERE run_id = :run_id AND state = :staged",
                delivered=t.DELIVERED,
                now=now,
                run_id=run_id,
                staged=t.STAGED,
            )
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
            _load_keys(connection, eids, serials)
            known = bulk.fetch_frame(connection, KNOWN_SQL, KNOWN_COLUMNS)
            bulk.drop_temp(connection, "tmp_keys")
        return known

    def claim_handoff(self, run_id: str, operator: str, devices: pd.DataFrame) -> pd.Series:
        rows = claim_rows(devices)
        with self.write(claim_lock=True) as connection:
            _load_keys(connection, rows[schema.EID], rows[schema.SERIAL_NUMBER])
            known = bulk.fetch_frame(connection, KNOWN_SQL, KNOWN_COLUMNS)
            bulk.drop_temp(connection, "tmp_keys")
            reasons = claim_reasons(rows, known, operator)
            claimed = rows[reasons == ""]
            now = self.now()
            bulk.insert_frame(
                connection, "handoffs", _handoff_lines(claimed, run_id, operator, now)
            )
            register_devices(connection, claimed, run_id, now)
        return pd.Series(reasons.to_numpy(), index=devices.index, dtype="str")

    def record_intune_states(self, run_id: str, states: pd.DataFrame) -> None:
        with self.write() as connection:
            enrolment.record_states(connection, run_id, states, self.now())

    def pending_enrollment(self) -> pd.DataFrame:
        with self.read() as connection:
            return enrolment.pending(connection)

    def record_memberships(self, run_id: str, group_id: str, object_ids: pd.DataFrame) -> None:
        with self.write() as connection:
            enrolment.record_memberships(connection, run_id, group_id, object_ids, self.now())

    def close(self) -> None:
        for run_id in list(self._runs):
            self._end_run(run_id)
        self.engine.dispose()


def claim_rows(devices: pd.DataFrame) -> pd.DataFrame:
    """The columns a claim stores, as text (``row`` as int), missing ones empty."""
    rows = pd.DataFrame(index=devices.index)
    for column in (
        schema.EID,
        schema.SERIAL_NUMBER,
        schema.IMEI,
        schema.SOURCE_FILE,
        *schema.DESCRIPTIVE,
    ):
        values = devices[column] if column in devices else pd.Series("", index=devices.index)
        rows[column] = values.fillna("").astype("str")
    row = devices[schema.ROW] if schema.ROW in devices else pd.Series(0, index=devices.index)
    rows["row"] = pd.to_numeric(row, errors="coerce").fillna(0).astype("int64")
    return rows


def register_devices(connection: Connection, claimed: pd.DataFrame, run_id: str, now: Any) -> None:
    """Add the claimed devices; a device known from a void claim takes the new identity."""
    lines = claimed.drop_duplicates(subset=[schema.EID]).assign(first_run=run_id, first_seen_at=now)
    lines = lines[list(DEVICE_COLUMNS)]
    updates = ", ".join(f"{column} = excluded.{column}" for column in t.DEVICE_TEXT)
    upsert = f"ON CONFLICT (eid) DO UPDATE SET {updates}"
    if not bulk.is_postgres(connection):
        bulk.insert_frame(connection, "devices", lines, suffix=upsert)
        return
    # COPY cannot upsert: copy into a temporary table, then insert from it.
    columns = {column: "TEXT" for column in DEVICE_COLUMNS} | {"row": "INTEGER"}
    bulk.create_temp(connection, "tmp_devices", columns)
    bulk.insert_frame(connection, "tmp_devices", lines)
    names = ", ".join(DEVICE_COLUMNS)
    selected = names.replace("first_seen_at", "CAST(first_seen_at AS TIMESTAMPTZ)")
    connection.exec_driver_sql(
        f"INSERT INTO devices ({names}) SELECT {selected} FROM tmp_devices {upsert}"
    )


def _handoff_lines(claimed: pd.DataFrame, run_id: str, operator: str, now: Any) -> pd.DataFrame:
    lines = claimed[[schema.EID, schema.SERIAL_NUMBER, schema.IMEI, schema.SOURCE_FILE, "row"]]
    return lines.assign(operator=operator, run_id=run_id, state=t.STAGED, staged_at=now)


def _load_keys(connection: Connection, eids: pd.Series, serials: pd.Series) -> None:
    """The EIDs and serials to look up, as one temporary table."""
    eids, serials = eids.fillna("").astype("str"), serials.fillna("").astype("str")
    if len(eids) != len(serials):  # not row-aligned: look each up on its own
        eids = pd.concat([eids, pd.Series([""] * len(serials), dtype="str")], ignore_index=True)
        padding = pd.Series([""] * (len(eids) - len(serials)), dtype="str")
        serials = pd.concat([padding, serials], ignore_index=True)
    keys = pd.DataFrame(
        {schema.EID: eids.to_numpy(), schema.SERIAL_NUMBER: serials.to_numpy()}
    ).drop_duplicates()
    bulk.create_temp(connection, "tmp_keys", {schema.EID: "TEXT", schema.SERIAL_NUMBER: "TEXT"})
    bulk.insert_frame(connection, "tmp_keys", keys)
