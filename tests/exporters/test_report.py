"""report.xlsx: summary sheet first, a sheet per outcome, capped, text identifiers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from app.settings import load_settings
from eidflow import schema
from eidflow.errors import ConfigError
from exporters import report
from exporters.config import MAX_REPORT_ROWS_PER_SHEET, ReportSettings
from exporters.report import write_report
from exporters.xlsx import MAX_ROWS
from tests.exporters.rows import frame, handoff_row
from tests.frames import make_eid

SUMMARY: dict[str, Any] = {
    "run_id": "20260309T101500Z-ab12",
    "inputs": [
        {"path": "dell_asn.csv", "sha256": "ab" * 32, "rows": 4, "error": ""},
        {"path": "broken.xlsx", "sha256": "", "rows": 0, "error": "not a workbook"},
    ],
    "counts": {
        "by_status": {"accepted": 2, "rejected": 1, "duplicate": 1, "conflict": 0},
        "by_reason": {"eid_checksum": 1, "duplicate_in_run": 1},
        "by_intune_state": {"enrolled": 1, "not_enrolled": 1},
        "by_warning": {"imei_invalid": 1, "entra_unresolved": 1},
        "by_operator": {"northwind": 2},
        "rows": 4,
    },
    "outputs": [{"path": "decisions.csv", "rows": 4, "sha256": "cd" * 32}],
}


def decisions() -> pd.DataFrame:
    return frame(
        [
            handoff_row(1),
            handoff_row(2, status="rejected", reason="eid_checksum", eid=""),
            handoff_row(3, intune_state="enrolled"),
            handoff_row(4, status="duplicate", reason="duplicate_in_run"),
        ]
    )[list(schema.DECISION_COLUMNS)]


def values(sheet: Any) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_sheets_summary_first_then_each_outcome(tmp_path: Path) -> None:
    output = write_report(decisions(), SUMMARY, tmp_path, ReportSettings())
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert book.sheetnames == ["summary", "accepted", "rejected", "duplicate", "conflict"]
    assert output.path == "report.xlsx"
    assert output.rows == 4
    accepted = values(book["accepted"])
    assert accepted[0] == list(schema.DECISION_COLUMNS)
    assert [row[4] for row in accepted[1:]] == [make_eid(1), make_eid(3)]
    assert [row[2] for row in accepted[1:]] == [2, 4]  # the row number people see
    assert values(book["rejected"])[1][8] == "eid_checksum"
    assert len(values(book["conflict"])) == 1  # header only


def test_summary_sheet_holds_counts_inputs_and_outputs(tmp_path: Path) -> None:
    write_report(decisions(), SUMMARY, tmp_path, ReportSettings())
    lines = values(openpyxl.load_workbook(tmp_path / "report.xlsx")["summary"])
    flat = [[v for v in line if v is not None] for line in lines]
    assert ["run_id", "20260309T101500Z-ab12"] in flat
    assert ["Rows by status"] in flat
    assert ["accepted", 2] in flat
    assert ["eid_checksum", 1] in flat
    assert ["enrolled", 1] in flat
    assert ["broken.xlsx", 0, "not a workbook"] in flat  # no sha256: an empty cell
    assert ["decisions.csv", 4, "cd" * 32] in flat


def test_summary_sheet_holds_every_count_summary_json_holds(tmp_path: Path) -> None:
    write_report(decisions(), SUMMARY, tmp_path, ReportSettings())
    lines = values(openpyxl.load_workbook(tmp_path / "report.xlsx")["summary"])
    flat = [[v for v in line if v is not None] for line in lines]
    assert ["rows", 4] in flat
    assert ["Rows by warning"] in flat
    assert ["imei_invalid", 1] in flat and ["entra_unresolved", 1] in flat
    assert ["Accepted rows by operator"] in flat
    assert ["northwind", 2] in flat


def test_nested_summary_values_become_readable_text(tmp_path: Path) -> None:
    summary = SUMMARY | {
        "inputs": [
            {
                "path": "asn.xlsx",
                "rows": 3,
                "sheets": ["Shipment", "=Returns"],
                "skipped": {"blank_rows": 2, "sheets_without_table": ["Notes"]},
            }
        ],
        "skipped": {"blank_rows": 2, "footer_rows": 1},
        "unreadable": [],
    }
    write_report(decisions(), summary, tmp_path, ReportSettings())
    lines = values(openpyxl.load_workbook(tmp_path / "report.xlsx")["summary"])
    flat = [[v for v in line if v is not None] for line in lines]
    assert [
        "asn.xlsx",
        3,
        "Shipment; =Returns",  # inert: a formula only starts a cell
        "blank_rows=2; sheets_without_table=Notes",
    ] in flat
    assert ["skipped"] in flat
    assert ["footer_rows", 1] in flat
    assert ["unreadable"] in flat


def test_outcome_sheets_are_capped_with_a_note(tmp_path: Path) -> None:
    rows = frame([handoff_row(n) for n in range(1, 8)])[list(schema.DECISION_COLUMNS)]
    output = write_report(rows, SUMMARY, tmp_path, ReportSettings(max_rows_per_sheet=3))
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    accepted = [line for line in values(book["accepted"]) if any(v is not None for v in line)]
    assert len(accepted) == 1 + 3 + 1
    assert accepted[-1][0] == "Showing the first 3 of 7 rows; decisions.csv has every row."
    summary_text = [v for line in values(book["summary"]) for v in line if isinstance(v, str)]
    assert any("accepted" in text and "first 3 of 7" in text for text in summary_text)
    assert output.rows == 3


def test_the_cap_note_is_the_third_row_after_the_cap_within_excels_rows(tmp_path: Path) -> None:
    rows = frame([handoff_row(n) for n in range(1, 8)])[list(schema.DECISION_COLUMNS)]
    write_report(rows, SUMMARY, tmp_path, ReportSettings(max_rows_per_sheet=3))
    sheet = openpyxl.load_workbook(tmp_path / "report.xlsx")["accepted"]
    assert sheet.max_row == 3 + 3  # header, 3 rows, a blank row, the note
    assert str(sheet.cell(3 + 3, 1).value).startswith("Showing the first 3 of 7 rows")
    assert MAX_REPORT_ROWS_PER_SHEET + 3 == MAX_ROWS  # so at the maximum the note is row 1,048,576


@pytest.mark.parametrize("rows", [MAX_REPORT_ROWS_PER_SHEET + 1, 1_048_576, 2_000_000])
def test_max_rows_per_sheet_beyond_a_sheet_is_refused_at_load(tmp_path: Path, rows: int) -> None:
    config = tmp_path / "eidflow.toml"
    config.write_text(f"[report]\nmax_rows_per_sheet = {rows}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "report.max_rows_per_sheet" in str(caught.value)
    assert f"at most {MAX_REPORT_ROWS_PER_SHEET:,}" in str(caught.value)
    config.write_text(f"[report]\nmax_rows_per_sheet = {MAX_REPORT_ROWS_PER_SHEET}\n")
    assert load_settings(config).report.max_rows_per_sheet == MAX_REPORT_ROWS_PER_SHEET


def test_a_summary_longer_than_a_sheet_is_cut_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "MAX_ROWS", 40)  # as if Excel's sheets held 40 rows
    outputs = [{"path": f"operator/o/part-{n:04d}.csv", "rows": 1} for n in range(100)]
    lines = report.summary_lines(SUMMARY | {"outputs": outputs}, {}, 10)
    assert len(lines) == 40
    assert "summary.json has all of it" in lines[-1][0][0]


def test_header_frozen_and_filterable(tmp_path: Path) -> None:
    write_report(decisions(), SUMMARY, tmp_path, ReportSettings())
    sheet = openpyxl.load_workbook(tmp_path / "report.xlsx")["accepted"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:N3"


def test_empty_run_still_has_every_sheet(tmp_path: Path) -> None:
    write_report(decisions().iloc[0:0], {"run_id": "r"}, tmp_path, ReportSettings())
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert book.sheetnames == ["summary", "accepted", "rejected", "duplicate", "conflict"]
