"""Corrections in the ledger: a void gives back one operator's claims of one run, a
retirement every claim on the PC, never a claim of a run still handing it off."""

from __future__ import annotations

import pytest

from eidflow.errors import LedgerBusy
from eidflow.ledger import SqlLedger, corrections, retirements
from tests.ledger.helpers import devices, eid

REQUEST = corrections.Request("columns swapped", "alice")


def finished_run(ledger: SqlLedger, run_id: str, *operators: str) -> None:
    ledger.begin_run(run_id, f"/tmp/{run_id}")
    for operator in operators:
        ledger.claim_handoff(run_id, operator, devices((1, "SER-1"), (2, "SER-2")))
    ledger.finish_run(run_id)


def correction_run(ledger: SqlLedger, run_id: str, kind: str) -> int:
    with ledger.write(claim_lock=True) as connection:
        return corrections.record_run(connection, run_id, kind, ledger.now(), "{}")


def test_a_void_gives_back_only_that_operators_claims(ledger: SqlLedger) -> None:
    finished_run(ledger, "run-1", "op-a", "op-b")
    void_no = correction_run(ledger, "void-1", "void")
    with ledger.write(claim_lock=True) as connection:
        voided = corrections.void_of(connection, "run-1", "op-a")
        assert voided.eids == 2 and not voided.void_id
        corrections.record_void(connection, voided, void_no, REQUEST, ledger.now())
    with ledger.read() as connection:
        again = corrections.void_of(connection, "run-1", "op-a")
        held = connection.all("SELECT eid, operator FROM claims ORDER BY eid")
        serials = connection.all("SELECT serial_number FROM serials ORDER BY serial_number")
        lines = corrections.withdrawn_lines(connection, again)
    assert (again.void_state, again.reason) == (corrections.WITHDRAWN, "columns swapped")
    assert held == [(eid(1), "op-b"), (eid(2), "op-b")]
    assert serials == [("SER-1",), ("SER-2",)]  # op-b still holds them
    assert [(line["eid"], line["serial_number"]) for line in lines] == [
        (eid(1), "SER-1"),
        (eid(2), "SER-2"),
    ]


def test_a_pc_a_live_run_is_handing_off_cannot_be_retired(ledger: SqlLedger) -> None:
    ledger.begin_run("run-1", "/tmp/run-1")
    ledger.claim_handoff("run-1", "op-a", devices((1, "SER-1")))
    retire_no = correction_run(ledger, "retire-1", "retire")
    with (
        pytest.raises(LedgerBusy, match="run run-1 is handing"),
        ledger.write(claim_lock=True) as connection,
    ):
        retirements.retire(connection, [eid(1)], retire_no, REQUEST, ledger.now())
    ledger.finish_run("run-1")
    with ledger.write(claim_lock=True) as connection:
        retirements.retire(connection, [eid(1)], retire_no, REQUEST, ledger.now())
    with ledger.read() as connection:
        assert connection.all("SELECT eid FROM claims") == []
        assert list(retirements.retired(connection)) == [eid(1)]
        assert connection.scalar("SELECT released_by FROM released") == retire_no
