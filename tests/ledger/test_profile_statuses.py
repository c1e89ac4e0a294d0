"""The profile statuses' upsert on SQLite and PostgreSQL: one line per claim, the newest read."""

from __future__ import annotations

import pandas as pd

from eidflow.ledger import SqlLedger, profile_statuses
from tests.frames import make_eid

EIDS = [make_eid(n) for n in range(1, 4)]


def lines(status: list[str], reported_at: str, device_eid: str = "") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "eid": EIDS[: len(status)],
            "operator": "contoso-mobile",
            "serial_number": [f"S{n}" for n in range(len(status))],
            "intune_device_id": [f"d{n}" for n in range(len(status))],
            "status": status,
            "policy_status": status,
            "reported_at": reported_at,
            "device_eid": device_eid,
            "eid_check": "unknown",
        }
    )


def read(ledger: SqlLedger) -> dict[str, dict[str, object]]:
    with ledger.read() as connection:
        rows = connection.rows("SELECT * FROM profile_statuses")
    return {str(row["eid"]): row for row in rows}


def test_a_newer_read_replaces_each_line_and_a_pc_without_a_status_keeps_its_last(
    ledger: SqlLedger,
) -> None:
    with ledger.write() as connection:
        assert profile_statuses.record(connection, lines(["pending"] * 3, "t1"), "P", ledger.now())
    first = read(ledger)

    # The third PC left the report; its device now reports an EID.
    again = lines(["applied", "error", ""], "t2", device_eid=make_eid(9))
    with ledger.write() as connection:
        profile_statuses.record(connection, again, "P", ledger.now())

    after = read(ledger)
    assert len(after) == 3
    assert [after[eid]["status"] for eid in EIDS] == ["applied", "error", "pending"]
    assert [after[eid]["reported_at"] for eid in EIDS] == ["t2", "t2", "t1"]
    assert after[EIDS[2]]["device_eid"] == make_eid(9)
    assert all(str(after[eid]["read_at"]) > str(first[eid]["read_at"]) for eid in EIDS)
