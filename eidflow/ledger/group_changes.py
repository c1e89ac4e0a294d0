"""What a static group should hold by the ledger, and every change made to it.

The devices a group should hold are those handed off (their run complete or recovered:
a released claim is gone from ``claims``) that are enrolled with an Entra object id.
``memberships`` says which members eidflow put in a group (a sync, the daily reconcile,
or an admin's import of a run's list); ``group_changes`` keeps each add and removal a sync
asked of Graph, with Graph's answer.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from eidflow import schema
from eidflow.ledger import bulk
from eidflow.ledger import states as s
from eidflow.ledger.db import Connection

FINISHED = ", ".join(f"'{state}'" for state in s.FINISHED_STATES)
CANDIDATE_COLUMNS = (
    schema.EID,
    schema.SERIAL_NUMBER,
    schema.OPERATOR,
    schema.INTUNE_STATE,
    schema.ENTRA_OBJECT_ID,
)
CHANGE_COLUMNS = (
    "entra_object_id",
    "eid",
    "action",
    "outcome",
    "http_status",
    "answer",
)
# Outcomes after which the device is in the group / is not.
IN_GROUP = ("added", "already_member")
OUT_OF_GROUP = ("removed", "not_member")


def handed_off(connection: Connection) -> pd.DataFrame:
    """Every delivered claim with the device's current Intune state and Entra object id."""
    found = bulk.fetch(
        connection,
        "SELECT c.eid, c.serial_number, c.operator, c.intune_state, c.entra_object_id"
        f" FROM claims c JOIN runs r ON r.run_no = c.run_no WHERE r.state IN ({FINISHED})"
        " ORDER BY c.eid, c.operator",
        CANDIDATE_COLUMNS,
    )
    return pd.DataFrame(
        {name: pd.array(found.column(name), dtype="str") for name in CANDIDATE_COLUMNS}
    )


def retired(connection: Connection) -> pd.DataFrame:
    """The PCs retired now (``eid``, ``serial_number``, ``entra_object_id``): a group sheds them."""
    from eidflow.ledger import retirements

    lines = list(retirements.retired(connection).values())
    names = (schema.EID, schema.SERIAL_NUMBER, schema.ENTRA_OBJECT_ID)
    return pd.DataFrame({name: [str(line[name]) for line in lines] for name in names}, dtype="str")


def recorded_members(connection: Connection, group_id: str) -> set[str]:
    """Object ids eidflow put in ``group_id`` (and has not removed since)."""
    rows = connection.all(
        "SELECT entra_object_id FROM memberships WHERE group_id = :group_id",
        {"group_id": group_id},
    )
    return {str(row[0]).lower() for row in rows}


def record_changes(
    connection: Connection, run_id: str, group_id: str, changes: pd.DataFrame, now: Any
) -> None:
    """Each change and Graph's answer; memberships follow what the group holds now."""
    if changes.empty:
        return
    columns = {
        name: changes[name].astype("str") for name in CHANGE_COLUMNS if name != "http_status"
    }
    bulk.insert(
        connection,
        "group_changes",
        {
            **columns,
            "http_status": changes["http_status"].astype("int64"),
            "run_id": run_id,
            "group_id": group_id,
            "changed_at": now,
        },
    )
    gone = changes.loc[changes["outcome"].isin(OUT_OF_GROUP), "entra_object_id"].tolist()
    for object_id in gone:
        connection.execute(
            "DELETE FROM memberships WHERE group_id = :group_id AND entra_object_id = :oid",
            {"group_id": group_id, "oid": object_id},
        )


def changes_of_run(connection: Connection, run_id: str) -> list[dict[str, Any]]:
    """The changes one sync run made, in the order they were recorded."""
    return connection.rows(
        "SELECT entra_object_id, eid, action, outcome, http_status, answer FROM group_changes"
        " WHERE run_id = :run_id ORDER BY id",
        {"run_id": run_id},
    )
