"""``eidflow show`` finds the rows eidflow read and did not hand off: rejected, duplicate in
the run, held back as a conflict; by serial, by EID (as normalised or as written), by IMEI.

Real ingests (a subprocess each) into a ledger on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_cli_status import write
from tests.cli import eidflow
from tests.frames import make_eid, make_imei

HEADER = ["Serial Number", "EID", "IMEI", "PO Number"]
TYPO = make_eid(1)[:-2] + ("00" if make_eid(1)[-2:] != "00" else "01")  # wrong check digits
NOT_DIGITS = make_eid(2)[:-1] + "x"
ROWS = [
    ["SN1", TYPO, make_imei(1)],  # row 2: eid_checksum
    ["SN2", NOT_DIGITS, make_imei(2)],  # row 3: eid_not_digits
    ["SN3", "8.9049E+31", make_imei(3)],  # row 4: eid_precision_lost
    ["SN4", make_eid(4), make_imei(4)],  # row 5: handed off
    ["SN4", make_eid(4), make_imei(4)],  # row 6: duplicate_in_run
    ["SN5", make_eid(5), make_imei(5)],  # row 7: conflict_eid (the same EID, another serial)
    ["SN6", make_eid(5), make_imei(6)],  # row 8: conflict_eid
]
ROWS = [[*row, "PO-9"] for row in ROWS]  # descriptive fields: claims and held-back rows share them


def ingest(folder: Path, url: str, manifest: Path, *extra: str) -> None:
    done = eidflow(
        "ingest",
        manifest,
        "--ledger",
        url,
        "--out",
        folder / f"run-{time.time_ns()}",
        *extra,
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr


def show(folder: Path, url: str, key: str) -> dict[str, Any]:
    done = eidflow("show", key, "--ledger", url, "--json", cwd=folder)
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


@pytest.fixture
def shipped(url: str, tmp_path: Path) -> tuple[Path, str]:
    ingest(tmp_path, url, write(tmp_path / "asn-1.csv", HEADER, ROWS))
    return tmp_path, url


# (key, row, reason): a key as a person types it, and the row it finds.
REJECTED = [
    ("sn1", 2, "eid_checksum"),
    (TYPO, 2, "eid_checksum"),  # a mistyped EID that a row holds: that row, not the typo
    (NOT_DIGITS, 3, "eid_not_digits"),  # the EID as written
    (NOT_DIGITS[:-1], 3, "eid_not_digits"),  # the digits it holds
    ("8.9049E+31", 4, "eid_precision_lost"),
    (make_imei(3), 4, "eid_precision_lost"),  # by IMEI
]


def test_a_rejected_row_is_found_with_why_and_what_to_do(shipped: tuple[Path, str]) -> None:
    folder, url = shipped
    for key, row, reason in REJECTED:
        found = show(folder, url, key)
        assert found["devices"] == [], key
        [line] = found["rows"]
        assert (line["row"], line["reason"], line["status"]) == (row, reason, "rejected"), key
        assert Path(line["source_file"]).name == "asn-1.csv" and line["run_state"] == "complete"
        assert line["detail"] and "correct the row" in line["todo"]
    [line] = show(folder, url, "SN2")["rows"]
    assert line["eid_raw"] == NOT_DIGITS and line["eid"] == NOT_DIGITS[:-1]
    assert line["imei"] == make_imei(2) and line["serial_number"] == "SN2"


def test_a_duplicate_row_beside_the_hand_off_it_repeats(shipped: tuple[Path, str]) -> None:
    folder, url = shipped
    found = show(folder, url, make_eid(4))
    assert [story["device"]["serial_number"] for story in found["devices"]] == ["SN4"]
    [line] = found["rows"]
    assert (line["row"], line["reason"]) == (6, "duplicate_in_run")


def test_held_back_conflicts_by_eid_and_by_each_serial(shipped: tuple[Path, str]) -> None:
    folder, url = shipped
    both = show(folder, url, make_eid(5))
    assert both["devices"] == []
    assert sorted(line["serial_number"] for line in both["rows"]) == ["SN5", "SN6"]
    assert {line["status"] for line in both["rows"]} == {"conflict"}
    [line] = show(folder, url, "sn6")["rows"]
    assert line["reason"] == "conflict_eid" and "--reprocess" in line["todo"]
    table = eidflow("show", "SN6", "--ledger", url, cwd=folder)
    assert table.returncode == 0, table.stderr
    assert "Not handed off: conflict (conflict_eid)" in table.stdout
    assert "asn-1.csv row 8" in table.stdout and "held back" in table.stdout


def test_a_rejected_row_and_its_later_hand_off_newest_first(shipped: tuple[Path, str]) -> None:
    folder, url = shipped
    time.sleep(1.1)  # runs a second apart: the order is by their start
    ingest(
        folder, url, write(folder / "asn-1-fixed.csv", HEADER, [["SN1", make_eid(1), "", "PO-9"]])
    )
    found = show(folder, url, "SN1")
    assert [story["device"]["eid"] for story in found["devices"]] == [make_eid(1)]
    assert [line["reason"] for line in found["rows"]] == ["eid_checksum"]
    table = eidflow("show", "SN1", "--ledger", url, cwd=folder).stdout
    assert 0 <= table.index(f"EID {make_eid(1)}") < table.index("Not handed off: rejected")
    # pending: SN1 waits no more (handed off since), nor the duplicate of SN4 (its first row was)
    done = eidflow("pending", "--ledger", url, "--json", cwd=folder)
    steps = {step["step"]: step["pcs"] for step in json.loads(done.stdout)["steps"]}
    assert [pc["serial_number"] for pc in steps["held back: rejected"]] == ["SN2", "SN3"]
    assert "held back: duplicate in the run" not in steps
    assert [pc["serial_number"] for pc in steps["held back: conflict"]] == ["SN5", "SN6"]


def test_a_file_read_again_keeps_its_rows_once_and_names_the_later_run(
    shipped: tuple[Path, str],
) -> None:
    folder, url = shipped
    first = show(folder, url, "SN5")["rows"][0]["run_id"]
    ingest(folder, url, folder / "asn-1.csv", "--reprocess")
    [line] = show(folder, url, "SN5")["rows"]
    assert line["first_run_id"] == first and line["run_id"] != first
    assert len(show(folder, url, make_eid(5))["rows"]) == 2
    table = eidflow("show", "SN5", "--ledger", url, cwd=folder).stdout
    assert f"(first read by {first})" in table


def test_a_key_nothing_matches_still_explains_a_typo(shipped: tuple[Path, str]) -> None:
    folder, url = shipped
    other = make_eid(9)[:-2] + ("00" if make_eid(9)[-2:] != "00" else "01")
    done = eidflow("show", other, "--ledger", url, cwd=folder)
    assert done.returncode == 2 and "check digits" in done.stderr
    done = eidflow("show", "SN99", "--ledger", url, cwd=folder)
    assert done.returncode == 1 and "not in the ledger" in done.stderr
