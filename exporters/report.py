"""``report.xlsx``: the run for people. A summary sheet first, then one sheet per outcome.

Identifiers are text cells (``@``), never numbers; no cell is a formula. Each outcome
sheet holds at most ``report.max_rows_per_sheet`` rows (a note says so; decisions.csv
has every row), which keeps a 1,000,000-row run's report to seconds. A capped sheet is
the header row, the rows shown, a blank row and the note: hence the setting's maximum,
``MAX_REPORT_ROWS_PER_SHEET``, three below Excel's 1,048,576 rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from eidflow import schema
from eidflow.codes import Status
from exporters.config import MAX_REPORT_ROWS_PER_SHEET, ReportSettings
from exporters.files import OutputFile, atomic_path, sha256_file
from exporters.funnel import FunnelTables, add_funnel_sheet
from exporters.lines import cell, table, text
from exporters.safe import neutralise_array, text_array
from exporters.xlsx import MAX_ROWS, STYLE_HEADER, STYLE_NOTE, STYLE_TEXT, Line, TextWorkbook

REPORT_FILE = "report.xlsx"
OUTCOME_SHEETS = tuple(Status)  # accepted, rejected, duplicate, conflict
COUNT_SECTIONS = (
    ("by_status", "Rows by status", "status"),
    ("by_reason", "Rows by reason", "reason"),
    ("by_intune_state", "Accepted rows by Intune state", "intune_state"),
    ("by_warning", "Rows by warning", "warning"),
    ("by_operator", "Accepted rows by operator", "operator"),
)


def write_report(
    decisions: pd.DataFrame,
    summary: dict[str, Any],
    run_dir: Path,
    settings: ReportSettings,
    funnel: FunnelTables | None = None,
) -> OutputFile:
    """Write ``run_dir/report.xlsx`` atomically and describe it (rows = decision rows shown);
    with ``funnel``, its Funnel sheet after the summary."""
    path = run_dir / REPORT_FILE
    cap = min(settings.max_rows_per_sheet, MAX_REPORT_ROWS_PER_SHEET)  # within Excel's rows
    positions = {status: _positions(decisions, status) for status in OUTCOME_SHEETS}
    sizes = {status: len(found) for status, found in positions.items()}
    columns = [name for name in schema.DECISION_COLUMNS if name in decisions.columns]
    with atomic_path(path) as tmp, TextWorkbook(tmp) as book:
        book.add_lines("summary", summary_lines(summary, sizes, cap), widths=(34, 22, 22, 70, 40))
        if funnel is not None:
            add_funnel_sheet(book, funnel)
        for status, found in positions.items():
            shown = decisions[columns].iloc[found[:cap]]  # only the cells shown are copied
            note = _cap_note(len(found), cap) if len(found) > cap else ""
            book.add_table(str(status), _inert(shown), note=note)
    rows = sum(min(size, cap) for size in sizes.values())
    return OutputFile(path=REPORT_FILE, rows=rows, sha256=sha256_file(path), kind="report")


def _positions(decisions: pd.DataFrame, status: Status) -> np.ndarray:
    """Row positions with this status, in input order."""
    if schema.STATUS not in decisions.columns:
        return np.array([], dtype=np.intp)
    return np.flatnonzero((decisions[schema.STATUS] == str(status)).to_numpy(dtype=bool))


def _inert(rows: pd.DataFrame) -> pa.Table:
    """Text neutralised; the row number stays a number."""
    columns = {}
    for name in rows.columns:
        column = rows[name]
        if name == schema.ROW and pd.api.types.is_integer_dtype(column):
            numbers = not column.hasnans
            columns[name] = pa.array(column.to_numpy("int64")) if numbers else text_array(column)
        else:
            columns[name] = neutralise_array(text_array(column))
    return pa.table(columns)


def _cap_note(total: int, cap: int) -> str:
    return f"Showing the first {cap:,} of {total:,} rows; decisions.csv has every row."


def summary_lines(summary: dict[str, Any], sizes: dict[Status, int], cap: int) -> list[Line]:
    """The summary sheet: run facts, counts, inputs, outputs, and notes on capped sheets."""
    lines: list[Line] = [(["eidflow run report"], STYLE_HEADER)]
    counts: dict[str, Any] = summary.get("counts") or {}
    facts = [*summary.items(), *counts.items()]
    for key, value in facts:  # the run's, then the counts' (rows)
        if not isinstance(value, dict) and not _istable(value):
            lines.append(([text(key), cell(value)], STYLE_TEXT))
    for key, title, label in COUNT_SECTIONS:
        lines += table(title, _count_rows(counts.get(key), label))
    listed = {key for key, _, _ in COUNT_SECTIONS}
    for key, value in counts.items():
        if isinstance(value, dict) and key not in listed:  # counts added later
            lines += table(key, _count_rows(value, "what"))
    for key in ("inputs", "outputs"):
        items = summary.get(key) or []
        lines += table(key.capitalize(), [item for item in items if isinstance(item, dict)])
    for key, value in summary.items():  # anything else the summary holds, e.g. skipped lines
        if key in ("counts", "inputs", "outputs"):
            continue
        if isinstance(value, dict):
            lines += table(key, _count_rows(value, "what", "value"))
        elif _istable(value):
            lines += table(key, value)
    notes = [
        ([f"Sheet {status}: {_cap_note(size, cap)}"], STYLE_NOTE)
        for status, size in sizes.items()
        if size > cap
    ]
    lines += [([], STYLE_TEXT), *notes] if notes else []
    if len(lines) > MAX_ROWS:  # thousands of inputs or output files: keep to a sheet's rows
        lines = [*lines[: MAX_ROWS - 1], ([_SUMMARY_CUT], STYLE_NOTE)]
    return lines


_SUMMARY_CUT = "The summary goes on beyond the rows a sheet holds; summary.json has all of it."


def _istable(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) for i in value)


def _count_rows(counts: Any, label: str, amount: str = "rows") -> list[dict[str, Any]]:
    if not isinstance(counts, dict):
        return []
    return [{label: key, amount: value} for key, value in counts.items()]
