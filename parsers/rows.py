"""From a table's mapped columns to manifest rows: device lines kept, blank and footer lines counted.

A line that could be a device (anything in the EID, serial or IMEI columns) is always a
row, so that the core can reject it with a reason; only blank lines and lines that
carry nothing but descriptive text or a "Total" label are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from eidflow import schema
from parsers.columns import FIELD_COLUMN

TEXT_DTYPE = pd.StringDtype()  # na_value=pd.NA; we never store NA, missing text is ""

# A label in the EID or serial column of a line with nothing else that identifies a device: "Total", "Grand total: 120", ...
_FOOTER_LABEL = r"^\s*(?:grand\s+)?(?:total|totals|sum|count|subtotal|number of|qty|quantity)\b"


@dataclass
class TableBody:
    """The lines under one header row, as text columns for the mapped fields."""

    columns: dict[str, pd.Series]  # field -> text Series ("" for empty), same length
    row_numbers: np.ndarray  # int64: the row a person sees
    nonblank: np.ndarray  # bool: any cell of the whole line (mapped or not) holds something
    eid_numeric: np.ndarray | None = None  # bool per line; None = no numeric cells (text file)
    imei_numeric: np.ndarray | None = None


@dataclass
class ShapedRows:
    rows: pd.DataFrame
    blank_rows: int
    footer_rows: int


def shape_rows(body: TableBody, source_file: str, sheet: str) -> ShapedRows:
    """The manifest frame (``schema.MANIFEST_COLUMNS``) for the device lines of ``body``."""
    count = len(body.row_numbers)
    empty = pd.Series([""] * count, dtype=TEXT_DTYPE) if count else pd.Series([], dtype=TEXT_DTYPE)
    columns = {FIELD_COLUMN[field]: series for field, series in body.columns.items()}

    def text(name: str) -> pd.Series:
        series = columns.get(name)
        return empty if series is None else series.reset_index(drop=True)

    eid, serial, imei, imei2 = (
        text(schema.EID_RAW),
        text(schema.SERIAL_RAW),
        text(schema.IMEI_RAW),
        text(schema.IMEI2_RAW),
    )
    identifiers = (eid != "") | (serial.str.strip() != "") | (imei != "") | (imei2 != "")
    no_imei = (imei.str.strip() == "") & (imei2.str.strip() == "")
    footer_label = no_imei & (
        (eid.str.contains(_FOOTER_LABEL, case=False, regex=True) & (serial.str.strip() == ""))
        | (serial.str.contains(_FOOTER_LABEL, case=False, regex=True) & (eid.str.strip() == ""))
    )
    device = identifiers.to_numpy(dtype=bool) & ~footer_label.to_numpy(dtype=bool)
    nonblank = np.asarray(body.nonblank, dtype=bool)
    blank_rows = int((~nonblank).sum())
    footer_rows = int((nonblank & ~device).sum())

    keep = device
    frame = pd.DataFrame(
        {
            schema.SOURCE_FILE: pd.Series([source_file] * int(keep.sum()), dtype=TEXT_DTYPE),
            schema.SHEET: pd.Series([sheet] * int(keep.sum()), dtype=TEXT_DTYPE),
            schema.ROW: np.asarray(body.row_numbers, dtype=np.int64)[keep],
        }
    )
    for name in schema.MANIFEST_COLUMNS:
        if name in (schema.SOURCE_FILE, schema.SHEET, schema.ROW):
            continue
        if name == schema.EID_NUMERIC:
            frame[name] = _flags(body.eid_numeric, count)[keep]
        elif name == schema.IMEI_NUMERIC:
            frame[name] = _flags(body.imei_numeric, count)[keep]
        else:
            frame[name] = text(name)[keep].reset_index(drop=True).astype(TEXT_DTYPE)
    return ShapedRows(frame[list(schema.MANIFEST_COLUMNS)], blank_rows, footer_rows)


def _flags(values: np.ndarray | None, count: int) -> np.ndarray:
    if values is None:
        return np.zeros(count, dtype=bool)
    return np.asarray(values, dtype=bool)
