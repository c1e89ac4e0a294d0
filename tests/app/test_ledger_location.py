"""One ledger, found the same way from anywhere: the README's Quick start, then the same
ingest from another folder, hands nothing off twice; a ledger that has never seen the
output root's runs is refused."""

from __future__ import annotations

import csv
import json
import re
import shlex
import shutil
from pathlib import Path

from tests.cli import eidflow

ROOT = Path(__file__).resolve().parents[2]


def quick_start_arguments() -> list[str]:
    """The arguments of the README's first command (after ``.venv/bin/eidflow``)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"^python3 -m venv .*$", readme, flags=re.MULTILINE)[:1]
    return shlex.split(command.split(".venv/bin/eidflow", 1)[1])


def operator_eids(run_dir: Path) -> list[str]:
    return [
        line.split(",")[0].strip('"')
        for path in sorted((run_dir / "operator").rglob("*.csv"))
        for line in path.read_text(encoding="utf-8").splitlines()[1:]
    ]


def run_folder(stdout: str) -> Path:
    return Path(re.search(r"-> (\S+)", stdout).group(1))  # type: ignore[union-attr]


def test_the_quick_start_then_the_same_ingest_from_another_folder_sends_nothing_twice(
    tmp_path: Path, user_data_folder: Path
) -> None:
    arguments = quick_start_arguments()
    assert arguments[0] == "ingest"
    clone = tmp_path / "clone"  # the samples where a fresh clone has them
    shutil.copytree(ROOT / "data" / "samples", clone / "data" / "samples")
    first = eidflow(*arguments, cwd=clone)
    assert first.returncode == 0, first.stderr
    assert "created a new ledger" in first.stderr
    assert str(user_data_folder / "ledger.db") in first.stdout  # the one-line summary names it
    handed = operator_eids(clone / run_folder(first.stdout))
    assert handed
    elsewhere = tmp_path / "another-folder"
    elsewhere.mkdir()
    absolute = [str(clone / a) if (clone / a).exists() else a for a in arguments]
    again = eidflow(*absolute, "--reprocess", cwd=elsewhere)
    assert again.returncode == 0, again.stderr
    assert "created a new ledger" not in again.stderr
    second_run = elsewhere / run_folder(again.stdout)
    assert operator_eids(second_run) == []
    with (second_run / "decisions.csv").open(encoding="utf-8", newline="") as handle:
        registered = {
            row["eid"] for row in csv.DictReader(handle) if row["reason"] == "already_registered"
        }
    assert registered == set(handed)
    summary = json.loads((second_run / "summary.json").read_text())
    assert summary["ledger"] == f"sqlite:///{user_data_folder / 'ledger.db'}"


LENOVO = ROOT / "data" / "samples" / "lenovo-shipment-4401190.csv"


def test_a_ledger_that_never_saw_the_output_roots_runs_is_refused(tmp_path: Path) -> None:
    first = eidflow("ingest", LENOVO, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    other = tmp_path / "other.db"
    refused = eidflow("ingest", LENOVO, "--ledger", f"sqlite:///{other}", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert "has never seen" in line and "--new-ledger" in line
    assert not other.exists()  # the ledger made for the refused run is not kept
    assert len(list((tmp_path / "runs").iterdir())) == 1  # and no run folder was started

    meant = eidflow(
        "ingest", LENOVO, "--ledger", f"sqlite:///{other}", "--new-ledger", cwd=tmp_path
    )
    assert meant.returncode == 0, meant.stderr
    later = eidflow("ingest", LENOVO, "--ledger", f"sqlite:///{other}", cwd=tmp_path)
    assert later.returncode == 0, later.stderr  # acknowledged once: not asked again
    assert "already processed" in later.stderr


def test_backup_and_restore(tmp_path: Path, user_data_folder: Path) -> None:
    assert eidflow("ingest", LENOVO, cwd=tmp_path).returncode == 0
    backup = tmp_path / "ledger-backup.db"
    done = eidflow("ledger", "backup", backup, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert eidflow("ledger", "backup", backup, cwd=tmp_path).returncode == 2  # never overwritten

    ledger = user_data_folder / "ledger.db"
    ledger.write_bytes(b"")  # the ledger is lost
    lost = eidflow("history", cwd=tmp_path)
    assert lost.returncode == 2 and "empty file (0 bytes)" in lost.stderr
    restored = eidflow("ledger", "restore", backup, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    history = eidflow("history", "--json", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    [run] = json.loads(history.stdout)["runs"]
    assert run["state"] == "complete"
    again = eidflow("ingest", LENOVO, cwd=tmp_path)
    assert again.returncode == 0 and "already processed" in again.stderr


def test_a_damaged_backup_is_not_restored(tmp_path: Path, user_data_folder: Path) -> None:
    assert eidflow("ingest", LENOVO, cwd=tmp_path).returncode == 0
    backup = tmp_path / "b.db"
    assert eidflow("ledger", "backup", backup, cwd=tmp_path).returncode == 0
    data = bytearray(backup.read_bytes())
    data[4096 + 200 :] = b"\xff" * (len(data) - 4096 - 200)
    backup.write_bytes(bytes(data))
    before = (user_data_folder / "ledger.db").read_bytes()
    refused = eidflow("ledger", "restore", backup, cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert "damaged" in refused.stderr or "malformed" in refused.stderr
    assert (user_data_folder / "ledger.db").read_bytes() == before
