"""The ledger in one database, SQLite file or PostgreSQL. See ``base.py`` for the contract.

Every write is one transaction. Claims, the start of runs and the settling of dead runs
run under one lock (PostgreSQL: a transaction advisory lock; SQLite: ``BEGIN IMMEDIATE``),
so a claim sees every committed claim; the primary key of ``claims`` backs this up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from eidflow import schema
from eidflow.errors import EidflowError, RunLost
from eidflow.ledger import claims, enrolment, liveness, lookup, outcomes, settle
from eidflow.ledger import states as s
from eidflow.ledger.base import Claim, ManifestRecord
from eidflow.ledger.db import Connection, as_datetime, connect
from eidflow.ledger.manifests import manifest_ids, record_manifests
from eidflow.ledger.url import LedgerUrl

LOG = logging.getLogger("eidflow.ledger")


@dataclass
class _Committing:
    """A claim whose verdict is out and whose writes are still going in (``claim``'s
    ``overlap``); ``error``: what stopped them, raised by the next use of the ledger."""

    thread: threading.Thread
    error: BaseException | None = None


class SqlLedger:
    """A ledger in one database; one object per process (or per thread)."""

    def __init__(
        self,
        connection: Connection,
        url: LedgerUrl,
        target: settle.Target | None = None,
        *,
        created: bool = False,
    ) -> None:
        self._connection = connection
        self.url = url
        self.target = target or settle.reached_target
        self.created = created
        self._run_locks: dict[str, Connection] = {}
        self._runs: set[str] = set()  # begun by this object and not ended
        self._announced = False  # that the ledger is new (said once, when a run begins)
        self._committing: _Committing | None = None

    # -- transactions -------------------------------------------------------------------------

    def connect(self) -> Connection:
        """A new session on the ledger's database (PostgreSQL: for a session-level lock)."""
        return connect(self.url)

    def _session(self) -> Connection:
        """The connection, a new one if a server's session was lost between transactions
        (a restart, a terminated backend): one lost inside a transaction fails it. A claim
        still committing is waited for first (and its failure raised)."""
        self._await_claim()
        if not self.url.sqlite and not self._connection.alive():
            self._connection.close()
            self._connection = self.connect()
        return self._connection

    @contextlib.contextmanager
    def write(self, *, claim_lock: bool = False) -> Iterator[Connection]:
        """One write transaction; with ``claim_lock``, serialised with every claim."""
        connection = self._session()
        with connection.transaction(write=True, claim_lock=claim_lock):
            yield connection

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        connection = self._session()
        with connection.transaction():
            yield connection

    def now(self) -> Any:
        """The current time as stored (SQLite: text, UTC; PostgreSQL: a timestamptz)."""
        moment = datetime.now(UTC)
        if self.url.sqlite:
            return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        return moment

    # -- runs ---------------------------------------------------------------------------------

    def begin_run(
        self, run_id: str, run_dir: str, kind: str = "ingest", destination: str = ""
    ) -> None:
        """Register the run as live, after settling the claims of runs that died.

        ``destination``: where its files go (default: its run folder, delivered in place).
        """
        if self.created and not self._announced:
            self._announced = True
            LOG.warning(
                "created a new ledger at %s (it remembers every hand-off: keep it, back it up)",
                self.url.where,
            )
        self._runs.add(run_id)
        if not self.url.sqlite:
            self._take_run_lock(run_id)
        settle.settle_dead_runs(self)
        me = liveness.this_process()
        liveness.LIVE_HERE.add(run_id)  # before the row exists: settling never sees it orphaned
        with self.write(claim_lock=True) as connection:
            connection.execute(
                "INSERT INTO runs (run_id, run_no, run_dir, kind, host, pid, proc_start,"
                " started_at, state, destination) VALUES (:run_id,"
                " (SELECT COALESCE(MAX(run_no), 0) + 1 FROM runs), :run_dir, :kind, :host, :pid,"
                " :start, :now, :state, :destination)",
                {
                    "run_id": run_id,
                    "run_dir": run_dir,
                    "kind": kind,
                    "host": me.host,
                    "pid": me.pid,
                    "start": me.start,
                    "now": self.now(),
                    "state": s.LIVE,
                    "destination": destination or run_dir,
                },
            )

    def _run(self, connection: Connection, run_id: str) -> tuple[int, str]:
        found = connection.all(
            "SELECT run_no, state FROM runs WHERE run_id = :run_id", {"run_id": run_id}
        )
        if not found:
            raise KeyError(f"run {run_id} was never begun in this ledger")
        return int(found[0][0]), str(found[0][1])

    def confirm_live(self, run_id: str) -> None:
        """Before the run's files count: it is still live, and stays so.

        On PostgreSQL a run whose session was lost (a restart, a terminated backend) looks
        dead to other runs, which settle it and may claim its EIDs. So the run's lock is
        checked, and taken again on a new session if it was lost; then the run's state
        must still be live: if another run settled it meanwhile, ``RunLost`` (its files
        must not be handed off, the EIDs may be another run's now).
        """
        if not self.url.sqlite:
            self._hold_run_lock(run_id)
        with self.read() as connection:
            _, state = self._run(connection, run_id)
        if state != s.LIVE:
            raise _lost(run_id, state)

    def start_delivery(self, run_id: str, counts: dict[str, Any] | None = None) -> None:
        """Before the first file leaves: the run is live, and its files are on their way
        to its destination (what settling asks about if the run dies from now on)."""
        if not self.url.sqlite:
            self._hold_run_lock(run_id)
        with self.write() as connection:
            _, state = self._run(connection, run_id)
            if state != s.LIVE:
                raise _lost(run_id, state)
            connection.execute(
                "UPDATE runs SET delivery = :delivering, counts = :counts WHERE run_id = :run_id",
                {
                    "delivering": s.DELIVERING,
                    "counts": json.dumps(counts or {}, default=str),
                    "run_id": run_id,
                },
            )

    def _hold_run_lock(self, run_id: str) -> None:
        held = self._run_locks.get(run_id)
        if held is not None:
            try:
                held.execute("SELECT 1")
                return
            except EidflowError:
                held.close()
        key = f"{liveness.RUN_LOCK_CLASS}, {liveness.run_lock_key(run_id)}"
        connection = self.connect()
        if not connection.scalar(f"SELECT pg_try_advisory_lock({key})"):
            connection.close()  # another run holds it: it is settling this one right now
            raise RunLost(
                f"run {run_id} lost its ledger session and another run is settling it.",
                todo="Run it again once that run is done.",
            )
        self._run_locks[run_id] = connection

    def _take_run_lock(self, run_id: str) -> None:
        connection = self.connect()
        key = f"{liveness.RUN_LOCK_CLASS}, {liveness.run_lock_key(run_id)}"
        connection.execute(f"SELECT pg_advisory_lock({key})")
        self._run_locks[run_id] = connection

    def _end_run(self, run_id: str) -> None:
        liveness.LIVE_HERE.discard(run_id)
        self._runs.discard(run_id)
        connection = self._run_locks.pop(run_id, None)
        if connection is not None:
            connection.close()  # the session ends: the advisory lock goes with it

    def mark_delivered(self, run_id: str, operator: str, files: list[dict[str, Any]]) -> None:
        """The run's hand-off files for ``operator``: recorded once, for the run."""
        with self.write() as connection:
            previous = connection.scalar(
                "SELECT files FROM runs WHERE run_id = :run_id", {"run_id": run_id}
            )
            listed = json.loads(previous) if previous else []
            listed += [{"operator": operator, **item} for item in files]
            connection.execute(
                "UPDATE runs SET files = :files WHERE run_id = :run_id",
                {"files": json.dumps(listed, default=str), "run_id": run_id},
            )

    def finish_run(
        self,
        run_id: str,
        manifests: list[dict[str, Any]] | None = None,
        counts: dict[str, Any] | None = None,
    ) -> None:
        """The run is complete: its claims are delivered. ``manifests`` the claim did not
        record already (a run that claimed nothing) are recorded now."""
        with self.write(claim_lock=True) as connection:
            run_no, _ = self._run(connection, run_id)
            settle.reclaim_if_settled(connection, run_id, run_no)
            if manifests:
                record_manifests(connection, run_id, manifests, self.now())
            values = {"state": s.COMPLETE, "now": self.now(), "run_id": run_id}
            update = "UPDATE runs SET state = :state, finished_at = :now"
            if counts is not None:
                update += ", counts = :counts"
                values["counts"] = json.dumps(counts, default=str)
            connection.execute(update + " WHERE run_id = :run_id", values)
        self._end_run(run_id)

    def abort_run(self, run_id: str, error: str) -> None:
        """The run failed cleanly: release its claims so that a rerun hands those EIDs off."""
        with self.write(claim_lock=True) as connection:
            run_no, _ = self._run(connection, run_id)
            now = self.now()
            settle.release_claims(connection, run_no, now)
            connection.execute(
                "UPDATE runs SET state = :state, finished_at = :now, error = :error"
                " WHERE run_id = :run_id",
                {"state": s.ABORTED, "now": now, "error": error, "run_id": run_id},
            )
        self._end_run(run_id)

    def unknown_runs(self, run_ids: list[str]) -> list[str]:
        """Those of ``run_ids`` this ledger has never recorded, in the order given."""
        if not run_ids:
            return []
        with self.read() as connection:
            known: set[str] = set()
            for start in range(0, len(run_ids), 500):
                part = run_ids[start : start + 500]
                marks = ", ".join(f":r{n}" for n in range(len(part)))
                known |= {
                    str(row[0])
                    for row in connection.all(
                        f"SELECT run_id FROM runs WHERE run_id IN ({marks})",
                        {f"r{n}": run_id for n, run_id in enumerate(part)},
                    )
                }
        return [run_id for run_id in run_ids if run_id not in known]

    def record_foreign_runs(self, run_ids: list[str]) -> None:
        """Runs of another ledger found in the output root, acknowledged (``--new-ledger``):
        recorded as such, so that they are not taken for this ledger's next time."""
        now = self.now()
        with self.write(claim_lock=True) as connection:
            for run_id in run_ids:
                connection.execute(
                    "INSERT INTO runs (run_id, run_no, kind, started_at, finished_at, state,"
                    " error) VALUES (:run_id, (SELECT COALESCE(MAX(run_no), 0) + 1 FROM runs),"
                    " :kind, :now, :now, :state, :error)",
                    {
                        "run_id": run_id,
                        "kind": s.FOREIGN,
                        "now": now,
                        "state": s.FOREIGN,
                        "error": "found in the output root; run with another ledger",
                    },
                )

    # -- manifests and claims -----------------------------------------------------------------

    def manifest_seen(self, sha256: str) -> ManifestRecord | None:
        with self.read() as connection:
            found = connection.all(
                "SELECT m.sha256, m.name, m.run_id, m.received_at, m.rows FROM manifests m"
                " JOIN runs r ON r.run_id = m.run_id WHERE m.sha256 = :sha256"
                " AND m.outcome = :processed AND r.state IN (:complete, :recovered)"
                " ORDER BY m.received_at, m.id LIMIT 1",
                {
                    "sha256": sha256,
                    "processed": s.PROCESSED,
                    "complete": s.COMPLETE,
                    "recovered": s.RECOVERED,
                },
            )
        if not found:
            return None
        sha, name, run_id, received_at, rows = found[0]
        return ManifestRecord(sha, name, run_id, as_datetime(received_at), int(rows))

    def known_devices(self, eids: pd.Series, serials: pd.Series) -> pd.DataFrame:
        """``eid``, ``serial_number``, ``operator`` of the live claims on these EIDs or serials."""
        import pyarrow as pa

        def text(values: pd.Series) -> pa.Array:
            return pa.array(values.fillna("").astype("str").tolist(), pa.string())

        with self.read() as connection:
            found = lookup.claims_on(connection, text(eids), text(serials))
        names = (schema.EID, schema.SERIAL_NUMBER, schema.OPERATOR)
        return pd.DataFrame({name: pd.array(found.column(name), dtype="str") for name in names})

    def claim(
        self,
        run_id: str,
        devices: pd.DataFrame,
        manifests: list[dict[str, Any]] | None = None,
        rows: np.ndarray | None = None,
        *,
        overlap: bool = False,
    ) -> Claim:
        """Judge and claim, atomically, for every operator at once (see ``claims``); the
        run's manifests (``name``/``path``, ``sha256``, ``rows``, ``error``) are recorded in
        the same transaction, those with rows held by a running run as ``held``. ``rows``:
        the positions of the lines of ``devices`` to judge (default: all).

        ``overlap``: return the verdict as soon as it is known, under the claim lock, and
        write the claims and commit in a background thread (SQLite and psycopg let go of
        the interpreter meanwhile), while the run writes its files in its run folder. The
        next use of this ledger waits for the commit and raises what stopped it, so
        nothing is delivered (``start_delivery``) before the claims are durable."""
        if not overlap:
            return self._claim(run_id, [devices], manifests, rows, lambda verdict: None)
        told: Future[Claim] = Future()
        # Copy-on-write: the caller's edits meanwhile are not seen; the frame is let go
        # before the verdict is told (the writes hold only the Arrow columns they take).
        given = [devices.copy(deep=False)]
        del devices

        def commit() -> None:
            try:
                self._claim(run_id, given, manifests, rows, told.set_result)
            except BaseException as error:
                if not told.done():
                    told.set_exception(error)  # no verdict: claim() raises it
                else:
                    committing.error = error  # raised by the ledger's next use

        committing = _Committing(threading.Thread(target=commit, name="eidflow-claim"))
        self._committing = committing
        committing.thread.start()
        try:
            return told.result()
        except BaseException:
            committing.thread.join()
            self._committing = None
            raise

    def _await_claim(self) -> None:
        """Wait for the claim committing in the background, if any (not from its own
        thread); raise what stopped it, once."""
        committing = self._committing
        if committing is None or committing.thread is threading.current_thread():
            return
        committing.thread.join()
        self._committing = None
        if committing.error is not None:
            raise committing.error

    def _claim(
        self,
        run_id: str,
        given: list[pd.DataFrame],
        manifests: list[dict[str, Any]] | None,
        rows: np.ndarray | None,
        tell: Callable[[Claim], None],
    ) -> Claim:
        """``claim``'s transaction; ``tell`` gets the verdict as soon as it is known, once
        what is written is taken from the frame (``given`` holds it; emptied then)."""
        devices = given.pop()
        with self.write(claim_lock=True) as connection:
            run_no, state = self._run(connection, run_id)
            if state != s.LIVE:
                raise _lost(run_id, state)
            live = connection.all(
                "SELECT run_no FROM runs WHERE state = :live AND run_no <> :me",
                {"live": s.LIVE, "me": run_no},
            )
            sources = devices.get(schema.SOURCE_FILE)
            ids = manifest_ids(connection, run_id, manifests or [], sources, self.now())
            run = claims.Run(run_no, frozenset(int(line[0]) for line in live))
            judged_now = claims.judge(connection, run, devices, rows)
            verdict = judged_now.verdict
            won = judged_now.winners
            claimed = (
                claims.lines(connection, run, devices, won, ids, judged_now.known_eids)
                if len(won)
                else None
            )
            judged = np.arange(len(devices)) if rows is None else np.asarray(rows, np.int64)
            kept = outcomes.lines(connection, run_no, run_id, devices, judged, verdict.reasons, ids)
            held: list[str] = []
            if sources is not None:
                running = verdict.reasons.index[verdict.reasons == "claimed_by_running_run"]
                held = [str(name) for name in sources.loc[running].unique().tolist()]
            del devices, sources, judged_now
            tell(verdict)
            if claimed is not None:
                claims.write(connection, claimed)
            outcomes.write(connection, kept)
            if held:
                _mark_held(connection, run_id, held)
        return verdict

    def judge(self, devices: pd.DataFrame, rows: np.ndarray | None = None) -> Claim:
        """The verdict ``claim`` would give a new run now, claiming nothing (``eidflow
        check``): one read transaction, without the claim lock, so no run waits for it."""
        with self.read() as connection:
            live = connection.all("SELECT run_no FROM runs WHERE state = :live", {"live": s.LIVE})
            run = claims.Run(0, frozenset(int(line[0]) for line in live))  # 0: no run's number
            return claims.judge(connection, run, devices, rows).verdict

    def claim_handoffs(self, run_id: str, devices: pd.DataFrame) -> pd.Series:
        return self.claim(run_id, devices).reasons

    def claim_handoff(self, run_id: str, operator: str, devices: pd.DataFrame) -> pd.Series:
        return self.claim_handoffs(run_id, devices.assign(**{schema.OPERATOR: operator}))

    # -- after the hand-off -------------------------------------------------------------------

    def record_intune_states(self, run_id: str, states: pd.DataFrame) -> None:
        with self.write() as connection:
            run_no, _ = self._run(connection, run_id)
            enrolment.set_states(connection, states, run_no)

    def pending_enrollment(self, group_id: str) -> pd.DataFrame:
        with self.read() as connection:
            return enrolment.pending(connection, group_id)

    def record_memberships(self, run_id: str, group_id: str, object_ids: pd.DataFrame) -> None:
        with self.write() as connection:
            enrolment.record_memberships(connection, run_id, group_id, object_ids, self.now())

    def discard(self) -> None:
        """Close and delete a SQLite ledger this object has just created (it holds nothing)."""
        assert self.created and self.url.path is not None
        self.close()
        for suffix in ("", "-wal", "-shm"):
            self.url.path.with_name(self.url.path.name + suffix).unlink(missing_ok=True)
        self.created = False

    def close(self) -> None:
        try:
            self._await_claim()
        finally:
            for run_id in list(self._runs):
                self._end_run(run_id)
            self._connection.close()


def _mark_held(connection: Connection, run_id: str, names: list[str]) -> None:
    for name in names:
        connection.execute(
            "UPDATE manifests SET outcome = :held WHERE run_id = :run_id AND name = :name"
            " AND outcome = :processed",
            {"held": s.HELD, "run_id": run_id, "name": name, "processed": s.PROCESSED},
        )


def _lost(run_id: str, state: str) -> RunLost:
    return RunLost(
        f"run {run_id} lost its ledger session and another run took it for dead"
        f" ({state}): its claims were released, so its files are void and hand nothing off.",
        todo="Run it again: the EIDs nobody else claimed meanwhile are handed off then.",
    )
