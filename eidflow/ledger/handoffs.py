"""Reading and writing hand-off claims in bulk: the live claims on some devices, new claims.

A claim is live while its state is not ``released``; re-send lines are not claims.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection

from eidflow import schema
from eidflow.core import dedupe
from eidflow.core.dedupe import reasons as claim_reasons
from eidflow.ledger import bulk
from eidflow.ledger import tables as t
from eidflow.ledger.base import Claim

KNOWN_COLUMNS = (schema.EID, schema.SERIAL_NUMBER, schema.OPERATOR)
LIVE = f"h.state <> '{t.RELEASED}' AND h.resend_reason = ''"
# Every claim, and whether it is live: the ledger read whole (``SCAN_FACTOR``).
# ``staged_by``: the run holding a claim not delivered yet (it may still fail).
STAGED_BY = f"CASE WHEN h.state = '{t.STAGED}' THEN h.run_id ELSE '' END"
SCAN_SQL = (
    f"SELECT h.eid, h.serial_number, h.operator, CASE WHEN {LIVE} THEN '1' ELSE '0' END,"
    f" {STAGED_BY} FROM handoffs h"
)
# The claim's lookup by keys: live claims on these EIDs or serials, and every EID the
# ledger knows among them (its device is registered already).
CLAIM_SQL = f"""
{SCAN_SQL} JOIN tmp_keys k ON k.eid = h.eid
UNION
SELECT h.eid, h.serial_number, h.operator, '1', {STAGED_BY} FROM handoffs h
JOIN tmp_keys k ON k.serial_number = h.serial_number WHERE {LIVE} AND k.serial_number <> ''
"""
CLAIM_COLUMNS = (*KNOWN_COLUMNS, "live", "staged_by")
# Read the whole ledger rather than look each key up when it holds at most this many
# lines per key. A key inserted into a temporary table and probed costs about 1 us; a
# line read into a frame 3-4 us (SQLite, measured with bench/bench_ledger.py): a claim
# into an empty or small ledger skips loading its keys, any other claim joins them.
SCAN_FACTOR = 0.25
DEVICE_COLUMNS = (schema.EID, *t.DEVICE_TEXT, "row", "first_run", "first_seen_at")
STATE_COLUMNS = (schema.INTUNE_STATE, schema.ENTRA_OBJECT_ID, "state_at", "state_run")
TIMES = ("first_seen_at", "state_at")
# A device first claimed by a run that failed or died (its claims released) was never
# handed off then: the run that claims it next is the one it was first seen by.
FIRST_SEEN = ("first_run", "first_seen_at")
FIRST_IF_VOID = (
    "CASE WHEN (SELECT r.state FROM runs r WHERE r.run_id = devices.first_run)"
    f" IN ('{t.ABORTED}', '{t.ABANDONED}') THEN excluded.{{column}} ELSE devices.{{column}} END"
)


def live_claims(connection: Connection, eids: pd.Series, serials: pd.Series) -> pd.DataFrame:
    """``eid``, ``serial_number``, ``operator`` of the live claims on these EIDs or serials."""
    found = claims_on(connection, eids, serials)
    return found.loc[found["live"] == "1", list(KNOWN_COLUMNS)].reset_index(drop=True)


def claim(connection: Connection, run_id: str, devices: pd.DataFrame, now: Any) -> Claim:
    """Judge ``devices`` against the live claims and stage the winners; the reasons of the
    rest, and who else holds each EID.

    One lookup, under the claim lock (the caller's transaction): the verdict is final.
    """
    rows = claim_rows(devices)
    found = claims_on(connection, rows[schema.EID], rows[schema.SERIAL_NUMBER])
    live = found.loc[found["live"] == "1"]
    running = (live["staged_by"] != "") & (live["staged_by"] != run_id)
    live = live[list(KNOWN_COLUMNS)].assign(in_flight=running.to_numpy())
    reasons = claim_reasons(rows, live)
    others = dedupe.held_by_others(rows, live)
    claimed = in_eid_order(rows, reasons == "")
    del rows  # a million-row claim holds one copy of its lines, not two
    stage_claims(connection, run_id, claimed, now, known_eids=found[schema.EID])
    return Claim(
        pd.Series(reasons.to_numpy(), index=devices.index, dtype="str"),
        pd.Series(others.to_numpy(), index=devices.index, dtype="str"),
    )


def claims_on(connection: Connection, eids: pd.Series, serials: pd.Series) -> pd.DataFrame:
    """What ``CLAIM_SQL`` answers (``eid``, ``serial_number``, ``operator``, ``live``).

    A claim several times larger than the ledger reads the ledger's claims whole and
    matches them here; otherwise its keys go into a temporary table joined on the indexes.
    """
    if ledger_lines(connection) > SCAN_FACTOR * len(eids):
        load_keys(connection, eids, serials)
        found = bulk.fetch_frame(connection, CLAIM_SQL, CLAIM_COLUMNS)
        bulk.drop_temp(connection, "tmp_keys")
        return found
    every = bulk.fetch_frame(connection, SCAN_SQL, CLAIM_COLUMNS)
    if every.empty:
        return every
    by_eid = _isin(every[schema.EID], eids)
    live = (every["live"] == "1").to_numpy(dtype=bool)
    by_serial = live & _isin(every[schema.SERIAL_NUMBER], serials[serials != ""])
    found = pd.concat([every[by_eid], every[by_serial]], ignore_index=True)
    return found.drop_duplicates(ignore_index=True)


def _isin(values: pd.Series, choices: pd.Series) -> np.ndarray:
    # pyarrow directly: pandas' isin on Arrow strings walks the choices in Python.
    text = pa.large_string()
    hit = pc.is_in(pa.array(values, type=text), value_set=pa.array(choices, type=text))
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def ledger_lines(connection: Connection) -> int:
    """About how many hand-off lines the ledger holds (the highest id: no count scan)."""
    return int(connection.exec_driver_sql("SELECT max(id) FROM handoffs").scalar() or 0)


def stage_claims(
    connection: Connection,
    run_id: str,
    claimed: pd.DataFrame,
    now: Any,
    known_eids: pd.Series,
) -> None:
    """Insert the run's claims (staged) and register their devices, with their Intune state.

    ``claimed`` comes in EID order (``in_eid_order``): each index on ``eid`` is then filled
    front to back instead of at random pages (SQLite: half the time of a 1,000,000-row claim).
    """
    bulk.insert_frame(connection, "handoffs", handoff_lines(claimed, run_id, now))
    register_devices(connection, claimed, run_id, now, known_eids)


def in_eid_order(rows: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """The ``keep`` rows, sorted by EID (stable), in one copy rather than two."""
    positions = np.flatnonzero(keep.to_numpy(dtype=bool))
    order = rows[schema.EID].iloc[positions].argsort(kind="stable").to_numpy()
    return rows.take(positions[order])


def claim_rows(devices: pd.DataFrame) -> pd.DataFrame:
    """The columns a claim stores, as text (``row`` as int), missing ones empty.

    ``intune_state`` and ``entra_object_id`` stay out when ``devices`` has no Intune
    state: the device's state is then not known yet, rather than known to be empty.
    """
    rows = pd.DataFrame(index=devices.index)
    states = schema.CLAIMED_STATE if schema.INTUNE_STATE in devices else ()
    for column in (*schema.CLAIMED_TEXT, *states):
        values = devices[column] if column in devices else pd.Series("", index=devices.index)
        rows[column] = values.fillna("").astype("str")
    row = devices[schema.ROW] if schema.ROW in devices else pd.Series(0, index=devices.index)
    rows["row"] = pd.to_numeric(row, errors="coerce").fillna(0).astype("int64")
    return rows


def register_devices(
    connection: Connection,
    claimed: pd.DataFrame,
    run_id: str,
    now: Any,
    known_eids: pd.Series,
) -> None:
    """Add the claimed devices; a device known already (another operator, a void claim)
    takes the new identity, and the Intune state the claim brings, if any, is current.

    The state a known device had goes to its history first (``device_states`` holds
    every state before the current one, see ``enrolment``). ``known_eids``: the EIDs
    the ledger holds claims on, the only ones that can be registered already.
    """
    # One line per EID: the verdict claims an EID once per claim (a repeat is a duplicate).
    lines = claimed.assign(first_run=run_id, first_seen_at=now)
    columns = list(DEVICE_COLUMNS)
    updated = list(t.DEVICE_TEXT)
    if schema.INTUNE_STATE in lines:
        lines = lines.assign(state_at=now, state_run=run_id)
        columns += [*STATE_COLUMNS]
        updated += [*STATE_COLUMNS]
        _keep_known_states(connection, lines[schema.EID], known_eids)
    lines = lines[columns]
    updates = ", ".join(
        [f"{column} = excluded.{column}" for column in updated]
        + [f"{column} = {FIRST_IF_VOID.format(column=column)}" for column in FIRST_SEEN]
    )
    upsert = f"ON CONFLICT (eid) DO UPDATE SET {updates}"
    if not bulk.is_postgres(connection):
        bulk.insert_frame(connection, "devices", lines, suffix=upsert)
        return
    # COPY cannot upsert. New devices (the usual case) are copied straight in; if one
    # is known already, copy into a temporary table and upsert from it.
    try:
        with connection.begin_nested():
            bulk.insert_frame(connection, "devices", lines)
        return
    except psycopg.errors.UniqueViolation:
        pass
    kinds = {column: "TEXT" for column in columns} | {"row": "INTEGER"}
    bulk.create_temp(connection, "tmp_devices", kinds)
    bulk.insert_frame(connection, "tmp_devices", lines)
    names = ", ".join(columns)
    selected = ", ".join(
        f"CAST({column} AS TIMESTAMPTZ)" if column in TIMES else column for column in columns
    )
    connection.exec_driver_sql(
        f"INSERT INTO devices ({names}) SELECT {selected} FROM tmp_devices {upsert}"
    )


def _keep_known_states(connection: Connection, eids: pd.Series, known_eids: pd.Series) -> None:
    """Before a claim overwrites them: the states of the claimed devices known already."""
    eids = eids[eids.isin(set(known_eids))]
    if eids.empty:
        return
    bulk.create_temp(connection, "tmp_claimed", {schema.EID: "TEXT"})
    bulk.insert_frame(connection, "tmp_claimed", eids.to_frame(schema.EID))
    connection.exec_driver_sql(
        "INSERT INTO device_states (eid, run_id, intune_state, entra_object_id, recorded_at)"
        " SELECT d.eid, d.state_run, d.intune_state, d.entra_object_id, d.state_at"
        " FROM tmp_claimed c JOIN devices d ON d.eid = c.eid WHERE d.state_at IS NOT NULL"
    )
    bulk.drop_temp(connection, "tmp_claimed")


def handoff_lines(claimed: pd.DataFrame, run_id: str, now: Any) -> pd.DataFrame:
    lines = claimed[
        [schema.EID, schema.SERIAL_NUMBER, schema.IMEI, schema.SOURCE_FILE, "row", schema.OPERATOR]
    ]
    return lines.assign(run_id=run_id, state=t.STAGED, staged_at=now)


def load_keys(connection: Connection, eids: pd.Series, serials: pd.Series) -> None:
    """The EIDs and serials to look up, as one temporary table."""
    eids, serials = eids.fillna("").astype("str"), serials.fillna("").astype("str")
    if len(eids) != len(serials):  # not row-aligned: look each up on its own
        eids = pd.concat([eids, pd.Series([""] * len(serials), dtype="str")], ignore_index=True)
        padding = pd.Series([""] * (len(eids) - len(serials)), dtype="str")
        serials = pd.concat([padding, serials], ignore_index=True)
    # Repeated keys are harmless (the lookup is a UNION); not deduplicating saves a hash pass.
    keys = pd.DataFrame(
        {
            schema.EID: eids.reset_index(drop=True),
            schema.SERIAL_NUMBER: serials.reset_index(drop=True),
        }
    )
    bulk.create_temp(connection, "tmp_keys", {schema.EID: "TEXT", schema.SERIAL_NUMBER: "TEXT"})
    bulk.insert_frame(connection, "tmp_keys", keys)
