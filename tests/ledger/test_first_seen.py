"""Where a device was first seen: the run that handed it off, not one that failed first."""

from __future__ import annotations

from pathlib import Path

from eidflow.ledger import SqlLedger, queries
from tests.ledger.helpers import devices, eid


def first_run(ledger: SqlLedger, number: int) -> str:
    with ledger.read() as connection:
        return str(queries.device_story(connection, eid(number))["device"]["first_run"])


def test_a_device_first_claimed_by_an_aborted_run_is_first_seen_by_the_next(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op", devices((1, "S1")))
    ledger.abort_run("r1", "the S3 bucket does not exist")
    ledger.begin_run("r2", str(tmp_path / "r2"))
    ledger.claim_handoff("r2", "op", devices((1, "S1"), (2, "S2")))
    ledger.finish_run("r2", [], {})
    assert (first_run(ledger, 1), first_run(ledger, 2)) == ("r2", "r2")


def test_a_device_first_handed_off_keeps_its_first_run(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op-a", devices((1, "S1")))
    ledger.finish_run("r1", [], {})
    ledger.begin_run("r2", str(tmp_path / "r2"))
    ledger.claim_handoff("r2", "op-b", devices((1, "S1")))  # a second operator, later
    ledger.finish_run("r2", [], {})
    assert first_run(ledger, 1) == "r1"
