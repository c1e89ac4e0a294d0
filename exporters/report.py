"""``report.xlsx``: the run for people. A summary sheet first, then one sheet per outcome.

Identifiers are text cells (``@``), never numbers; no cell is a formula. Each outcome
sheet holds at most ``report.max_rows_per_sheet`` rows (a note says so; decisions.csv
has every row), which keeps a 1,000,000-row run's report to seconds. A capped sheet is
the header row, the rows shown, a blank row and the note: hence the setting's maximum,
``MAX_REPORT_ROWS_PER_SHEET``, three below Excel's 1,048,576 rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from eidflow import schema
from eidflow.codes import Status
from exporters import wording
from exporters.config import MAX_REPORT_ROWS_PER_SHEET, ReportSettings
from exporters.files import OutputFile, atomic_path, sha256_file
from exporters.funnel import FunnelTables, add_funnel_sheet
from exporters.lines import cell, table, text
from exporters.safe import neutralise_array, text_array
from exporters.xlsx import (
    MAX_ROWS,
    STYLE_HEADER,
    STYLE_NOTE,
    STYLE_TEXT,
    STYLE_WRAP,
    Line,
    TextWorkbook,
    fitted_widths,
)

REPORT_FILE = "report.xlsx"
OUTCOME_SHEETS = tuple(Status)  # accepted, rejected, duplicate, conflict
COUNT_SECTIONS: tuple[tuple[str, str, str, Mapping[Any, str]], ...] = (
    ("by_status", "Rows by status", "status", wording.STATUS),
    ("by_reason", "Rows by reason", "reason", wording.REASON),
    ("by_intune_state", "Accepted rows by Intune state", "Intune state", wording.INTUNE_STATE),
    ("by_warning", "Rows by warning", "warning", wording.WARNING),
    ("by_operator", "Accepted rows by operator", "operator", {}),
)
# What the admin needs when writing to the OEM, after the decision columns.
DESCRIBING = (schema.PO_NUMBER, "manufacturer", "model")


def write_report(
    decisions: pd.DataFrame,
    summary: dict[str, Any],
    run_dir: Path,
    settings: ReportSettings,
    funnel: FunnelTables | None = None,
) -> OutputFile:
    """Write ``run_dir/report.xlsx`` atomically and describe it (rows = decision rows shown);
    with ``funnel``, its Funnel sheet after the outcome sheets."""
    path = run_dir / REPORT_FILE
    cap = min(settings.max_rows_per_sheet, MAX_REPORT_ROWS_PER_SHEET)  # within Excel's rows
    positions = {status: _positions(decisions, status) for status in OUTCOME_SHEETS}
    sizes = {status: len(found) for status, found in positions.items()}
    wanted = (*schema.DECISION_COLUMNS, *DESCRIBING)
    columns = [name for name in wanted if name in decisions.columns]
    with atomic_path(path) as tmp, TextWorkbook(tmp) as book:
        lines = summary_lines(summary, sizes, cap)
        book.add_lines("summary", lines, widths=fitted_widths(lines))
        for status, found in positions.items():
            shown = decisions[columns].iloc[found[:cap]]  # only the cells shown are copied
            note = _cap_note(len(found), cap) if len(found) > cap else ""
            book.add_table(str(status), _inert(shown), note=note)
        if (
            funnel is not None
        ):  # last: the run-output spec has the outcome sheets follow the summary
            add_funnel_sheet(book, funnel)
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
    """The summary sheet in words: run facts, what to do next, counts (each code with its
    sentence), inputs, outputs, and notes on capped sheets."""
    lines: list[Line] = [(["eidflow run report"], STYLE_HEADER)]
    counts: dict[str, Any] = summary.get("counts") or {}
    facts = [*summary.items(), *counts.items()]
    for key, value in facts:  # the run's, then the counts' (rows)
        if key == "exit_status" and value in wording.EXIT_STATUS:
            value = wording.EXIT_STATUS[value]
        if not isinstance(value, dict) and not _is_table(value):
            lines.append(
                ([text(wording.fact(key)), cell(value) if value != [] else "none"], STYLE_WRAP)
            )
    lines += _next_steps(summary)
    for key, title, label, words in COUNT_SECTIONS:
        lines += table(title, _count_rows(counts.get(key), label, words), style=STYLE_WRAP)
    listed = {key for key, _, _, _ in COUNT_SECTIONS}
    for key, value in counts.items():
        if isinstance(value, dict) and key not in listed:  # counts added later
            lines += table(wording.fact(key), _count_rows(value, "what"), style=STYLE_WRAP)
    for key in ("inputs", "outputs"):
        items = [_labelled(item) for item in summary.get(key) or [] if isinstance(item, dict)]
        lines += table(key.capitalize(), items, style=STYLE_WRAP)
    for key, value in summary.items():  # anything else the summary holds, e.g. skipped lines
        if key in ("counts", "inputs", "outputs"):
            continue
        if isinstance(value, dict):
            rows = [
                {"what": wording.fact(k), "value": v if v != [] else "none"}
                for k, v in value.items()
            ]
            lines += table(wording.fact(key), rows, style=STYLE_WRAP)
        elif _is_table(value):
            lines += table(wording.fact(key), value, style=STYLE_WRAP)
    notes = [
        ([f"Sheet {status}: {_cap_note(size, cap)}"], STYLE_NOTE)
        for status, size in sizes.items()
        if size > cap
    ]
    lines += [([], STYLE_TEXT), *notes] if notes else []
    if len(lines) > MAX_ROWS:  # thousands of inputs or output files: keep to a sheet's rows
        lines = [*lines[: MAX_ROWS - 1], ([_SUMMARY_CUT], STYLE_NOTE)]
    return lines


def _next_steps(summary: dict[str, Any]) -> list[Line]:
    """The "What to do next" block: rows, and what to do about them."""
    steps = wording.next_steps(summary)
    lines: list[Line] = [([], STYLE_TEXT), (["What to do next"], STYLE_HEADER)]
    if not steps:
        return [*lines, (["Nothing: every row went through as it should."], STYLE_NOTE)]
    lines.append((["rows", "what to do"], STYLE_HEADER))
    return lines + [([rows, text(todo)], STYLE_WRAP) for rows, todo in steps]


def _labelled(item: dict[str, Any]) -> dict[str, Any]:
    return {wording.COLUMNS.get(key, wording.fact(key)): value for key, value in item.items()}


_SUMMARY_CUT = "The summary goes on beyond the rows a sheet holds; summary.json has all of it."


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) for i in value)


def _count_rows(
    counts: Any, label: str, words: Mapping[Any, str] | None = None
) -> list[dict[str, Any]]:
    """One row per code: its words (the code in brackets) and its rows."""
    if not isinstance(counts, dict):
        return []
    return [
        {label: wording.worded(key, words) if words else key, "rows": value}
        for key, value in counts.items()
    ]
