"""What a run could not tell is said: a manifest none of whose rows is usable (stderr,
summary.json, exit 1), and Intune or Entra not checked for want of their files."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import eidflow
from tests.frames import make_eid


def test_a_manifest_of_eids_typed_as_numbers_stands_out(tmp_path: Path) -> None:
    bad = tmp_path / "numbers.csv"
    bad.write_text("Serial Number,EID\n" + "".join(f"S{n},8.90490E+31\n" for n in range(6)))
    good = tmp_path / "good.csv"
    good.write_text(f"Serial Number,EID\nG1,{make_eid(1)}\n")
    done = eidflow(
        "ingest",
        bad,
        good,
        "--ledger",
        f"sqlite:///{tmp_path / 'l.db'}",
        "--out",
        "run",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    [line] = [line for line in done.stderr.splitlines() if "numbers.csv" in line]
    assert "none of its 6 row(s) is usable (6 rejected: 6 eid_precision_lost)" in line
    assert "good.csv" not in done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    flags = {
        Path(item["path"]).name: item.get("nothing_usable", False) for item in summary["inputs"]
    }
    assert flags == {"numbers.csv": True, "good.csv": False}
    assert summary["exit_status"] == 1


SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def test_the_run_line_says_when_intune_or_entra_was_not_checked(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'l.db'}"
    lenovo = SAMPLES / "lenovo-shipment-4401190.csv"
    bare = eidflow("ingest", lenovo, "--ledger", ledger, "--out", "a", cwd=tmp_path)
    assert bare.returncode == 0, bare.stderr
    assert "Intune was not checked (no --inventory)" in bare.stdout
    inventory = SAMPLES / "DevicesWithInventory_2026-11-27.csv"
    dell = SAMPLES / "dell-asn-PO-2026-1187.xlsx"
    half = eidflow(
        "ingest", dell, "--inventory", inventory, "--ledger", ledger, "--out", "b", cwd=tmp_path
    )
    assert "Intune was not checked" not in half.stdout
    assert "Entra was not checked (no --entra-devices)" in half.stdout


def test_a_mistyped_manifest_path_is_a_usage_error_and_makes_no_run_folder(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(f"Serial Number,EID\nG1,{make_eid(1)}\n")
    done = eidflow(
        "ingest",
        good,
        tmp_path / "goood.csv",
        "--ledger",
        f"sqlite:///{tmp_path / 'l.db'}",
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "goood.csv: no such file" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists() and not (tmp_path / "l.db").exists()
