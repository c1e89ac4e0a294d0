"""No live formula in any file eidflow writes, whatever a manifest's free text holds.

Every writer gets hostile values in every free-text field; then each CSV cell and each
XLSX cell is checked: no formula cell, no text a spreadsheet would evaluate, and the
identifiers are text cells with every digit.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from eidflow import schema
from exporters.config import EntraSettings, OperatorProfile, ReportSettings
from exporters.decisions import write_decisions
from exporters.entra import write_entra_files
from exporters.operator import write_operator_files
from exporters.report import write_report
from exporters.safe import FORMULA_PREFIXES, neutralise_text
from tests.exporters.rows import HOSTILE, frame, handoff_row
from tests.frames import make_eid, make_imei

FREE_TEXT = (
    schema.SOURCE_FILE,
    schema.SHEET,
    schema.EID_RAW,
    schema.SERIAL_NUMBER,
    schema.DETAIL,
    *schema.DESCRIPTIVE,
)
ALL_FIELDS = [
    "EID",
    "IMEI",
    "Serial Number",
    "Manufacturer",
    "Model",
    "PO Number",
    "SKU",
    "Customer",
]


def hostile_rows() -> list[dict[str, Any]]:
    rows = []
    for n, value in enumerate(HOSTILE, start=1):
        row = handoff_row(n, **{name: value for name in FREE_TEXT})
        row[schema.ENTRA_OBJECT_ID] = f"00000000-0000-0000-0000-{n:012d}"
        rows.append(row)
    return rows


def write_everything(tmp_path: Path) -> list[Path]:
    rows = frame(hostile_rows())
    decisions = rows[list(schema.DECISION_COLUMNS)]
    summary = {
        "run_id": "r",
        "inputs": [{"path": value, "sha256": "", "rows": 1, "error": value} for value in HOSTILE],
        "counts": {"by_status": {"accepted": len(rows)}},
        "outputs": [],
    }
    outputs = [
        *write_operator_files(rows, OperatorProfile(columns=ALL_FIELDS), tmp_path, "r"),
        *write_operator_files(
            rows, OperatorProfile(name="xl", format="xlsx", columns=ALL_FIELDS), tmp_path, "r"
        ),
        *write_entra_files(rows, EntraSettings(), tmp_path),
        write_decisions(decisions, tmp_path),
        write_report(decisions, summary, tmp_path, ReportSettings()),
    ]
    return [tmp_path / output.path for output in outputs]


def csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def xlsx_cells(path: Path) -> list[Any]:
    book = openpyxl.load_workbook(path)
    return [cell for sheet in book for row in sheet.iter_rows() for cell in row]


def test_hostile_text_is_inert_in_every_csv(tmp_path: Path) -> None:
    paths = [p for p in write_everything(tmp_path) if p.suffix == ".csv"]
    assert {p.name for p in paths} >= {"decisions.csv", "group-members.csv"}
    for path in paths:
        live = [cell for cell in csv_cells(path) if cell.startswith(FORMULA_PREFIXES)]
        assert live == [], path
    decisions = csv_cells(tmp_path / "decisions.csv")
    for value in HOSTILE:
        assert "'" + value in decisions  # kept, readable, inert


def test_xlsx_outputs_have_no_formula_cells_and_text_identifiers(tmp_path: Path) -> None:
    paths = [p for p in write_everything(tmp_path) if p.suffix == ".xlsx"]
    assert {p.name for p in paths} >= {"report.xlsx"} and len(paths) == 2
    identifiers = {make_eid(n) for n in range(1, 7)} | {make_imei(n) for n in range(1, 7)}
    for path in paths:
        cells = xlsx_cells(path)
        assert [c.coordinate for c in cells if c.data_type == "f"] == [], path
        texts = [c.value for c in cells if isinstance(c.value, str)]
        assert [t for t in texts if t.startswith(FORMULA_PREFIXES)] == [], path
        found = [c for c in cells if c.value in identifiers]
        assert found, path
        assert all(c.data_type == "s" and c.number_format == "@" for c in found), path
        # an identifier never appears as a number, not even a rounded one
        assert not [c for c in cells if isinstance(c.value, float)], path


def test_graph_bodies_hold_only_object_urls(tmp_path: Path) -> None:
    write_everything(tmp_path)
    batch = json.loads((tmp_path / "entra" / "graph-batch-001.json").read_text())
    [request] = batch["requests"]
    assert request["body"]["members@odata.bind"] == [
        f"https://graph.microsoft.com/v1.0/directoryObjects/00000000-0000-0000-0000-{n:012d}"
        for n in range(1, len(HOSTILE) + 1)
    ]


def test_excel_escape_sequences_in_text_stay_literal(tmp_path: Path) -> None:
    """Excel reads ``_xHHHH_`` in a string as a character; calamine reads as Excel does."""
    rows = frame([handoff_row(1, model="_x0041_ and _x00e9_")])
    [out] = write_operator_files(rows, OperatorProfile(format="xlsx"), tmp_path, "r")
    sheet = CalamineWorkbook.from_path(str(tmp_path / out.path)).get_sheet_by_index(0)
    assert sheet.to_python()[1][4] == "_x0041_ and _x00e9_"


@settings(
    max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(model=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12))
def test_any_model_text_round_trips_neutralised_through_csv_and_xlsx(
    tmp_path_factory: pytest.TempPathFactory, model: str
) -> None:
    tmp_path = tmp_path_factory.mktemp("prop")
    rows = frame([handoff_row(1, model=model)])
    profile_csv = OperatorProfile(columns=["EID", "Model"])
    profile_xlsx = OperatorProfile(name="xl", format="xlsx", columns=["EID", "Model"])
    [out_csv] = write_operator_files(rows, profile_csv, tmp_path, "r")
    [out_xlsx] = write_operator_files(rows, profile_xlsx, tmp_path, "r")
    expected = neutralise_text(model)
    assert csv_cells(tmp_path / out_csv.path)[3] == expected
    sheet = openpyxl.load_workbook(tmp_path / out_xlsx.path).active
    cell = sheet["B2"]
    assert cell.data_type != "f"
    illegal = {chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32))}
    readable = "".join("\ufffd" if ch in illegal or ch in "\ufffe\uffff" else ch for ch in expected)
    assert (cell.value or "") == readable
