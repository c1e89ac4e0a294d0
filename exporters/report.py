"""``report.xlsx``: the run for people. A summary sheet first, then one sheet per outcome.

Identifiers are text cells (``@``), never numbers; no cell is a formula. Each outcome
sheet holds at most ``report.max_rows_per_sheet`` rows (a note says so; decisions.csv
has every row), which keeps a 1,000,000-row run's report to seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from eidflow import schema
from eidflow.codes import Status
from exporters.config import ReportSettings
from exporters.files import OutputFile, atomic_path, sha256_file
from exporters.safe import neutralise, neutralise_text
from exporters.xlsx import TextWorkbook

REPORT_FILE = "report.xlsx"
OUTCOME_SHEETS = tuple(Status)  # accepted, rejected, duplicate, conflict
COUNT_SECTIONS = (
    ("by_status", "Rows by status", "status"),
    ("by_reason", "Rows by reason", "reason"),
    ("by_intune_state", "Accepted rows by Intune state", "intune_state"),
)


def write_report(
    decisions: pd.DataFrame, summary: dict[str, Any], run_dir: Path, settings: ReportSettings
) -> OutputFile:
    """Write ``run_dir/report.xlsx`` atomically and describe it (rows = decision rows shown)."""
    path = run_dir / REPORT_FILE
    outcomes = {status: _outcome(decisions, status) for status in OUTCOME_SHEETS}
    cap = settings.max_rows_per_sheet
    shown = 0
    with atomic_path(path) as tmp, TextWorkbook(tmp) as book:
        _summary_sheet(book, summary, {s: len(rows) for s, rows in outcomes.items()}, cap)
        for status, rows in outcomes.items():
            shown += _outcome_sheet(book, book.sheet(str(status)), rows, cap)
    return OutputFile(path=REPORT_FILE, rows=shown, sha256=sha256_file(path), kind="report")


def _outcome(decisions: pd.DataFrame, status: Status) -> pd.DataFrame:
    if schema.STATUS not in decisions.columns:
        return decisions.iloc[0:0]
    columns = [name for name in schema.DECISION_COLUMNS if name in decisions.columns]
    return decisions.loc[decisions[schema.STATUS] == str(status), columns]


def _outcome_sheet(book: TextWorkbook, sheet: Worksheet, rows: pd.DataFrame, cap: int) -> int:
    shown = rows.head(cap)
    inert = pd.DataFrame(
        {
            name: shown[name]
            if name == schema.ROW and pd.api.types.is_integer_dtype(shown[name])
            else neutralise(shown[name])
            for name in shown.columns
        }
    )
    next_row = book.frame(sheet, inert)
    if len(rows) > cap:
        book.line(sheet, next_row + 1, [_cap_note(len(rows), cap)], note=True)
    return len(shown)


def _cap_note(total: int, cap: int) -> str:
    return f"Showing the first {cap:,} of {total:,} rows; decisions.csv has every row."


def _summary_sheet(
    book: TextWorkbook, summary: dict[str, Any], sizes: dict[Status, int], cap: int
) -> None:
    sheet = book.sheet("summary")
    sheet.set_column(0, 0, 34, book.text)
    sheet.set_column(1, 4, 22, book.text)
    row = book.line(sheet, 0, ["eidflow run report"])
    for key, value in summary.items():
        if isinstance(value, str | int | float | bool) or value is None:
            row = book.line(sheet, row, [_text(key), _cell(value)])
    counts = summary.get("counts", {}) or {}
    for key, title, label in COUNT_SECTIONS:
        row = _table(book, sheet, row + 1, title, _count_rows(counts.get(key), label))
    for key in ("inputs", "outputs"):
        items = summary.get(key) or []
        row = _table(
            book, sheet, row + 1, key.capitalize(), [i for i in items if isinstance(i, dict)]
        )
    for status, size in sizes.items():
        if size > cap:
            row = book.line(sheet, row + 1, [f"Sheet {status}: {_cap_note(size, cap)}"], note=True)


def _count_rows(counts: Any, label: str) -> list[dict[str, Any]]:
    if not isinstance(counts, dict):
        return []
    return [{label: key, "rows": value} for key, value in counts.items()]


def _table(
    book: TextWorkbook, sheet: Worksheet, row: int, title: str, items: list[dict[str, Any]]
) -> int:
    row = book.line(sheet, row, [title])
    if not items:
        return book.line(sheet, row, ["(none)"], note=True)
    headers = list(dict.fromkeys(key for item in items for key in item))
    row = book.line(sheet, row, [_text(header) for header in headers])
    for item in items:
        row = book.line(sheet, row, [_cell(item.get(header)) for header in headers])
    return row


def _cell(value: Any) -> Any:
    """Integers stay numbers (counts); everything else is inert text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return "" if value is None else _text(value)


def _text(value: Any) -> str:
    return neutralise_text(str(value))
