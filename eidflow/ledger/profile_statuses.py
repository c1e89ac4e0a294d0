"""The eSIM profile's status per PC as Intune's report gave it, and the EID its device reports.

One line per claim (``eid``, ``operator``), replaced by each read: the report's own time
(``reported_at``) and the time eidflow read it (``read_at``) say how fresh it is.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from eidflow.ledger import bulk
from eidflow.ledger.db import Connection
from eidflow.ledger.enrolment import FINISHED

FIELDS = (
    "intune_device_id",
    "policy_id",
    "status",
    "policy_status",
    "reported_at",
    "device_eid",
    "eid_check",
)
KEYS = ("eid", "operator")
# What only the status report says: a PC that left it (but reports an EID) keeps the last.
FROM_REPORT = ("status", "policy_status", "reported_at")


def handed_off(connection: Connection, operator: str) -> pd.DataFrame:
    """The PCs of finished runs handed to ``operator``: eid, operator, serial_number."""
    columns = (*KEYS, "serial_number")
    found = bulk.fetch(
        connection,
        "SELECT c.eid, c.operator, c.serial_number FROM claims c"
        f" JOIN runs r ON r.run_no = c.run_no WHERE r.state IN ({FINISHED})"
        " AND c.operator = :operator",
        columns,
        {"operator": operator},
    )
    return pd.DataFrame({name: found.column(name).to_pylist() for name in columns}, dtype="str")


def record(connection: Connection, lines: pd.DataFrame, policy_id: str, now: Any) -> int:
    """Upsert ``lines`` (``core.profile_status.RECORDED``) in one statement; returns their count.

    A PC absent from this report keeps what the last one said about it (its status too, when
    only its EID was read this time).
    """
    if lines.empty:
        return 0
    names = (*KEYS, *FIELDS)
    text = lines.assign(policy_id=policy_id).fillna("").astype("str")
    bulk.create_temp(connection, "tmp_profiles", dict.fromkeys(names, "TEXT"))
    bulk.insert(connection, "tmp_profiles", {name: text[name] for name in names})
    updated = ", ".join(
        f"{name} = excluded.{name}"
        if name not in FROM_REPORT
        else f"{name} = CASE WHEN excluded.status = '' THEN profile_statuses.{name}"
        f" ELSE excluded.{name} END"
        for name in (*FIELDS, "read_at")
    )
    connection.execute(
        f"INSERT INTO profile_statuses ({', '.join(names)}, read_at)"
        f" SELECT {', '.join(names)}, :now FROM tmp_profiles WHERE true"
        f" ON CONFLICT (eid, operator) DO UPDATE SET {updated}",
        {"now": now},
    )
    bulk.drop_temp(connection, "tmp_profiles")
    return len(text)
