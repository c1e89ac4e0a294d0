"""report.xlsx: summary sheet first, a sheet per outcome, capped, text identifiers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from app.settings import load_settings
from eidflow import schema
from eidflow.core import actions, validate
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
    assert ["Run", "20260309T101500Z-ab12"] in flat
    assert ["Rows by status"] in flat
    assert ["Accepted: handed to its operator (accepted)", 2] in flat
    assert [f"{validate.DETAILS['eid_checksum']} (eid_checksum)", 1] in flat
    assert ["Enrolled in Intune (enrolled)", 1] in flat
    assert ["broken.xlsx", 0, "not a workbook"] in flat  # no sha256: an empty cell
    assert ["decisions.csv", 4, "cd" * 32] in flat


def test_summary_sheet_holds_every_count_summary_json_holds(tmp_path: Path) -> None:
    write_report(decisions(), SUMMARY, tmp_path, ReportSettings())
    lines = values(openpyxl.load_workbook(tmp_path / "report.xlsx")["summary"])
    flat = [[v for v in line if v is not None] for line in lines]
    assert ["Rows read", 4] in flat
    assert ["Rows by warning"] in flat
    imei, entra = (
        f"{actions.BY_WARNING[code]} ({code})" for code in ("imei_invalid", "entra_unresolved")
    )
    assert [imei, 1] in flat and [entra, 1] in flat
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
    assert ["Skipped"] in flat
    assert ["Footer rows", 1] in flat
    assert ["Inputs that could not be read", "none"] in flat


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


def cells(sheet: Any) -> list[Any]:
    return [cell for line in values(sheet) for cell in line if cell is not None]


def test_the_summary_says_each_code_in_words_and_what_to_do_next(tmp_path: Path) -> None:
    summary = SUMMARY | {"counts": SUMMARY["counts"] | {"by_intune_state": {"os_unsupported": 3}}}
    write_report(decisions(), summary, tmp_path, ReportSettings())
    sheet = openpyxl.load_workbook(tmp_path / "report.xlsx")["summary"]
    shown = cells(sheet)
    worded = {"eid_checksum", "duplicate_in_run", "imei_invalid", "entra_unresolved", "accepted"}
    assert not worded & set(shown)  # no bare code where a sentence exists
    lines = [[v for v in line if v is not None] for line in values(sheet)]
    todo = lines[lines.index(["What to do next"]) + 1 :]
    assert todo[0] == ["rows", "what to do"]
    steps = {text: rows for rows, text, *_ in todo[1 : todo.index([])]}
    assert steps[f"{actions.BY_STATE['os_unsupported']} (os_unsupported)"] == 3
    assert steps[f"{actions.BY_WARNING['imei_invalid']} (imei_invalid)"] == 1
    assert any("corrected file" in text and "eid_checksum" in text for text in steps)


def test_summary_widths_fit_a_sha256_and_long_text_wraps(tmp_path: Path) -> None:
    write_report(decisions(), SUMMARY, tmp_path, ReportSettings())
    sheet = openpyxl.load_workbook(tmp_path / "report.xlsx")["summary"]
    [where] = [cell for row in sheet.iter_rows() for cell in row if cell.value == "ab" * 32]
    assert sheet.column_dimensions[where.column_letter].width >= 64 + 1
    assert all(dim.width <= 72 for dim in sheet.column_dimensions.values())
    sentence = next(c for row in sheet.iter_rows() for c in row if "(eid_checksum)" in str(c.value))
    assert sentence.alignment.wrap_text
    assert len(sentence.value) > sheet.column_dimensions[sentence.column_letter].width
    assert (sheet.row_dimensions[sentence.row].height or 0) >= 30  # two lines: the row grown


def test_outcome_sheets_name_po_manufacturer_and_model(tmp_path: Path) -> None:
    write_report(
        frame([handoff_row(1), handoff_row(2, status="rejected")]),
        SUMMARY,
        tmp_path,
        ReportSettings(),
    )
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    for sheet, n in (("accepted", 1), ("rejected", 2)):
        header, row = values(book[sheet])
        line = dict(zip(header, row, strict=True))
        assert (line["po_number"], line["manufacturer"], line["model"]) == (
            "PO-1001",
            "Dell",
            "Latitude 7450",
        )
        assert line["eid"] == make_eid(n)
