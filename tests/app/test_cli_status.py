"""``eidflow status`` on an emulated tenant of 1,000 PCs with a known spread over the steps.

The tenant is made the way an admin's week makes it: ``eidflow ingest`` of the manifest with
an Intune and an Entra export, ``eidflow operator-response`` with the operator's answers, and
the group's members recorded (as ``groups sync`` or ``mark-imported`` records them).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl.chart import BarChart

from eidflow.ledger import funnel, open_ledger
from tests.cli import eidflow
from tests.frames import make_eid, make_imei

GROUP = "3f1c7a52-8d4e-4b2a-9c61-0e5d7b8a4f20"
PCS = range(1, 1001)


def guid(kind: int, n: int) -> str:
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """PCs 1-50 refused in the manifest (bad EIDs); 51-800 enrolled (781-800 without an Entra
    device), 801-830 on Windows 10, 831-840 with another IMEI in Intune, 841-1000 not enrolled;
    the operator accepted 51-900 and rejected 901-950; 51-700 are in the group."""
    folder = tmp_path_factory.mktemp("tenant")
    ledger = f"sqlite:///{folder / 'ledger.db'}"
    manifest = write(
        folder / "hp-asn-7781.csv",
        ["Serial Number", "EID", "IMEI", "PO Number"],
        [
            [
                f"SN{n:05d}",
                make_eid(n)[:-1] + "x" if n <= 50 else make_eid(n),
                make_imei(n),
                "PO-77",
            ]
            for n in PCS
        ],
    )
    inventory = write(
        folder / "DevicesWithInventory.csv",
        ["Device ID", "Device name", "Azure AD Device ID", "OS version", "Serial number", "IMEI"],
        [
            [
                guid(1, n),
                f"PC{n}",
                guid(2, n),
                "10.0.19045.1" if 801 <= n <= 830 else "10.0.26100.2314",
                f"SN{n:05d}",
                make_imei(n + 5000) if 831 <= n <= 840 else make_imei(n),
            ]
            for n in range(51, 841)
        ],
    )
    entra = write(
        folder / "exportDevice.csv",
        ["displayName", "deviceId", "objectId"],
        [[f"PC{n}", guid(2, n), guid(3, n)] for n in range(51, 841) if not 781 <= n <= 800],
    )
    config = folder / "eidflow.toml"
    config.write_text(
        f'[ledger]\nurl = "{ledger}"\n[entra]\ngroup_id = "{GROUP}"\n'
        '[[operators]]\nname = "contoso-mobile"\n'
    )
    done = eidflow(
        "ingest",
        manifest,
        "--inventory",
        inventory,
        "--entra-devices",
        entra,
        "--config",
        config,
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr
    answers = write(
        folder / "answers.csv",
        ["EID", "Status", "Reason"],
        [
            [make_eid(n), "Accepted" if n <= 900 else "Rejected", "" if n <= 900 else "Unknown EID"]
            for n in range(51, 951)
        ],
    )
    done = eidflow(
        "operator-response",
        answers,
        "--operator",
        "contoso-mobile",
        "--config",
        config,
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr
    recorded = open_ledger(ledger)
    try:
        import pandas as pd

        members = pd.DataFrame(
            {
                "eid": [make_eid(n) for n in range(51, 701)],
                "entra_object_id": [guid(3, n) for n in range(51, 701)],
            }
        )
        recorded.record_memberships("groups-sync-1", GROUP, members)
    finally:
        recorded.close()
    return folder, str(config)


def test_the_funnel_counts_each_step_and_names_every_waiting_pc(tenant: tuple[Path, str]) -> None:
    folder, config = tenant
    done = eidflow("status", "--config", config, "--json", cwd=folder)
    assert done.returncode == 0, done.stderr
    [shipment] = json.loads(done.stdout)["shipments"]
    assert Path(shipment["manifest"]).name == "hp-asn-7781.csv"
    assert shipment["po_numbers"] == ["PO-77"] and shipment["rows_read"] == 1000
    assert shipment["steps"] == {
        "handed off": 950,
        "accepted by the operator": 850,
        "enrolled": 750,
        "in the group": 650,
        "profile applied": 0,  # no eidflow intune status read yet
        "EID confirmed": 0,
    }
    assert shipment["waiting"] == {
        "in the group: waits for the profile": 650,
        "not enrolled yet": 110,
        "not in the group": 80,
        "rejected by the operator": 50,
        "Windows below 22H2": 30,
        "no Entra object id": 20,
        "IMEI differs from Intune's": 10,
    }
    stuck = {pc["serial_number"]: pc for pc in shipment["stuck"]}
    assert len(stuck) == 300  # every PC not done, each named once
    assert stuck["SN00901"]["action"] == "rejected by the operator"
    assert "Unknown EID" in stuck["SN00901"]["todo"] and "resend" in stuck["SN00901"]["todo"]
    assert stuck["SN00701"]["todo"] == "run eidflow groups sync --apply"
    assert stuck["SN00790"]["action"] == "no Entra object id"
    assert "SN00051" not in stuck


def test_filters_and_the_csv_of_waiting_pcs(tenant: tuple[Path, str]) -> None:
    folder, config = tenant
    by_po = json.loads(
        eidflow("status", "--config", config, "--po", "PO-77", "--json", cwd=folder).stdout
    )
    assert by_po["shipments"][0]["steps"]["handed off"] == 950
    other = json.loads(
        eidflow("status", "--config", config, "--po", "PO-1", "--json", cwd=folder).stdout
    )
    assert other["shipments"] == []
    later = eidflow("status", "--config", config, "--since", "2999-01-01", "--json", cwd=folder)
    assert json.loads(later.stdout)["shipments"] == []
    table = eidflow("status", "--config", config, "--csv", cwd=folder)
    lines = list(csv.DictReader(io.StringIO(table.stdout)))
    assert len(lines) == 300 and {line["action"] for line in lines} >= {"not enrolled yet"}
    people = eidflow("status", "--config", config, cwd=folder)
    assert "profile applied" in people.stdout and "groups sync --apply" in people.stdout


def test_a_date_that_is_none_is_one_line(tenant: tuple[Path, str]) -> None:
    folder, config = tenant
    done = eidflow("status", "--config", config, "--since", "last week", cwd=folder)
    assert done.returncode == 2 and "--since" in done.stderr and "Traceback" not in done.stderr


def funnel_chart(path: Path) -> tuple[list[str], list[float | None], Any]:
    """The Funnel sheet's bar chart: its categories, its values (from the cached points,
    checked against the cells it points at), and the sheet."""
    import openpyxl

    sheet = openpyxl.load_workbook(path)["Funnel"]
    [chart] = sheet._charts
    assert isinstance(chart, BarChart) and chart.type == "bar"  # horizontal bars
    [series] = chart.series
    labels = [point.v for point in series.cat.strRef.strCache.pt]
    cached = {point.idx: point.v for point in series.val.numRef.numCache.pt}
    values = [cached.get(n) for n in range(len(labels))]
    cells = series.val.numRef.f.split("!")[1].replace("$", "")
    shown = [row[0].value for row in sheet[cells.split(":")[0] : cells.split(":")[1]]]
    assert [v if v is not None else "not tracked yet" for v in values] == shown
    return labels, values, sheet


def test_status_xlsx_writes_the_funnel_with_a_bar_chart(tenant: tuple[Path, str]) -> None:
    folder, config = tenant
    done = eidflow("status", "--config", config, "--xlsx", folder / "funnel.xlsx", cwd=folder)
    assert done.returncode == 0, done.stderr
    labels, values, sheet = funnel_chart(folder / "funnel.xlsx")
    assert labels == ["rows read", *funnel.STEPS]
    assert values == [1000, 950, 850, 750, 650, 0, 0]  # no eidflow intune status read yet
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert ["not enrolled yet", 110, funnel.TODO["not enrolled yet"]] in [r[:3] for r in rows]
    assert ["hp-asn-7781.csv", "PO-77"] in [r[:2] for r in rows]


def test_the_ingest_report_has_the_funnel_of_its_shipments(tenant: tuple[Path, str]) -> None:
    """Counted as the run left the ledger: its own hand-offs, before any answer or member."""
    folder, _ = tenant
    [report] = (folder / "runs").glob("*/report.xlsx")
    import openpyxl

    names = openpyxl.load_workbook(report, read_only=True).sheetnames
    assert names == ["summary", "accepted", "rejected", "duplicate", "conflict", "Funnel"]
    labels, values, _ = funnel_chart(report)
    assert labels == ["rows read", *funnel.STEPS]
    assert values == [1000, 950, 0, 750, 0, 0, 0]


def test_a_run_above_funnel_max_pcs_says_how_to_get_its_funnel(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "small.csv",
        ["Serial Number", "EID", "IMEI"],
        [[f"SN{n:05d}", make_eid(n), make_imei(n)] for n in range(1, 4)],
    )
    config = tmp_path / "eidflow.toml"
    config.write_text(
        f'[ledger]\nurl = "sqlite:///{tmp_path / "ledger.db"}"\n[report]\nfunnel_max_pcs = 2\n'
        '[[operators]]\nname = "contoso-mobile"\n'
    )
    done = eidflow("ingest", manifest, "--config", config, "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "run" / "report.xlsx")["Funnel"]
    assert not sheet._charts
    note = str(sheet["A2"].value)
    assert "3 PCs" in note and "funnel_max_pcs" in note and "--xlsx" in note


def test_an_xlsx_that_cannot_be_written_is_one_line(tenant: tuple[Path, str]) -> None:
    folder, config = tenant
    (folder / "a-file").write_text("")
    done = eidflow("status", "--config", config, "--xlsx", folder / "a-file" / "f.xlsx", cwd=folder)
    assert done.returncode == 2 and "--xlsx" in done.stderr and "Traceback" not in done.stderr
