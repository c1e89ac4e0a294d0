"""After the hand-off: each device's Intune state history and its Entra group memberships.

A device's current state is on its claims (``intune_state``, ``entra_object_id``, and
``state_run``, the run that saw it get there: its time is that run's); ``device_states``
holds every state before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eidflow import schema
from eidflow.codes import IntuneState
from eidflow.ledger import bulk
from eidflow.ledger import states as s
from eidflow.ledger.db import Connection

if TYPE_CHECKING:  # pandas is imported where frames are made: settling and `void` need none
    import pandas as pd

STATE_COLUMNS = (schema.EID, schema.INTUNE_STATE, schema.ENTRA_OBJECT_ID)
PENDING_COLUMNS = (
    schema.EID,
    schema.SERIAL_NUMBER,
    schema.IMEI,
    schema.OPERATOR,
    schema.INTUNE_STATE,
    schema.MEMBER_OBJECT_ID,
    schema.RECORDED_OBJECT_ID,
)
AUTOPILOT_CLAIM = f"c.intune_state = '{IntuneState.AUTOPILOT_REGISTERED}'"
FINISHED = ", ".join(f"'{state}'" for state in s.FINISHED_STATES)
CHANGED = "(c.intune_state <> t.intune_state OR c.entra_object_id <> t.entra_object_id)"


def set_states(connection: Connection, states: pd.DataFrame, run_no: int) -> None:
    """Set each device's current state; where it changed, the old one goes to the history.

    A device seen in the same state again keeps its ``state_run``: the run that saw it
    get into that state.
    """
    lines = _last_per_eid(_text_frame(states, STATE_COLUMNS))
    if lines.empty:
        return
    bulk.create_temp(connection, "tmp_states", dict.fromkeys(STATE_COLUMNS, "TEXT"))
    bulk.insert(connection, "tmp_states", {name: lines[name] for name in STATE_COLUMNS})
    connection.execute(
        "INSERT INTO device_states (eid, run_id, intune_state, entra_object_id, recorded_at)"
        " SELECT DISTINCT c.eid, r.run_id, c.intune_state, c.entra_object_id, r.started_at"
        " FROM tmp_states t JOIN claims c ON c.eid = t.eid JOIN runs r ON r.run_no = c.state_run"
        f" WHERE c.state_run > 0 AND {CHANGED}"
    )
    connection.execute(
        "UPDATE claims SET intune_state = t.intune_state, entra_object_id = t.entra_object_id,"
        " state_run = :run_no FROM tmp_states t WHERE claims.eid = t.eid"
        " AND (claims.state_run = 0 OR claims.intune_state <> t.intune_state"
        " OR claims.entra_object_id <> t.entra_object_id)",
        {"run_no": run_no},
    )
    bulk.drop_temp(connection, "tmp_states")


def keep_released_states(connection: Connection, chosen: str, params: dict[str, Any]) -> None:
    """Claims given back (``chosen``: a condition on the alias ``{t}``): the states they
    carried become history of devices no live claim holds any more (a void claim still saw
    the device in that state)."""
    connection.execute(
        "INSERT INTO device_states (eid, run_id, intune_state, entra_object_id, recorded_at)"
        " SELECT DISTINCT c.eid, r.run_id, c.intune_state, c.entra_object_id, r.started_at"
        " FROM claims c JOIN runs r ON r.run_no = c.state_run"
        f" WHERE {chosen.format(t='c')} AND c.state_run > 0 AND NOT EXISTS (SELECT 1"
        f" FROM claims o WHERE o.eid = c.eid AND NOT ({chosen.format(t='o')}))",
        params,
    )


def pending(connection: Connection, group_id: str) -> pd.DataFrame:
    """Devices delivered to an operator that are not yet members of ``group_id``, and those
    that are but have not enrolled yet (``autopilot_registered``: in the group before their
    first boot), with the object id they are members by and the one their claim holds.

    A membership of another group (the one ``[entra] group_id`` named before) does not count.
    """
    # ``group_id || ''`` keeps SQLite (no statistics on memberships) from probing through
    # uq_memberships_group_object, which reads every member of the group for each claim;
    # through ix_memberships_eid (a device is in a few groups) 200,000 take 0.3 s.
    found = bulk.fetch(
        connection,
        "SELECT c.eid, c.serial_number, c.imei, c.operator, c.intune_state,"
        f" CASE WHEN {AUTOPILOT_CLAIM} THEN COALESCE("
        "(SELECT MIN(m.entra_object_id) FROM memberships m"
        " WHERE m.eid = c.eid AND m.group_id || '' = :group_id), '') ELSE '' END,"
        f" CASE WHEN {AUTOPILOT_CLAIM} THEN c.entra_object_id ELSE '' END"
        f" FROM claims c JOIN runs r ON r.run_no = c.run_no WHERE r.state IN ({FINISHED})"
        f" AND ({AUTOPILOT_CLAIM} OR NOT EXISTS (SELECT 1 FROM memberships m"
        " WHERE m.eid = c.eid AND m.group_id || '' = :group_id))"
        " ORDER BY c.eid, c.operator",
        PENDING_COLUMNS,
        {"group_id": group_id},
    )
    import pandas as pd

    return pd.DataFrame(
        {name: pd.array(found.column(name), dtype="str") for name in PENDING_COLUMNS}
    )


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
    bulk.insert(
        connection,
        "tmp_members",
        {schema.EID: lines[schema.EID], schema.ENTRA_OBJECT_ID: lines[schema.ENTRA_OBJECT_ID]},
    )
    connection.execute(
        "INSERT INTO memberships (group_id, eid, entra_object_id, run_id, added_at)"
        " SELECT :group_id, eid, entra_object_id, :run_id, :now FROM tmp_members WHERE true"
        " ON CONFLICT (group_id, entra_object_id) DO NOTHING",
        {"group_id": group_id, "run_id": run_id, "now": now},
    )
    bulk.drop_temp(connection, "tmp_members")


def _last_per_eid(lines: pd.DataFrame) -> pd.DataFrame:
    """The last line of each EID, sorted by EID (index order: each page is visited once)."""
    order = lines[schema.EID].argsort(kind="stable").to_numpy()
    eids = lines[schema.EID].iloc[order]
    last = (eids != eids.shift(-1)).fillna(True).to_numpy(dtype=bool)
    return lines.take(order[last]).reset_index(drop=True)


def _text_frame(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            column: (frame[column] if column in frame else pd.Series("", index=frame.index))
            .fillna("")
            .astype("str")
            for column in columns
        }
    )
