"""End to end: every valid EID reaches the operator exactly once, whatever is killed or raced.

Real ``eidflow ingest`` processes: some killed with SIGKILL at random moments and
rerun, some started together on overlapping manifests. The truth is read back from
the run folders only: a folder with ``summary.json`` is a complete run, and the EIDs
in its ``operator/`` files are what the operator received.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.cli import user_env
from tests.ledger.helpers import eid

KILLS = 20
WINDOW, STEP = 300, 150  # manifest i holds EIDs i*STEP .. i*STEP+WINDOW-1: neighbours overlap


def write_manifest(path: Path, numbers: range) -> None:
    """Valid EIDs with serials, plus one row with a wrong check digit."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["EID", "Serial Number", "IMEI", "Manufacturer", "Model", "PO Number"])
        for number in numbers:
            writer.writerow([eid(number), f"SN{number:07d}", "", "Contoso", "Laptop 7", "PO-1"])
        bad = eid(numbers.start)
        writer.writerow([bad[:-1] + str((int(bad[-1]) + 1) % 10), "SN-BAD", "", "", "", ""])


def ingest(work: Path, ledger: str, out: Path, *manifests: Path) -> subprocess.Popen[str]:
    env = user_env()
    command = [sys.executable, "-m", "eidflow", "ingest", *map(str, manifests)]
    command += ["--ledger", ledger, "--out", str(out)]
    return subprocess.Popen(
        command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str]) -> None:
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err


def wait_for_folder(process: subprocess.Popen[str], out: Path) -> None:
    """Until the run has created its folder (imports and argument checks are done)."""
    while not out.exists() and process.poll() is None:
        time.sleep(0.005)


def complete_runs(work: Path) -> list[Path]:
    return sorted(folder for folder in work.iterdir() if (folder / "summary.json").is_file())


def handed_off(run_dir: Path) -> list[str]:
    """EIDs in a run's operator files (default profile: CSV, first column EID)."""
    eids: list[str] = []
    for path in sorted((run_dir / "operator").rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            eids += [line["EID"] for line in csv.DictReader(handle)]
    return eids


def decisions(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "decisions.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def assert_exactly_once(work: Path, expected: set[str]) -> None:
    counts = Counter(e for run_dir in complete_runs(work) for e in handed_off(run_dir))
    twice = sorted(e for e, n in counts.items() if n > 1)
    assert twice == [], f"handed off more than once: {twice[:5]}"
    assert set(counts) == expected, f"never handed off: {sorted(expected - set(counts))[:5]}"


@pytest.mark.slow
def test_killed_ingests_and_reruns_hand_off_each_eid_once(tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    chance = random.Random(seed)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    manifests = []
    for number in range(KILLS + 1):
        path = tmp_path / f"manifest-{number:02d}.csv"
        write_manifest(path, range(number * STEP, number * STEP + WINDOW))
        manifests.append(path)

    # A first, complete run measures how long a run goes on once its folder exists.
    first = ingest(tmp_path, ledger, tmp_path / "run-00", manifests[0])
    wait_for_folder(first, tmp_path / "run-00")
    started = time.monotonic()
    finish(first)
    span = time.monotonic() - started

    incomplete = 0
    for number in range(1, KILLS + 1):
        # Each run reruns the previous manifest (killed or not) and adds the next one.
        out = tmp_path / f"run-{number:02d}"
        process = ingest(tmp_path, ledger, out, manifests[number - 1], manifests[number])
        wait_for_folder(process, out)
        time.sleep(chance.uniform(0, span))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        incomplete += not (out / "summary.json").exists()

    finish(ingest(tmp_path, ledger, tmp_path / "run-final", *manifests))
    expected = {eid(n) for n in range(KILLS * STEP + WINDOW)}
    assert incomplete > 0, f"seed {seed}: no kill landed before a run was complete"
    assert_exactly_once(tmp_path, expected)


@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"]
)
def test_concurrent_ingests_on_overlapping_manifests(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url" if backend == "postgres" else "sqlite_url")
    manifests = []
    for number in range(4):
        path = tmp_path / f"shipment-{number}.csv"
        write_manifest(path, range(number * 500, number * 500 + 1500))
        manifests.append(path)
    outs = [tmp_path / f"run-{number}" for number in range(4)]
    processes = [
        ingest(tmp_path, url, out, path) for out, path in zip(outs, manifests, strict=True)
    ]
    for process in processes:
        finish(process)

    assert_exactly_once(tmp_path, {eid(n) for n in range(3000)})
    accepted_by_run = {}
    for out in outs:
        rows = decisions(out)
        assert len(rows) == 1501  # every row of the manifest, none lost
        accepted = {row["eid"] for row in rows if row["status"] == "accepted"}
        assert accepted == set(handed_off(out))  # decisions.csv is true for this run
        accepted_by_run[out] = (accepted, rows)
    for out, (_, rows) in accepted_by_run.items():
        elsewhere = set().union(*(a for o, (a, _) in accepted_by_run.items() if o != out))
        registered = {row["eid"] for row in rows if row["reason"] == "already_registered"}
        assert registered <= elsewhere


DIES_BEFORE_ITS_SUMMARY = """
import os, signal, sys
from app import cli, pipeline

def killed(run_dir, summary):  # files written, receipt written; summary.json never is
    os.kill(os.getpid(), signal.SIGKILL)

pipeline.write_summary = killed
cli.main(sys.argv[1:])
"""


@pytest.mark.parametrize("out", ["run-a", "runs-default"])
def test_a_run_killed_before_its_summary_is_void_whatever_its_folder_path(
    tmp_path: Path, out: str
) -> None:
    """Delivered in place (no S3, no outbox), a folder without summary.json is void: the
    next run hands its EIDs off. Run folders given as relative paths, or by default."""
    manifest = tmp_path / "m.csv"
    write_manifest(manifest, range(20))
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    where = ["--out", out] if out == "run-a" else []
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            DIES_BEFORE_ITS_SUMMARY,
            "ingest",
            "m.csv",
            "--ledger",
            ledger,
            *where,
        ],
        cwd=tmp_path,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    dead = tmp_path / out if out == "run-a" else next((tmp_path / "runs").iterdir())
    assert (dead / "receipt.json").is_file() and not (dead / "summary.json").exists()
    assert len(handed_off(dead)) == 20

    finish(ingest(tmp_path, ledger, tmp_path / "run-b", manifest))
    assert sorted(handed_off(tmp_path / "run-b")) == sorted(eid(n) for n in range(20))


STOPS_AFTER_ITS_CLAIM = """
import os, signal, sys
from app import cli
from eidflow.ledger.sql import SqlLedger

start_delivery = SqlLedger.start_delivery

def stopped(ledger, *args):  # claimed, nothing delivered yet: as a slow run, or one about to die
    ledger._await_claim()  # the claims written in the background have committed
    os.kill(os.getpid(), signal.SIGSTOP)
    return start_delivery(ledger, *args)

SqlLedger.start_delivery = stopped
cli.main(sys.argv[1:])
"""


def test_rows_another_run_still_holds_are_handed_off_once_it_dies(tmp_path: Path) -> None:
    """Run A claims and stalls; run B reads the same manifest: its rows are A's for now
    (``claimed_by_running_run``), and B does not mark the manifest processed. A dies:
    run C reads the manifest again and hands the EIDs off."""
    manifest = tmp_path / "m.csv"
    write_manifest(manifest, range(30))
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = user_env()
    command = [sys.executable, "-c", STOPS_AFTER_ITS_CLAIM, "ingest", "m.csv"]
    first = subprocess.Popen(
        [*command, "--ledger", ledger, "--out", "run-a"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status = os.waitpid(first.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), "run A should stop after its claim"
    try:
        second = ingest(tmp_path, ledger, tmp_path / "run-b", manifest)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        assert "claimed_by_running_run" in err
        reasons = {line["reason"] for line in decisions(tmp_path / "run-b")}
        assert reasons == {"claimed_by_running_run", "eid_checksum"}
    finally:
        first.kill()
        first.wait(timeout=30)

    finish(ingest(tmp_path, ledger, tmp_path / "run-c", manifest))  # not "already processed"
    assert_exactly_once(tmp_path, {eid(n) for n in range(30)})
