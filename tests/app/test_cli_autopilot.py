"""``eidflow autopilot-csv``: Autopilot import files from a manifest with hardware hashes,
checked against Intune's rules by a checker written from them, every row accounted for."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import openpyxl

from tests.cli import eidflow
from tests.frames import make_eid, make_imei

RULE_HEADER = "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User"


def check_import_file(path: Path) -> list[list[str]]:
    """Intune's rules for a device import file; its data rows."""
    data = path.read_bytes()
    data.decode("cp1252")  # ANSI (each byte a Windows-1252 character)
    assert all(byte < 0x80 for byte in data), "outside ASCII: ANSI code pages differ there"
    assert not data.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    assert b'"' not in data, "no quotes"
    lines = data.decode("ascii").splitlines()
    assert lines[0] == RULE_HEADER
    rows = [line.split(",") for line in lines[1:]]
    assert all(len(row) == 5 for row in rows), "no extra columns"
    assert 1 <= len(rows) <= 500
    for serial, _product, hashed, _tag, _user in rows:
        assert serial and hashed
        base64.b64decode(hashed, validate=True)
    return rows


def hash_for(n: int) -> str:
    return base64.b64encode(f"hardware-hash-of-PC-{n}".encode() * 40).decode()


def manifest(path: Path, count: int, extra: list[list[str]] | None = None) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Serial Number", "EID", "IMEI", "Windows Product ID", "Hardware Hash"])
    for n in range(1, count + 1):
        writer.writerow([f"PF{n:06d}", make_eid(n), make_imei(n), "", hash_for(n)])
    writer.writerows(extra or [])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def decisions(out: Path) -> list[dict[str, str]]:
    with (out / "autopilot-decisions.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_1200_rows_are_three_import_files_that_keep_the_rules(tmp_path: Path) -> None:
    source = manifest(tmp_path / "lenovo-asn.csv", 1200)
    done = eidflow(
        "autopilot-csv", source, "--group-tag", "SCHOOL-ESIM", "--out", "ap", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    files = sorted((tmp_path / "ap").glob("autopilot-devices_*.csv"))
    assert [f.name for f in files] == [f"autopilot-devices_00{n}.csv" for n in (1, 2, 3)]
    rows = [row for path in files for row in check_import_file(path)]
    assert [len(check_import_file(path)) for path in files] == [500, 500, 200]
    assert [row[0] for row in rows] == [f"PF{n:06d}" for n in range(1, 1201)]
    assert {row[3] for row in rows} == {"SCHOOL-ESIM"} and {row[4] for row in rows} == {""}
    assert rows[0][2] == hash_for(1)
    verdicts = decisions(tmp_path / "ap")
    assert len(verdicts) == 1200 and {v["status"] for v in verdicts} == {"included"}
    assert verdicts[700]["file"] == "autopilot-devices_002.csv"
    assert "1200 row(s) read: 1200 written in 3 file(s)" in done.stdout


def test_every_row_is_accounted_for_and_only_good_ones_written(tmp_path: Path) -> None:
    bad = [
        ["PF900001", make_eid(901), "", "", ""],  # no hash
        ["PF900002", make_eid(902), "", "", "not base64!"],
        ["PF,900003", make_eid(903), "", "", hash_for(903)],  # a comma cannot stand unquoted
        ["PFÉ900004", make_eid(904), "", "", hash_for(904)],  # outside ANSI's common part
        ["PF000001", make_eid(1), "", "", hash_for(1)],  # the first device again
        ["PF000002", make_eid(2), "", "", hash_for(999)],  # the second, with another hash
        ["", make_eid(905), "", "", hash_for(905)],
        ["PF900006", make_eid(906), "", "00330-8,0000", hash_for(906)],
    ]
    source = manifest(tmp_path / "dell.csv", 3, bad)
    done = eidflow("autopilot-csv", source, "--out", tmp_path / "ap", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [written] = sorted((tmp_path / "ap").glob("autopilot-devices_*.csv"))
    assert [row[0] for row in check_import_file(written)] == ["PF000001", "PF000003"]
    verdicts = {(v["row"]): (v["status"], v["reason"]) for v in decisions(tmp_path / "ap")}
    assert verdicts == {
        "2": ("included", ""),
        "3": ("conflict", "conflict_hardware_hash"),
        "4": ("included", ""),
        "5": ("rejected", "hardware_hash_missing"),
        "6": ("rejected", "hardware_hash_invalid"),
        "7": ("rejected", "serial_not_plain_text"),
        "8": ("rejected", "serial_not_plain_text"),
        "9": ("duplicate", "duplicate_serial"),
        "10": ("conflict", "conflict_hardware_hash"),
        "11": ("rejected", "serial_missing"),
        "12": ("rejected", "product_id_not_plain_text"),
    }
    assert "11 row(s) read: 2 written in 1 file(s), 6 rejected, 1 duplicate, 2 conflict" in (
        done.stdout
    )


def test_a_workbook_with_hashes_and_product_ids(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Device Serial Number", "EID", "Windows Product ID", "Hardware Hash"])
    sheet.append(["pf000001 ", make_eid(1), "00330-80000-00000-AA538", hash_for(1)])
    book.save(tmp_path / "ship.xlsx")
    done = eidflow("autopilot-csv", tmp_path / "ship.xlsx", "--out", "ap", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [row] = check_import_file(tmp_path / "ap" / "autopilot-devices_001.csv")
    assert row[:3] == ["PF000001", "00330-80000-00000-AA538", hash_for(1)]


def test_a_manifest_without_hashes_lists_its_rows_and_says_so(tmp_path: Path) -> None:
    source = tmp_path / "nohash.csv"
    source.write_text(f"Serial Number,EID\nPF1,{make_eid(1)}\nPF2,{make_eid(2)}\n")
    done = eidflow("autopilot-csv", source, "--out", "ap", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no hardware hash column" in done.stderr and "nohash.csv" in done.stderr
    assert [v["reason"] for v in decisions(tmp_path / "ap")] == ["hardware_hash_missing"] * 2
    assert not list((tmp_path / "ap").glob("autopilot-devices_*.csv"))


def test_user_mistakes_are_one_line_without_a_traceback(tmp_path: Path) -> None:
    source = manifest(tmp_path / "m.csv", 2)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    cases = [
        (["--group-tag", "a,b", "--out", "ap"], "group tag"),
        (["--out", "full"], "not empty"),
    ]
    for args, says in cases:
        done = eidflow("autopilot-csv", source, *args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert says in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    missing = eidflow("autopilot-csv", tmp_path / "gone.csv", "--out", "ap2", cwd=tmp_path)
    assert missing.returncode == 1 and "gone.csv" in missing.stderr
    assert "Traceback" not in missing.stderr
