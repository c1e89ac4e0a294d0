"""End to end: ``eidflow ingest`` on the bundled samples, as a user runs it (a real subprocess)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from eidflow import schema
from tests.cli import eidflow, user_env

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
DELL = SAMPLES / "dell-asn-PO-2026-1187.xlsx"
LENOVO = SAMPLES / "lenovo-shipment-4401190.csv"
INVENTORY = SAMPLES / "DevicesWithInventory_2026-11-27.csv"
ENTRA = SAMPLES / "exportDevice_2026-11-27.csv"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def sample_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    work = tmp_path_factory.mktemp("work")
    done = eidflow(
        "ingest",
        DELL,
        LENOVO,
        "--inventory",
        INVENTORY,
        "--entra-devices",
        ENTRA,
        "--config",
        SAMPLES / "eidflow.toml",
        "--out",
        work / "run1",
        "--ledger",
        f"sqlite:///{work / 'ledger.db'}",  # the module's tests share it
        cwd=work,
    )
    return done, work


def test_sample_run_succeeds_and_says_what_it_did(
    sample_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, _ = sample_run
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "20 rows" in done.stdout


def test_every_input_row_is_in_decisions_once_in_input_order(
    sample_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, work = sample_run
    decisions = read_csv(work / "run1" / "decisions.csv")
    assert list(decisions[0]) == list(schema.DECISION_COLUMNS)
    where = [(d["source_file"], d["sheet"], d["row"]) for d in decisions]
    expected = [(str(DELL), "Shipment", str(n)) for n in range(2, 12)]
    expected += [(str(LENOVO), "", str(n)) for n in range(2, 12)]
    assert where == expected


def test_sample_outcomes(sample_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, work = sample_run
    by_serial = {
        d["serial_number"] or f"row{d['row']}": d for d in read_csv(work / "run1" / "decisions.csv")
    }
    expect = {
        "8RL3MA4": ("accepted", "", "enrolled"),
        "9SM4NB5": ("accepted", "", "os_unsupported"),
        "1TN5PC6": ("accepted", "", "imei_mismatch"),
        "2UP6QD7": ("rejected", "eid_checksum", ""),
        "7ZU2VJ3": ("rejected", "eid_precision_lost", ""),
        "PF4A1B2F": ("rejected", "eid_precision_lost", ""),
        "row6": ("rejected", "serial_missing", ""),
        "PF4A1B2H": ("rejected", "eid_missing", ""),
        "7QK2LZ3": ("conflict", "conflict_eid", ""),
        "PF4A1B2K": ("conflict", "conflict_eid", ""),
        "5XS9TG1": ("accepted", "", "enrolled"),
        "PF4A1B2D": ("accepted", "", "not_enrolled"),
        "PF4A1B2E": ("accepted", "", "not_enrolled"),
    }
    got = {
        serial: (
            by_serial[serial]["status"],
            by_serial[serial]["reason"],
            by_serial[serial]["intune_state"],
        )
        for serial in expect
    }
    assert got == expect
    assert by_serial["4WR8SF9"]["warnings"] == "imei_leading_zero_lost"


def test_summary_is_complete_and_counts_add_up(
    sample_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, work = sample_run
    summary = json.loads((work / "run1" / "summary.json").read_text())
    assert summary["counts"]["rows"] == 20 == sum(summary["counts"]["by_status"].values())
    assert [i["rows"] for i in summary["inputs"] if i["kind"] == "manifest"] == [10, 10]
    assert all(len(i["sha256"]) == 64 for i in summary["inputs"])
    for output in summary["outputs"]:
        assert (work / "run1" / output["path"]).is_file(), output


def test_operator_file_holds_exactly_the_accepted_eids(
    sample_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, work = sample_run
    decisions = read_csv(work / "run1" / "decisions.csv")
    accepted = sorted(d["eid"] for d in decisions if d["status"] == "accepted")
    files = sorted((work / "run1" / "operator").rglob("*.csv"))
    handed = sorted(row["EID"] for path in files for row in read_csv(path))
    assert handed == accepted and len(accepted) == 12
    assert list(read_csv(files[0])[0]) == [
        "EID",
        "IMEI",
        "Serial Number",
        "Manufacturer",
        "Model",
        "PO Number",
    ]


def test_entra_lists_hold_enrolled_devices_with_object_ids(
    sample_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, work = sample_run
    decisions = read_csv(work / "run1" / "decisions.csv")
    members = sorted(
        d["entra_object_id"]
        for d in decisions
        if d["intune_state"] == "enrolled" and d["entra_object_id"]
    )
    assert len(members) == 3
    texts = [p.read_text(encoding="utf-8-sig") for p in (work / "run1" / "entra").glob("*.csv")]
    assert texts and all(all(m in text for m in members) for text in texts)
    assert any(text.startswith("version:v1.0") for text in texts)


def test_report_has_summary_first_and_text_eids(
    sample_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, work = sample_run
    book = load_workbook(work / "run1" / "report.xlsx")
    assert book.sheetnames[0].lower() == "summary"
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                if isinstance(cell.value, str) and len(cell.value) == 32 and cell.value.isdigit():
                    assert cell.data_type == "s"


def test_rerun_on_the_same_bytes_is_recognised(
    sample_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, work = sample_run
    again = eidflow(
        "ingest",
        DELL,
        LENOVO,
        "--config",
        SAMPLES / "eidflow.toml",
        "--out",
        work / "run2",
        "--ledger",
        f"sqlite:///{work / 'ledger.db'}",
        cwd=work,
    )
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("already processed") == 2
    assert not (work / "run2").exists()  # nothing to do: no empty run folder


def test_unreadable_manifest_exits_1_and_the_others_go_on(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a workbook")
    done = eidflow("ingest", broken, LENOVO, "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 1
    assert "broken.xlsx" in done.stderr and "Traceback" not in done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["unreadable"] == [str(broken)]
    assert summary["counts"]["rows"] == 10


def test_unreadable_inventory_stops_the_run_before_anything_is_claimed(tmp_path: Path) -> None:
    (tmp_path / "devices.csv").write_text("Name,Owner\nPC1,alice\n")
    done = eidflow(
        "ingest", LENOVO, "--inventory", "devices.csv", "--out", tmp_path / "run", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "devices.csv" in done.stderr and "Serial number" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()
    again = eidflow("ingest", LENOVO, "--out", tmp_path / "run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr  # nothing was recorded: the manifest is new


@pytest.mark.parametrize(
    "args",
    [
        ("ingest",),
        ("ingest", "x.csv", "--no-such-flag"),
        ("ingest", "x.csv", "--config", "missing.toml"),
    ],
)
def test_usage_errors_exit_2_without_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = eidflow(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_several_manifests_whose_rows_all_end_alike(tmp_path: Path) -> None:
    # Two clean shipments: every column of the report is built from several manifests.
    (tmp_path / "one.csv").write_text("Serial Number,EID\nA1,89049032123451234512345678901235\n")
    (tmp_path / "two.csv").write_text("Serial Number,EID\nB1,89049032123451234500082934895135\n")
    done = eidflow("ingest", "one.csv", "two.csv", "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["counts"]["by_status"] == {"accepted": 2}
    book = load_workbook(tmp_path / "run" / "report.xlsx")
    lines = [" ".join(map(str, row)) for row in book["accepted"].iter_rows(values_only=True)]
    assert len(lines) == 3 and "A1" in lines[1] and "B1" in lines[2]


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (("--out", "taken.csv"), "the run folder is a file"),
        (("--out", "taken.csv/run"), "cannot create the run folder"),
        (("--oem-profile", "nope"), "no parser profile of that name"),
        (("--ledger", "sqlite:///no/such/folder/ledger.db"), "ledger"),
    ],
)
def test_a_bad_run_setting_exits_2_and_leaves_no_run_folder(
    tmp_path: Path, extra: tuple[str, ...], says: str
) -> None:
    (tmp_path / "taken.csv").write_text("not a folder")
    done = eidflow("ingest", LENOVO, *extra, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists() and not (tmp_path / "no").exists()
    assert (tmp_path / "taken.csv").read_text() == "not a folder"


DISK_FILLS_UP = """
import errno, os, sys
from exporters import files
from app import cli

real = files.atomic_path

def full(final):  # the disk fills up as the report is written
    if final.name == "report.xlsx":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(final))
    return real(final)

files.atomic_path = full
cli.main(sys.argv[1:])
"""


def test_a_full_disk_stops_the_run_with_one_line_and_a_rerun_hands_off(tmp_path: Path) -> None:
    env = user_env()
    done = subprocess.run(
        [sys.executable, "-c", DISK_FILLS_UP, "ingest", str(LENOVO), "--out", "run1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "report.xlsx: No space left on device" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run1" / "summary.json").exists()
    again = eidflow("ingest", LENOVO, "--out", "run2", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    summary = json.loads((tmp_path / "run2" / "summary.json").read_text())
    assert summary["counts"]["by_status"].get("accepted", 0) > 0  # the claims were released


def test_ctrl_c_stops_the_run_with_one_line(tmp_path: Path) -> None:
    manifest = tmp_path / "big.csv"
    with manifest.open("w", encoding="utf-8") as handle:
        handle.write("Serial Number,EID\n")
        handle.writelines(f"SN{n},8904903212345123450000000{n:07d}\n" for n in range(300_000))
    env = user_env()
    process = subprocess.Popen(
        [sys.executable, "-m", "eidflow", "ingest", str(manifest), "--out", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not (tmp_path / "run").exists() and process.poll() is None:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err


def test_an_unreachable_prefect_server_is_a_usage_error(tmp_path: Path) -> None:
    env = user_env()
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"  # the discard port: nothing listens
    command = [sys.executable, "-m", "eidflow", "ingest", str(LENOVO), "--out", "run"]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "the Prefect server does not answer" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "run").exists()


def test_reprocess_judges_rows_held_back_by_a_conflict_again(tmp_path: Path) -> None:
    from tests.ledger.helpers import eid

    (tmp_path / "dell.csv").write_text(f"Serial Number,EID\nA,{eid(1)}\nC,{eid(3)}\n")
    (tmp_path / "lenovo.csv").write_text(f"Serial Number,EID\nA,{eid(2)}\n")  # serial A again
    first = eidflow("ingest", "dell.csv", "lenovo.csv", "--out", "run1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    statuses = [line["status"] for line in read_csv(tmp_path / "run1" / "decisions.csv")]
    assert statuses == ["conflict", "accepted", "conflict"]

    (tmp_path / "lenovo-fixed.csv").write_text(f"Serial Number,EID\nB,{eid(2)}\n")
    skipped = eidflow("ingest", "dell.csv", "lenovo-fixed.csv", "--out", "run2", cwd=tmp_path)
    assert "already processed" in skipped.stderr and "--reprocess" in skipped.stderr
    # The held-back row of dell.csv is not judged: lenovo-fixed.csv's row alone is.
    assert [line["serial_number"] for line in read_csv(tmp_path / "run2" / "decisions.csv")] == [
        "B"
    ]

    again = eidflow("ingest", "dell.csv", "--reprocess", "--out", "run3", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    lines = read_csv(tmp_path / "run3" / "decisions.csv")
    assert [(line["serial_number"], line["status"], line["reason"]) for line in lines] == [
        ("A", "accepted", ""),
        ("C", "duplicate", "already_registered"),
    ]
    first_run = json.loads((tmp_path / "run1" / "summary.json").read_text())["run_id"]
    said = lines[1]["detail"]
    assert f"by run {first_run} on " in said and "(serial C)" in said and "resend" in said


def test_a_device_routed_to_another_operator_later_is_warned(tmp_path: Path) -> None:
    from tests.ledger.helpers import eid

    (tmp_path / "eidflow.toml").write_text(
        '[[operators]]\nname = "northwind"\nmatch.po_numbers = ["PO-77*"]\n\n'
        '[[operators]]\nname = "contoso-mobile"\n'
    )
    (tmp_path / "a.csv").write_text(f"Serial Number,EID,PO Number\nO1,{eid(1)},PO-7701\n")
    (tmp_path / "b.csv").write_text(f"Serial Number,EID,PO Number\nO1,{eid(1)},PO-9901\n")
    assert eidflow("ingest", "a.csv", "--out", "run1", cwd=tmp_path).returncode == 0
    done = eidflow("ingest", "b.csv", "--out", "run2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [line] = read_csv(tmp_path / "run2" / "decisions.csv")
    assert (line["status"], line["warnings"]) == ("accepted", "handed_to_other_operator")
    assert [path.name for path in (tmp_path / "run2" / "operator").iterdir()] == ["contoso-mobile"]


def test_rows_of_a_hidden_sheet_are_warned(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from tests.ledger.helpers import eid

    book = Workbook()
    book.active.title = "ASN"
    book.active.append(["Serial Number", "EID"])
    book.active.append(["A1", eid(1)])
    old = book.create_sheet("Old ASN")
    old.sheet_state = "hidden"
    old.append(["Serial Number", "EID"])
    old.append(["B1", eid(2)])
    old.append(["B2", "not an eid"])
    book.save(tmp_path / "asn.xlsx")
    done = eidflow("ingest", "asn.xlsx", "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = read_csv(tmp_path / "run" / "decisions.csv")
    assert [(line["sheet"], line["status"], line["warnings"]) for line in lines] == [
        ("ASN", "accepted", ""),
        ("Old ASN", "accepted", "sheet_hidden"),
        ("Old ASN", "rejected", ""),
    ]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["inputs"][0]["hidden_sheets"] == ["Old ASN"]
    [said] = [line for line in done.stderr.splitlines() if "hidden" in line]
    assert "asn.xlsx" in said and "'Old ASN'" in said and "sheet_hidden" in said


def test_entra_object_ids_are_compacted_and_a_non_guid_is_unresolved(tmp_path: Path) -> None:
    from tests.ledger.helpers import eid

    aad = "a1f0c9d2-7e3b-4c8a-b5d6-00000000000{}".format
    obj = "5e2b8f10-93c4-4d7e-a2f1-00000000000{}".format
    (tmp_path / "asn.csv").write_text(
        "EID,Serial Number\n" + "".join(f"{eid(n)},GS{n}\n" for n in range(1, 5))
    )
    (tmp_path / "inv.csv").write_text(
        "Serial number,Azure AD Device ID,OS version\n"
        + "".join(f"GS{n},{aad(n)},10.0.26100.1\n" for n in range(1, 4))
        + f"GS4,{{{aad(4).upper()}}},10.0.26100.1\n"
    )
    (tmp_path / "ent.csv").write_text(
        "displayName,deviceId,objectId\n"
        f"PC1,{aad(1)},{{{obj(1)}}}\n"
        f'PC2,{aad(2)}," {obj(2)} "\n'
        f"PC3,{aad(3)},not-a-guid\n"
        f"PC4,{aad(4)},{obj(4).upper()}\n"
    )
    args = ("--inventory", "inv.csv", "--entra-devices", "ent.csv", "--out", "run")
    done = eidflow("ingest", "asn.csv", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = read_csv(tmp_path / "run" / "decisions.csv")
    assert [(line["entra_object_id"], line["warnings"]) for line in lines] == [
        (obj(1), ""),
        (obj(2), ""),
        ("", "entra_unresolved"),
        (obj(4), ""),
    ]
    listed = (tmp_path / "run" / "entra" / "group-members.csv").read_text().splitlines()[1:]
    assert listed == [obj(1), obj(2), obj(4)]
    batch = json.loads((tmp_path / "run" / "entra" / "graph-batch-001.json").read_text())
    bound = [url for r in batch["requests"] for url in r["body"]["members@odata.bind"]]
    assert [url.rsplit("/", 1)[1] for url in bound] == listed


CTRL_C_WHILE_IMPORTING = """
import builtins
from eidflow import __main__ as entry

real = builtins.__import__

def interrupted(name, *args, **kwargs):
    if name == "app.cli":  # Ctrl-C lands while the command line is being imported
        raise KeyboardInterrupt
    return real(name, *args, **kwargs)

builtins.__import__ = interrupted
entry.run()
"""


def test_ctrl_c_while_starting_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_WHILE_IMPORTING],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 130
    assert done.stderr.strip() == "eidflow: interrupted while starting: nothing was done."


def test_without_a_named_operator_the_files_are_unnamed_and_it_is_said(tmp_path: Path) -> None:
    from tests.ledger.helpers import eid

    (tmp_path / "dell.csv").write_text(f"Serial Number,EID\nA,{eid(1)}\n")
    done = eidflow("ingest", "dell.csv", "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [path] = (tmp_path / "run" / "operator").rglob("*.csv")
    relative = path.relative_to(tmp_path / "run").as_posix()
    assert relative.startswith("operator/unnamed/unnamed_eids_")  # not operator/operator/operator_
    [notice] = [line for line in done.stderr.splitlines() if "names no operator" in line]
    assert "'unnamed' (operator/unnamed/)" in notice and '[[operators]] name = "…"' in notice


def test_a_manufacturer_the_manifest_left_out_comes_from_intune(
    sample_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """The Lenovo file has a Model column, no manufacturer; Intune knows PF4A1B2C's."""
    _, work = sample_run
    by_serial = {d["serial_number"]: d for d in read_csv(work / "run1" / "decisions.csv")}
    assert "model_from_intune" in by_serial["PF4A1B2C"]["warnings"].split(";")
    assert "model_from_intune" not in by_serial["PF4A1B2D"]["warnings"]  # not in Intune
    lines = [row for path in (work / "run1" / "operator").rglob("*.csv") for row in read_csv(path)]
    [line] = [row for row in lines if row["Serial Number"] == "PF4A1B2C"]
    assert (line["Manufacturer"], line["Model"]) == ("LENOVO", "ThinkPad T14s Gen 6")
    accepted = load_workbook(work / "run1" / "report.xlsx")["accepted"]
    header, *rows = [[cell.value for cell in row] for row in accepted.iter_rows()]
    [row] = [dict(zip(header, r, strict=True)) for r in rows if "PF4A1B2C" in r]
    assert (row["manufacturer"], row["model"], row["po_number"]) == (
        "LENOVO",
        "ThinkPad T14s Gen 6",
        "PO-2026-1190",
    )
