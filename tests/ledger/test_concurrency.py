"""Runs racing on one ledger: every EID is claimed by exactly one of them."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pandas as pd
import pytest

from eidflow.errors import LedgerBusy
from eidflow.ledger import db, open_ledger
from tests.ledger.helpers import devices

RUNS = 4
DEVICES = 3000


def overlapping(run: int) -> pd.DataFrame:
    """Run n claims devices n*500 .. n*500+1999: each overlaps its neighbours."""
    start = run * 500
    return devices(*((number, f"S{number}") for number in range(start, start + 2000)))


def test_racing_runs_claim_each_eid_once(url: str, tmp_path: Path) -> None:
    ledgers = [open_ledger(url) for _ in range(RUNS)]
    barrier = threading.Barrier(RUNS)
    results: dict[int, pd.Series] = {}
    verdicts: set[str] = set()

    def run(number: int) -> None:
        run_id = f"race-{number}"
        ledgers[number].begin_run(run_id, str(tmp_path / run_id))
        rows = overlapping(number)
        barrier.wait()
        claimed = ledgers[number].claim_handoff(run_id, "op", rows)
        results[number] = rows.loc[claimed == "", "eid"]
        verdicts.update(claimed)  # judged below: an assert in a thread fails no test

    threads = [threading.Thread(target=run, args=(number,)) for number in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for ledger in ledgers:
        ledger.close()
    claimed = pd.concat(results.values())
    expected = pd.concat([overlapping(number)["eid"] for number in range(RUNS)]).unique()
    assert len(results) == RUNS
    assert verdicts == {"", "claimed_by_running_run"}  # the racing runs are all still live
    assert not claimed.duplicated().any()
    assert set(claimed) == set(expected)


def test_sqlite_busy_beyond_the_timeout_is_ledger_busy(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    ledger = open_ledger(sqlite_url)
    ledger.begin_run("r1", str(tmp_path / "r1"))
    holder = sqlite3.connect(str(tmp_path / "ledger.db"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LedgerBusy, match="busy"):
            ledger.claim_handoff("r1", "op", devices((1, "S1")))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert ledger.claim_handoff("r1", "op", devices((1, "S1"))).tolist() == [""]
    ledger.close()
