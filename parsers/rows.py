"""From a table's mapped columns to manifest rows: device lines kept, blank and footer lines counted.

A line that could be a device (anything in the EID, serial or IMEI columns) is always a
row, so that the core can reject it with a reason; only blank lines and lines that
carry nothing but descriptive text or a "Total" label are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import schema
from eidflow.errors import ManifestError
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
    header: dict[str, str] = field(default_factory=dict)  # field -> its header text


@dataclass
class ShapedRows:
    rows: pd.DataFrame
    blank_rows: int
    footer_rows: int
    repeated_headers: int = 0  # the header row again below it (concatenated exports, page breaks)


def shape_rows(body: TableBody, source_file: str, sheet: str) -> ShapedRows:
    """The manifest frame (``schema.MANIFEST_COLUMNS``) for the device lines of ``body``."""
    count = len(body.row_numbers)
    empty = constant_text("", count)
    columns = {FIELD_COLUMN[name]: series for name, series in body.columns.items()}

    def text(name: str) -> pd.Series:
        series = columns.get(name)
        return empty if series is None else series.reset_index(drop=True)

    eid, serial = text(schema.EID_RAW), text(schema.SERIAL_RAW)

    def blank(name: str) -> np.ndarray:
        series = columns.get(name)
        return np.ones(count, dtype=bool) if series is None else _blank(series, count)

    no_eid, no_serial = blank(schema.EID_RAW), blank(schema.SERIAL_RAW)
    no_imei = blank(schema.IMEI_RAW) & blank(schema.IMEI2_RAW)
    device = ~(no_eid & no_serial & no_imei)
    # Only lines with one identifying cell (EID, serial or IMEI) can be labels or notes.
    blanks = no_eid.astype(np.int8) + no_serial + no_imei
    maybe = np.flatnonzero(blanks == 2)
    if len(maybe):
        eid_few, serial_few = eid.iloc[maybe], serial.iloc[maybe]
        imei_few = text(schema.IMEI_RAW).iloc[maybe] + text(schema.IMEI2_RAW).iloc[maybe]
        # "Total", "Grand total: 120" alone in any of them, anywhere.
        label = (
            _matches(eid_few, _FOOTER_LABEL)
            | _matches(serial_few, _FOOTER_LABEL)
            | _matches(imei_few, _FOOTER_LABEL)
        )
        # Below the last EID, a note: in the EID column, text without a digit (cannot be
        # an EID); in the serial column, words ("Page 1 of 1") or lower-case text without
        # a digit ("Confidential"), which no serial number is.
        note = np.zeros(count, dtype=bool)
        note[maybe] = (~no_eid[maybe] & ~_matches(eid_few, r"\d")) | (
            ~no_serial[maybe]
            & (
                _matches(serial_few, r"\S\s+\S")
                | (~_matches(serial_few, r"\d") & _matches(serial_few, r"[a-z]", ignore_case=False))
            )
        )
        device[maybe[label]] = False
        device &= ~(note & _below_last(device & ~note & ~no_eid))
    repeated = _repeated_header(columns, body.header, count)
    device &= ~repeated
    nonblank = np.asarray(body.nonblank, dtype=bool)
    blank_rows = int((~nonblank).sum())
    footer_rows = int((nonblank & ~device & ~repeated).sum())

    kept = int(device.sum())
    everything = kept == count

    def pick(series: pd.Series) -> pd.Series:
        return series if everything else series[device].reset_index(drop=True)

    nothing = constant_text("", kept)  # Arrow arrays are immutable: one serves every empty column
    data: dict[str, object] = {
        schema.SOURCE_FILE: constant_text(source_file, kept),
        schema.SHEET: constant_text(sheet, kept),
        schema.ROW: np.asarray(body.row_numbers, dtype=np.int64)[device],
        schema.EID_NUMERIC: _flags(body.eid_numeric, count)[device],
        schema.IMEI_NUMERIC: _flags(body.imei_numeric, count)[device],
    }
    for name in schema.MANIFEST_COLUMNS:
        if name not in data:
            data[name] = pick(text(name)) if name in columns else nothing
    frame = pd.DataFrame({name: data[name] for name in schema.MANIFEST_COLUMNS})
    for name in schema.AUTOPILOT_FIELDS:  # only when asked for (parsers.columns.map_columns)
        if name in columns:
            frame[name] = pick(text(name))
    return ShapedRows(frame, blank_rows, footer_rows, int(repeated.sum()))


def longest_bytes(series: pd.Series) -> int:
    """UTF-8 byte length of the longest text (from the Arrow offsets: no decoding)."""
    longest = pc.max(pc.binary_length(pa.array(series.array))).as_py()  # zero-copy for Arrow text
    return int(longest or 0)


def holds_text(columns: Sequence[pd.Series], count: int) -> np.ndarray:
    """Per line: whether any of the columns holds a non-empty text.

    Combined as Arrow bitmaps, one numpy array at the end: a million-line export of 16
    columns no longer allocates 16 arrays of lengths.
    """
    filled: pa.Array | pa.ChunkedArray | None = None
    for series in columns:
        some = pc.fill_null(pc.not_equal(pa.array(series.array), ""), False)
        filled = some if filled is None else pc.or_(filled, some)
    if filled is None:
        return np.zeros(count, dtype=bool)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def constant_text(value: str, count: int) -> pd.Series:
    """``count`` copies of one text, built from Arrow buffers (a list of a million strings is slow)."""
    encoded = value.encode("utf-8")
    if encoded:
        offsets = np.arange(count + 1, dtype=np.int64) * len(encoded)
    else:
        offsets = np.zeros(count + 1, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        count, pa.py_buffer(offsets), pa.py_buffer(encoded * count)
    )
    return pd.Series(pd.arrays.ArrowStringArray(array))


def _repeated_header(
    columns: dict[str, pd.Series], header: dict[str, str], count: int
) -> np.ndarray:
    """Lines whose EID and serial cells repeat the header's own text."""
    repeated = np.zeros(count, dtype=bool)
    keys = [(FIELD_COLUMN[name], header[name]) for name in ("eid", "serial") if name in header]
    if not keys or count == 0:
        return repeated
    repeated[:] = True
    for column, text in keys:
        if column in columns:
            same = pc.equal(pa.array(columns[column].array), text)
            repeated &= np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
    return repeated


def _blank(series: pd.Series, count: int) -> np.ndarray:
    """Empty or only whitespace, per line (Arrow kernels: no strings are built)."""
    if count == 0:
        return np.zeros(0, dtype=bool)
    values = pa.array(series.array)
    blank = pc.or_(pc.equal(values, ""), pc.fill_null(pc.utf8_is_space(values), False))
    return np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)


def _matches(values: pd.Series, pattern: str, *, ignore_case: bool = True) -> np.ndarray:
    """Regex search (case-insensitive unless told), in pyarrow (RE2), as a bool array."""
    found = pc.match_substring_regex(
        pa.array(values.tolist(), type=pa.string()), pattern, ignore_case=ignore_case
    )
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _below_last(mask: np.ndarray) -> np.ndarray:
    """True for the positions after the last True of ``mask`` (all when there is none)."""
    below = np.ones(len(mask), dtype=bool)
    hits = np.flatnonzero(mask)
    if len(hits):
        below[: hits[-1] + 1] = False
    return below


def _flags(values: np.ndarray | None, count: int) -> np.ndarray:
    if values is None:
        return np.zeros(count, dtype=bool)
    return np.asarray(values, dtype=bool)


NEVER_CLOSED = (
    'Close the quote (write a quote inside a field as ""), or save the file again from the '
    "spreadsheet, and send it again."
)


def check_cell_sizes(
    file: str,
    columns: Sequence[pd.Series],
    row_numbers: np.ndarray,
    limit: int,
    sheet: str = "",
) -> None:
    """Refuse a cell longer than ``limit`` characters: no manifest cell is (Excel's own cap is 32,767)."""
    for series in columns:
        # UTF-8 bytes are at least the characters: only count characters when bytes exceed
        if longest_bytes(series) <= limit:
            continue
        lengths = series.str.len().to_numpy(dtype=np.int64, na_value=0)
        if lengths.max() > limit:
            where = int(np.argmax(lengths > limit))
            size = (
                f"holds a cell of {int(lengths[where]):,} characters (at most {limit:,} are read)"
            )
            if not sheet and str(series.iloc[where]).count("\n") > 1:
                raise ManifestError(  # text: a quote opened here and never closed
                    file,
                    f"{size}: a quoted field that starts in this record never closes, and it "
                    "swallows the lines after it.",
                    todo=NEVER_CLOSED,
                    row=int(row_numbers[where]),
                )
            raise ManifestError(
                file,
                f"{size}.",
                todo="This is not a device manifest cell; check the file and send it again.",
                sheet=sheet,
                row=int(row_numbers[where]),
            )
