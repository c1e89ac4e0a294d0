"""The ledger's side of a group sync: who is handed off, and each change with Graph's answer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eidflow.ledger import SqlLedger, enrolment, group_changes
from tests.ledger.helpers import devices, eid


def test_changes_are_kept_and_memberships_follow_them(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    assert ledger.claim_handoff("r1", "op", devices((1, "S1"), (2, "S2"))).tolist() == ["", ""]
    ledger.record_intune_states(
        "r1",
        pd.DataFrame(
            {
                "eid": [eid(1), eid(2)],
                "intune_state": ["enrolled", "not_enrolled"],
                "entra_object_id": ["o1", ""],
            }
        ),
    )
    ledger.begin_run("live", str(tmp_path / "live"))  # not finished: its claims do not count
    ledger.claim_handoff("live", "op", devices((3, "S3")))
    ledger.finish_run("r1")
    ledger.begin_run("s1", str(tmp_path / "s1"), kind="groups-sync")
    with ledger.read() as connection:
        handed = group_changes.handed_off(connection)
    assert handed["eid"].tolist() == [eid(1), eid(2)]
    assert handed["entra_object_id"].tolist() == ["o1", ""]

    changes = pd.DataFrame(
        {
            "entra_object_id": ["o1", "o9"],
            "eid": [eid(1), ""],
            "action": ["add", "remove"],
            "outcome": ["added", "removed"],
            "http_status": [204, 204],
            "answer": ["", ""],
        }
    )
    with ledger.write() as connection:  # (a temporary table each: one per transaction)
        enrolment.record_memberships(connection, "s1", "g", changes.iloc[:1], ledger.now())
    with ledger.write() as connection:
        enrolment.record_memberships(
            connection,
            "s1",
            "g",
            pd.DataFrame({"eid": ["x"], "entra_object_id": ["o9"]}),
            ledger.now(),
        )
    with ledger.write() as connection:
        group_changes.record_changes(connection, "s1", "g", changes, ledger.now())
    ledger.finish_run("s1", [], {"added": 1})
    with ledger.read() as connection:
        assert group_changes.recorded_members(connection, "g") == {"o1"}
        rows = group_changes.changes_of_run(connection, "s1")
    assert [(r["action"], r["outcome"], r["http_status"]) for r in rows] == [
        ("add", "added", 204),
        ("remove", "removed", 204),
    ]
    assert ledger.pending_enrollment("g")["eid"].tolist() == [eid(2)]
