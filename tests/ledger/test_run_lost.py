"""A PostgreSQL run whose session is lost looks dead to other runs: before its files leave,
it takes its lock again, or learns it was settled and must hand nothing off."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from eidflow.errors import LedgerLost, RunLost
from eidflow.ledger import SqlLedger, open_ledger
from tests.ledger.helpers import devices, eid

pytestmark = pytest.mark.postgres


def lose_session(ledger: SqlLedger, run_id: str, server: str) -> None:
    """Terminate the backend holding the run's lock, as a restart or an admin would."""
    pid = ledger._run_locks[run_id].scalar("SELECT pg_backend_pid()")
    terminate(pid, server)


def terminate(pid: int, server: str) -> None:
    """End the backend ``pid`` and wait until it is gone (it may have ended by itself)."""
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.02)


def test_a_run_settled_by_another_after_losing_its_session_hands_nothing_off(
    pg_url: str, pg_server: str, tmp_path: Path
) -> None:
    first = open_ledger(pg_url)
    try:
        first.begin_run("r1", str(tmp_path / "r1"))
        assert first.claim_handoff("r1", "op", devices((1, "S1"))).tolist() == [""]
        lose_session(first, "r1", pg_server)
        # Another process's run settles r1 (its lock is free) and claims the EID.
        assert claim_elsewhere(pg_url, tmp_path / "r2") == [""]
        with pytest.raises(RunLost, match="took it for dead"):
            first.confirm_live("r1")
    finally:
        first.close()


CLAIM = """
import sys
from eidflow.ledger import open_ledger
from tests.ledger.helpers import devices, eid
ledger = open_ledger(sys.argv[1])
ledger.begin_run("r2", sys.argv[2])
print(ledger.claim_handoff("r2", "op", devices((1, "S1"))).tolist())
ledger.close()
"""


def claim_elsewhere(url: str, run_dir: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", CLAIM, url, str(run_dir)],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return list(ast.literal_eval(done.stdout.strip()))


def test_a_run_that_lost_its_session_unnoticed_takes_its_lock_again(
    pg_url: str, pg_server: str, tmp_path: Path
) -> None:
    first = open_ledger(pg_url)
    try:
        first.begin_run("r1", str(tmp_path / "r1"))
        first.claim_handoff("r1", "op", devices((1, "S1")))
        lose_session(first, "r1", pg_server)
        first.confirm_live("r1")  # nobody settled it: it holds its lock again
        # and now another process's run does not take it for dead
        assert claim_elsewhere(pg_url, tmp_path / "r2") == ["claimed_by_running_run"]
    finally:
        first.close()


def test_a_connection_lost_mid_run_is_a_failed_run_not_a_bad_url(
    pg_url: str, pg_server: str, tmp_path: Path
) -> None:
    ledger = open_ledger(pg_url)
    try:
        ledger.begin_run("r1", str(tmp_path / "r1"))
        with pytest.raises(LedgerLost, match="was lost") as lost, ledger.write() as connection:
            terminate(connection.scalar("SELECT pg_backend_pid()"), pg_server)
            connection.execute("SELECT 1")
        assert lost.value.exit_code == 3 and "Run again" in lost.value.todo
    finally:
        ledger.close()


def test_a_run_settled_while_its_files_were_copied_writes_no_receipt(
    pg_url: str, pg_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session drops while the files go to the outbox, and another run settles this
    one and takes its EIDs: the receipt, which would make the copied files count, is not
    written, and the run stops."""
    from app.pipeline import IngestRequest, run_ingest
    from app.settings import Settings
    from exporters import delivery

    (tmp_path / "m.csv").write_text(f"Serial Number,EID\nS1,{eid(1)}\n")
    settings = Settings.model_validate(
        {"ledger": {"url": pg_url}, "delivery": {"folder": str(tmp_path / "outbox")}}
    )
    copy = delivery._copy_verified
    copied: list[object] = []

    def copy_then_lose_the_session(*args: object) -> None:
        copy(*args)  # type: ignore[arg-type]
        copied.append(args)
        if len(copied) > 1:
            return
        with psycopg.connect(pg_server, autocommit=True) as admin:
            pids = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            ).fetchall()
        for (pid,) in pids:
            terminate(pid, pg_server)
        assert claim_elsewhere(pg_url, tmp_path / "r2") == [""]  # settles this run first

    monkeypatch.setattr(delivery, "_copy_verified", copy_then_lose_the_session)
    with pytest.raises(RunLost):
        run_ingest(IngestRequest([str(tmp_path / "m.csv")], out_dir=tmp_path / "run"), settings)
    assert not list((tmp_path / "outbox").rglob("receipt.json"))
    assert not (tmp_path / "run" / "summary.json").exists()
