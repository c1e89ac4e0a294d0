"""Workbooks (XLSX, XLSM, XLSB, XLS, ODS) through python-calamine, which keeps each cell's type.

A numeric cell in the EID column is flagged (``eid_numeric``) and passed on as the text
Python gives for the float (``8.904903212345124e+31``), never repaired; a numeric IMEI
cell gives its integer digits and ``imei_numeric``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import python_calamine

from eidflow.errors import ManifestError
from parsers.container import RESAVE
from parsers.rows import TEXT_DTYPE, TableBody

NUMBER_TYPES = (int, float)


@dataclass
class SheetGrid:
    """One worksheet's used range: cells as calamine gives them, and the row number of cell [0]."""

    name: str
    cells: list[list[Any]]
    first_row: int  # spreadsheet row number of cells[0]


def open_workbook(file: str, data: bytes) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise ManifestError(
            file,
            "is password-protected; eidflow cannot open encrypted workbooks.",
            todo="Ask the sender for a copy without a password.",
        ) from None
    except Exception as error:
        raise _unreadable(file, error) from None
    except BaseException as error:  # pyo3 turns a Rust panic into a BaseException
        if type(error).__name__ != "PanicException":
            raise
        raise _unreadable(file, error) from None


def hidden_sheets(workbook: python_calamine.CalamineWorkbook) -> set[str]:
    """The sheets Excel does not show (hidden or very hidden)."""
    try:
        metadata = workbook.sheets_metadata
    except Exception:  # a format without sheet states: every sheet is shown
        return set()
    return {
        sheet.name
        for sheet in metadata
        if sheet.visible != python_calamine.SheetVisibleEnum.Visible
    }


def iter_sheets(
    file: str, workbook: python_calamine.CalamineWorkbook, only: str = ""
) -> Iterator[SheetGrid]:
    """Every worksheet (or just ``only``), as its used range."""
    names = list(workbook.sheet_names)
    if only and only not in names:
        raise ManifestError(
            file,
            f"has no sheet named {only!r} (sheets: {', '.join(repr(n) for n in names)}).",
            todo="Fix the sheet name in the parser profile.",
        )
    for name in [only] if only else names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            cells = sheet.to_python(skip_empty_area=True)
            start = sheet.start
        except Exception as error:
            raise _unreadable(file, error, sheet=name) from None
        except BaseException as error:
            if type(error).__name__ != "PanicException":
                raise
            raise _unreadable(file, error, sheet=name) from None
        first_row = (start[0] + 1) if start is not None else 1
        yield SheetGrid(name, cells, first_row)


def _unreadable(file: str, error: BaseException, sheet: str = "") -> ManifestError:
    detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return ManifestError(file, f"is not a readable workbook ({detail}).", todo=RESAVE, sheet=sheet)


def header_cells(row: list[Any]) -> list[str]:
    return [cell_text(cell) for cell in row]


def cell_text(value: Any) -> str:
    """The text of a cell: whole numbers without ``.0``, dates as ISO 8601."""
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return str(int(value)) if value.is_integer() and abs(value) < 1e17 else repr(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is int:
        return str(value)
    if kind is dt.datetime:
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return "" if value is None else str(value)


def eid_cell_text(value: Any) -> str:
    """An EID cell exactly as read: a number gives the text Python prints for it."""
    if type(value) is str:
        return value
    if type(value) in NUMBER_TYPES:
        return repr(value)
    return cell_text(value)


@dataclass
class RawBody:
    """A device table of one sheet in plain Python data (it crosses a process boundary)."""

    sheet: str
    first_row: int  # spreadsheet row of the first line below the header
    head: list[list[str]]  # the rows searched for the header, as text
    header_index: int
    fields: dict[str, int]
    columns: dict[str, str | list[str]]  # packed: one NUL-joined text when no cell holds a NUL
    nonblank: np.ndarray
    eid_numeric: np.ndarray | None
    imei_numeric: np.ndarray | None


def raw_body(
    grid: SheetGrid, head: list[list[str]], header_index: int, fields: dict[str, int]
) -> RawBody:
    """The lines below the header as text columns, with the numeric-cell flags."""
    lines = grid.cells[header_index + 1 :]
    width = min(map(len, lines), default=0)  # calamine's rows are rectangular; be safe anyway
    columns: dict[str, str | list[str]] = {}
    eid_numeric = imei_numeric = None
    for field, index in fields.items():
        if index < width:
            values = list(map(itemgetter(index), lines))
        else:
            values = [line[index] if index < len(line) else "" for line in lines]
        kinds = set(map(type, values))
        if field == "eid":
            texts = values if kinds <= {str} else list(map(eid_cell_text, values))
            eid_numeric = _numeric(values, kinds)
        else:
            texts = values if kinds <= {str} else list(map(cell_text, values))
            if field == "imei":
                imei_numeric = _numeric(values, kinds)
        columns[field] = _pack(texts)
    filled = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    empty = np.fromiter(map(list.count, lines, repeat("")), dtype=np.int64, count=len(lines))
    return RawBody(
        grid.name,
        grid.first_row + header_index + 1,
        head,
        header_index,
        fields,
        columns,
        empty != filled,
        eid_numeric,
        imei_numeric,
    )


def table_body(raw: RawBody) -> TableBody:
    """The frame-side form of a raw body (built in the parent process)."""
    count = len(raw.nonblank)
    columns = {
        field: pd.Series(_unpack(texts, count), dtype=TEXT_DTYPE)
        for field, texts in raw.columns.items()
    }
    row_numbers = np.arange(raw.first_row, raw.first_row + count, dtype=np.int64)
    header = {field: raw.head[raw.header_index][index] for field, index in raw.fields.items()}
    return TableBody(columns, row_numbers, raw.nonblank, raw.eid_numeric, raw.imei_numeric, header)


def _pack(texts: list[str]) -> str | list[str]:
    """One string instead of thousands: pickling it through the pipe is a copy, not a walk."""
    joined = "\x00".join(texts)
    return texts if joined.count("\x00") != max(len(texts) - 1, 0) else joined


def _unpack(texts: str | list[str], count: int) -> list[str]:
    if isinstance(texts, list):
        return texts
    return texts.split("\x00") if count else []


def _numeric(values: list[Any], kinds: set[type]) -> np.ndarray:
    if not kinds & set(NUMBER_TYPES):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(
        (type(value) in NUMBER_TYPES for value in values), dtype=bool, count=len(values)
    )
