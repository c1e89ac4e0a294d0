"""Runs that die: the ledger and their target decide whether their claims stand.

A run that never started delivering handed nothing off: released. One that did is asked
of its target (here the run folder itself: its summary.json): complete, its claims stand.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from eidflow.errors import DeliveryError
from eidflow.ledger import DeadRun, liveness, open_ledger
from tests.ledger.helpers import devices, eid

CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from eidflow.ledger import DeadRun, liveness, open_ledger
    from tests.ledger.helpers import devices

    url, run_dir, then = sys.argv[1], sys.argv[2], sys.argv[3]
    ledger = open_ledger(url)
    ledger.begin_run("dead-run", run_dir)
    rows = devices((1, "S1"), (2, "S2"), source_file="m.csv").assign(operator="op")
    ledger.claim("dead-run", rows, [{"name": "m.csv", "sha256": "ab" * 32, "rows": 2}])
    if then in ("delivering", "complete"):
        ledger.start_delivery("dead-run", {"rows": 2})
    if then == "complete":
        os.makedirs(run_dir, exist_ok=True)
        with open(os.path.join(run_dir, "summary.json"), "w") as handle:
            json.dump({"run_id": "dead-run"}, handle)
    if then == "wait":
        print("claimed", flush=True)
        sys.stdin.readline()
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def start_child(url: str, run_dir: Path, then: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(run_dir), then],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )


@pytest.mark.parametrize(
    ("then", "rerun", "seen"),
    [
        ("complete", ["already_registered", ""], True),
        ("delivering", ["", ""], False),  # on its way, no summary.json at the target: void
        ("crash", ["", ""], False),  # its files never left
    ],
)
def test_a_killed_run_is_settled_by_the_ledger_and_its_target(
    url: str, tmp_path: Path, then: str, rerun: list[str], seen: bool
) -> None:
    child = start_child(url, tmp_path / "dead", then)
    assert child.wait(timeout=60) == -signal.SIGKILL
    ledger = open_ledger(url)
    try:
        ledger.begin_run("next", str(tmp_path / "next"))
        assert ledger.claim_handoff("next", "op", devices((1, "S1"), (3, "S3"))).tolist() == rerun
        assert (ledger.manifest_seen("ab" * 32) is not None) is seen
    finally:
        ledger.close()


def test_a_live_run_keeps_its_claims_until_it_dies(url: str, tmp_path: Path) -> None:
    child = start_child(url, tmp_path / "slow", "wait")
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "claimed"
        ledger = open_ledger(url)
        ledger.begin_run("second", str(tmp_path / "second"))
        assert ledger.claim_handoff("second", "op", devices((1, "S1"))).tolist() == [
            "claimed_by_running_run"  # the slow run's, while it lives
        ]
        ledger.close()
    finally:
        child.kill()
        child.wait(timeout=30)
    ledger = open_ledger(url)
    try:
        ledger.begin_run("third", str(tmp_path / "third"))
        assert ledger.claim_handoff("third", "op", devices((1, "S1"))).tolist() == [""]
        known = ledger.known_devices(pd.Series([eid(2)]), pd.Series(["S2"]))
        assert known.empty
    finally:
        ledger.close()


def test_an_unfinished_run_of_this_process_is_settled_after_close(url: str, tmp_path: Path) -> None:
    first = open_ledger(url)
    first.begin_run("left", str(tmp_path / "left"))
    first.claim_handoff("left", "op", devices((1, "S1")))
    first.close()  # neither finished nor aborted: an exception escaped the pipeline
    second = open_ledger(url)
    try:
        second.begin_run("after", str(tmp_path / "after"))
        assert second.claim_handoff("after", "op", devices((1, "S1"))).tolist() == [""]
    finally:
        second.close()


def test_a_recovered_run_counts_the_manifests_it_claimed_from(url: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "done"
    child = start_child(url, run_dir, "complete")
    child.wait(timeout=60)
    ledger = open_ledger(url)
    try:
        assert ledger.manifest_seen("ab" * 32) is None  # not while the run may still fail
        ledger.begin_run("next", str(tmp_path / "next"))
        record = ledger.manifest_seen("ab" * 32)
        assert record is not None and record.run_id == "dead-run" and record.rows == 2
    finally:
        ledger.close()


def test_a_dead_run_on_a_host_that_cannot_see_its_target_keeps_its_claims(
    url: str, tmp_path: Path
) -> None:
    """Its run folder (the target) is not there on this host: whether it handed off
    cannot be told here, so the claims stay held rather than go twice."""
    elsewhere = tmp_path / "other-host" / "runs" / "dead"  # no such folder on this host
    child = start_child(url, elsewhere, "delivering")
    assert child.wait(timeout=60) == -signal.SIGKILL
    ledger = open_ledger(url)
    try:
        ledger.begin_run("next", str(tmp_path / "next"))
        assert ledger.claim_handoff("next", "op", devices((1, "S1"))).tolist() == [
            "claimed_by_running_run"
        ]
    finally:
        ledger.close()


@pytest.mark.postgres
def test_a_run_taken_for_dead_while_alive_reclaims_what_is_still_free(
    pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL: the run's session (and its advisory lock) is lost, but the process goes on."""
    alive = open_ledger(pg_url)
    alive.begin_run("alive", str(tmp_path / "alive"))
    alive.claim_handoff("alive", "op", devices((1, "S1"), (2, "S2")))
    alive._run_locks["alive"].close()  # the lock's session ends: the run looks dead
    liveness.LIVE_HERE.discard("alive")  # ... to any other process
    other = open_ledger(pg_url)
    try:
        other.begin_run("other", str(tmp_path / "other"))  # settles "alive": folder incomplete
        assert other.claim_handoff("other", "op", devices((2, "S2"))).tolist() == [""]
        alive.finish_run("alive")
        known = other.known_devices(pd.Series([eid(1), eid(2)]), pd.Series(["S1", "S2"]))
        owners = {e: run for e, run in zip(known["eid"], known["operator"], strict=True)}
        assert set(owners) == {eid(1), eid(2)}
        with other.read() as connection:
            states = dict(
                connection.all(
                    "SELECT c.eid, r.run_id FROM claims c JOIN runs r ON r.run_no = c.run_no"
                )
            )
        assert states == {eid(1): "alive", eid(2): "other"}
    finally:
        alive.close()
        other.close()


def test_a_dead_run_that_cannot_be_judged_yet_keeps_its_claims(url: str, tmp_path: Path) -> None:
    """Whether it handed off is unknown (S3 unreachable): its claims are held, not released,
    until a later run can tell."""
    child = start_child(url, tmp_path / "dead", "delivering")
    assert child.wait(timeout=60) == -signal.SIGKILL

    def unreachable(run: DeadRun) -> bool:
        raise DeliveryError(f"Could not look for the receipt of run {run.run_id}.")

    ledger = open_ledger(url, target=unreachable)
    try:
        ledger.begin_run("next", str(tmp_path / "next"))
        # Still the dead run's, not settled: this run's manifest will be read again.
        assert ledger.claim_handoff("next", "op", devices((1, "S1"))).tolist() == [
            "claimed_by_running_run"
        ]
        ledger.finish_run("next")
    finally:
        ledger.close()
    ledger = open_ledger(url, target=lambda run: run.run_id == "dead-run")
    try:
        ledger.begin_run("later", str(tmp_path / "later"))  # S3 answers: it had handed off
        assert ledger.claim_handoff("later", "op", devices((2, "S2"))).tolist() == [
            "already_registered"
        ]
        with ledger.read() as connection:
            state = connection.scalar("SELECT state FROM runs WHERE run_id = 'dead-run'")
        assert state == "recovered"
    finally:
        ledger.close()
