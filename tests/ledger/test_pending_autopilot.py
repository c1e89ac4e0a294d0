"""Autopilot-registered members stay pending until they enrol (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eidflow.ledger import SqlLedger
from tests.ledger.helpers import devices, eid


def test_a_registered_member_is_pending_until_it_enrols(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op", devices((1, "S1"), (2, "S2"), (3, "S3"), (4, "S4")))
    states = pd.DataFrame(
        {
            "eid": [eid(1), eid(2), eid(3), eid(4)],
            "intune_state": ["autopilot_registered", "autopilot_registered", "enrolled", ""],
            "entra_object_id": ["obj-1", "obj-2", "obj-3", ""],
        }
    )
    ledger.record_intune_states("r1", states)
    ledger.finish_run("r1", [], {})
    ledger.record_memberships("r1", "group-1", states.iloc[[0, 2]])
    ledger.record_memberships("r1", "group-0", states.iloc[[1]])  # another group's
    pending = ledger.pending_enrollment("group-1")
    columns = ["eid", "intune_state", "member_object_id", "recorded_object_id"]
    assert pending[columns].values.tolist() == [
        [eid(1), "autopilot_registered", "obj-1", "obj-1"],  # a member, not enrolled yet
        [eid(2), "autopilot_registered", "", "obj-2"],  # not a member of this group
        [eid(4), "", "", ""],
    ]
    ledger.begin_run("r2", str(tmp_path / "r2"), kind="reconcile")
    ledger.record_intune_states("r2", states.iloc[[0]].assign(intune_state="enrolled"))
    ledger.finish_run("r2", [], {})
    assert ledger.pending_enrollment("group-1")["eid"].tolist() == [eid(2), eid(4)]
