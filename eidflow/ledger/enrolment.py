"""After the hand-off: each device's Intune state history and its Entra group memberships."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection

from eidflow import schema
from eidflow.ledger import bulk
from eidflow.ledger import tables as t

STATE_COLUMNS = (schema.EID, schema.INTUNE_STATE, schema.ENTRA_OBJECT_ID)
PENDING_COLUMNS = (
    schema.EID,
    schema.SERIAL_NUMBER,
    schema.IMEI,
    schema.OPERATOR,
    schema.INTUNE_STATE,
)


def record_states(connection: Connection, run_id: str, states: pd.DataFrame, now: Any) -> None:
    """Set each device's current state; where it changed, the old one goes to the history.

    ``devices`` holds the current state (since ``state_at``, seen by ``state_run``);
    ``device_states`` every state before it. A device seen in the same state again
    keeps its ``state_at``: the time it got into that state.
    """
    lines = _last_per_eid_in_order(_text_frame(states, STATE_COLUMNS))
    if lines.empty:
        return
    bulk.create_temp(connection, "tmp_states", {column: "TEXT" for column in STATE_COLUMNS})
    bulk.insert_frame(connection, "tmp_states", lines)
    bulk.execute(
        connection,
        "INSERT INTO device_states (eid, run_id, intune_state, entra_object_id, recorded_at)"
        " SELECT d.eid, d.state_run, d.intune_state, d.entra_object_id, d.state_at"
        " FROM tmp_states s JOIN devices d ON d.eid = s.eid WHERE d.state_at IS NOT NULL"
        " AND (d.intune_state <> s.intune_state OR d.entra_object_id <> s.entra_object_id)",
    )
    bulk.execute(
        connection,
        "UPDATE devices SET intune_state = s.intune_state, entra_object_id = s.entra_object_id,"
        " state_at = :now, state_run = :run_id FROM tmp_states s WHERE devices.eid = s.eid"
        " AND (devices.state_at IS NULL OR devices.intune_state <> s.intune_state"
        " OR devices.entra_object_id <> s.entra_object_id)",
        now=now,
        run_id=run_id,
    )
    bulk.drop_temp(connection, "tmp_states")


def pending(connection: Connection, group_id: str) -> pd.DataFrame:
    """Devices delivered to an operator that are not yet members of ``group_id``.

    A membership of another group (the one ``[entra] group_id`` named before) does not count.
    """
    # ``group_id || ''`` keeps SQLite (no statistics on memberships) from probing through
    # uq_memberships_group_object, which reads every member of the group for each hand-off:
    # 17 s for 20,000 devices; through ix_memberships_eid (a device is in a few groups)
    # 200,000 take 0.3 s.
    sql = (
        "SELECT h.eid, d.serial_number, d.imei, h.operator, d.intune_state FROM handoffs h"
        " JOIN devices d ON d.eid = h.eid"
        f" WHERE h.state = '{t.DELIVERED}' AND h.resend_reason = ''"
        " AND NOT EXISTS (SELECT 1 FROM memberships m"
        " WHERE m.eid = h.eid AND m.group_id || '' = %s)"
        " ORDER BY h.eid, h.operator"
    )
    return bulk.fetch_frame(connection, sql, PENDING_COLUMNS, (group_id,))


def record_memberships(
    connection: Connection, run_id: str, group_id: str, object_ids: pd.DataFrame, now: Any
) -> None:
    """Devices added to a static group; adding one twice is recorded once."""
    lines = _text_frame(object_ids, (schema.EID, schema.ENTRA_OBJECT_ID))
    lines = lines[lines[schema.ENTRA_OBJECT_ID] != ""].drop_duplicates(
        subset=[schema.ENTRA_OBJECT_ID]
    )
    if lines.empty:
        return
    bulk.create_temp(
        connection, "tmp_members", {schema.EID: "TEXT", schema.ENTRA_OBJECT_ID: "TEXT"}
    )
    bulk.insert_frame(connection, "tmp_members", lines)
    bulk.execute(
        connection,
        "INSERT INTO memberships (group_id, eid, entra_object_id, run_id, added_at)"
        " SELECT :group_id, eid, entra_object_id, :run_id, :now FROM tmp_members WHERE true"
        " ON CONFLICT (group_id, entra_object_id) DO NOTHING",
        group_id=group_id,
        run_id=run_id,
        now=now,
    )
    bulk.drop_temp(connection, "tmp_members")


def _last_per_eid_in_order(lines: pd.DataFrame) -> pd.DataFrame:
    """The last line of each EID, sorted by EID (index order: each page is visited once).

    One copy of the frame, where drop_duplicates then sort_values made two.
    """
    order = lines[schema.EID].argsort(kind="stable").to_numpy()
    eids = lines[schema.EID].iloc[order]
    last = (eids != eids.shift(-1)).fillna(True).to_numpy(dtype=bool)
    return lines.take(order[last])


def _text_frame(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            column: (frame[column] if column in frame else pd.Series("", index=frame.index))
            .fillna("")
            .astype("str")
            for column in columns
        }
    )
