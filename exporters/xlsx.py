"""XLSX writing where text stays text: no number guessing, no formulas, identifiers as ``@`` cells.

xlsxwriter with ``strings_to_numbers``/``strings_to_formulas``/``strings_to_urls`` off and
``constant_memory`` on (rows are streamed to disk: memory stays flat for big sheets).
Callers neutralise text first (``exporters.safe``); no formula cell is ever written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

WORKBOOK_OPTIONS: dict[str, Any] = {
    "constant_memory": True,
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


class TextWorkbook:
    """A workbook whose cells are written as text (``@``) or, for integer columns, as numbers."""

    def __init__(self, path: Path) -> None:
        self.book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
        self.text = self.book.add_format({"num_format": "@"})
        self.header = self.book.add_format({"num_format": "@", "bold": True})
        self.note = self.book.add_format({"num_format": "@", "italic": True})

    def __enter__(self) -> TextWorkbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.book.close()

    def sheet(self, name: str) -> Worksheet:
        return self.book.add_worksheet(name)

    def frame(
        self, sheet: Worksheet, frame: pd.DataFrame, *, first_row: int = 0, filters: bool = True
    ) -> int:
        """Write the frame with its header at ``first_row``; return the next free row."""
        headers = [str(name) for name in frame.columns]
        for col, header in enumerate(headers):
            sheet.write_string(first_row, col, header, self.header)
            sheet.set_column(col, col, _width(header, frame[frame.columns[col]]), self.text)
        numeric = [pd.api.types.is_integer_dtype(frame[name]) for name in frame.columns]
        row = first_row
        for row, values in enumerate(frame.itertuples(index=False, name=None), start=first_row + 1):
            for col, value in enumerate(values):
                _write_cell(sheet, row, col, value, numeric[col], self.text)
        if filters and headers:
            sheet.autofilter(first_row, 0, max(row, first_row), len(headers) - 1)
        if first_row == 0:
            sheet.freeze_panes(1, 0)
        return row + 1

    def line(self, sheet: Worksheet, row: int, values: list[Any], *, note: bool = False) -> int:
        """One line of text or integer cells; return the next row."""
        style = self.note if note else self.text
        for col, value in enumerate(values):
            _write_cell(sheet, row, col, value, isinstance(value, int), style)
        return row + 1


def _write_cell(
    sheet: Worksheet, row: int, col: int, value: Any, numeric: bool, style: Format
) -> None:
    if numeric and isinstance(value, int) and not isinstance(value, bool):
        sheet.write_number(row, col, value)
    elif value is None or value is pd.NA or (isinstance(value, float) and value != value):
        sheet.write_blank(row, col, None, style)
    else:
        sheet.write_string(row, col, str(value), style)


def _width(header: str, column: pd.Series) -> float:
    sample = column.head(200).astype("string").fillna("").str.len()
    longest = int(sample.max()) if len(sample) else 0
    return float(min(max(len(header), longest) + 2, 60))


def write_text_sheet(path: Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    """A workbook of plain tables, one per sheet, every cell text."""
    with TextWorkbook(path) as book:
        for name, frame in sheets.items():
            book.frame(book.sheet(name), frame)
