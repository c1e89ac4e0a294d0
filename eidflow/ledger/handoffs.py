"""Reading and writing hand-off claims in bulk: the live claims on some devices, new claims.

A claim is live while its state is not ``released``; re-send lines are not claims.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import Connection

from eidflow import schema
from eidflow.ledger import bulk
from eidflow.ledger import tables as t

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


def live_claims(connection: Connection, eids: pd.Series, serials: pd.Series) -> pd.DataFrame:
    """``eid``, ``serial_number``, ``operator`` of the live claims on these EIDs or serials."""
    load_keys(connection, eids, serials)
    known = bulk.fetch_frame(connection, KNOWN_SQL, KNOWN_COLUMNS)
    bulk.drop_temp(connection, "tmp_keys")
    return known


def stage_claims(
    connection: Connection, run_id: str, operator: str, claimed: pd.DataFrame, now: Any
) -> None:
    """Insert the run's claims (staged) and register their devices.

    In EID order: each index on ``eid`` is then filled front to back instead of at
    random pages (SQLite: half the time of a 1,000,000-row claim).
    """
    if not claimed[schema.EID].is_monotonic_increasing:
        claimed = claimed.sort_values(schema.EID, kind="stable")
    bulk.insert_frame(connection, "handoffs", handoff_lines(claimed, run_id, operator, now))
    register_devices(connection, claimed, run_id, now)


def in_eid_order(rows: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """The ``keep`` rows, sorted by EID (stable), in one copy rather than two."""
    positions = np.flatnonzero(keep.to_numpy(dtype=bool))
    order = rows[schema.EID].iloc[positions].argsort(kind="stable").to_numpy()
    return rows.take(positions[order])


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
    # COPY cannot upsert. New devices (the usual case) are copied straight in; if one
    # is known already (another operator, a void claim) copy into a temporary table
    # and upsert from it.
    try:
        with connection.begin_nested():
            bulk.insert_frame(connection, "devices", lines)
        return
    except psycopg.errors.UniqueViolation:
        pass
    columns = {column: "TEXT" for column in DEVICE_COLUMNS} | {"row": "INTEGER"}
    bulk.create_temp(connection, "tmp_devices", columns)
    bulk.insert_frame(connection, "tmp_devices", lines)
    names = ", ".join(DEVICE_COLUMNS)
    selected = names.replace("first_seen_at", "CAST(first_seen_at AS TIMESTAMPTZ)")
    connection.exec_driver_sql(
        f"INSERT INTO devices ({names}) SELECT {selected} FROM tmp_devices {upsert}"
    )


def handoff_lines(claimed: pd.DataFrame, run_id: str, operator: str, now: Any) -> pd.DataFrame:
    lines = claimed[[schema.EID, schema.SERIAL_NUMBER, schema.IMEI, schema.SOURCE_FILE, "row"]]
    return lines.assign(operator=operator, run_id=run_id, state=t.STAGED, staged_at=now)


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
