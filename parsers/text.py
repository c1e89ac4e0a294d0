"""Delimited text (CSV, TSV, TXT): delimiter from the header line, fast pyarrow read, precise fallback.

Row numbers are record numbers counting the first line as 1: a quoted field with line
breaks is one record, and an empty line is a (blank) record, as a spreadsheet shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from eidflow.errors import ManifestError
from parsers import records
from parsers.encoding import Decoded, decode
from parsers.rows import check_cell_sizes, holds_text

DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 16_384  # Excel's own limit; more columns than this is not a manifest
_BLOCK_SIZE = 4 << 20  # bytes per pyarrow block; a record longer than this goes the precise path

# Given the first records (as text cells), the 0-based index of the header, or None.
HeaderFinder = Callable[[Sequence[Sequence[str]]], "int | None"]


@dataclass
class TextTable:
    """A delimited file read below its header: every column as text."""

    headers: list[str]
    columns: list[pd.Series]  # by column index, text ("" when empty)
    row_numbers: np.ndarray  # int64, the record number a person sees
    nonblank: np.ndarray  # bool: the record holds something
    header_row: int  # 1-based record number of the header
    blank_above: int  # blank records among those above the header
    delimiter: str
    encoding: str


def read_text_table(
    file: str,
    data: bytes,
    find_header: HeaderFinder,
    *,
    max_cell_chars: int,
    head_records: int = records.HEAD_RECORDS,
) -> TextTable | None:
    """Read ``data`` below the header ``find_header`` picks among the first ``head_records``
    records; None when no header is found."""
    decoded = decode(file, data)
    choice = _choose_delimiter(file, decoded.head, find_header, head_records)
    if choice is None:
        return None
    delimiter, header_index, head = choice
    headers = list(head[header_index])
    if len(headers) > MAX_COLUMNS:
        raise ManifestError(
            file,
            f"has {len(headers):,} columns in its header row (a spreadsheet holds at most "
            f"{MAX_COLUMNS:,}).",
            todo="This is not a device manifest; check the file.",
            row=header_index + 1,
        )
    table = _read_fast(decoded, header_index, delimiter, len(headers))
    if (
        table is not None
        and table.num_rows
        and table.slice(0, 1).to_pylist()[0] != dict(zip(table.column_names, headers, strict=False))
    ):
        table = None  # the offset missed the header (a stray quote above it): read precisely
    if table is None:
        columns, row_numbers = records.read_precise(
            file, decoded.text(), delimiter, headers, header_index
        )
    else:
        # the fast path reads the header as its first record; drop it
        columns = [_to_series(table.column(i).slice(1)) for i in range(table.num_columns)]
        row_numbers = np.arange(2, table.num_rows + 1, dtype=np.int64)
    header_row = header_index + 1
    row_numbers = row_numbers + header_index
    check_cell_sizes(file, columns, row_numbers, max_cell_chars)
    nonblank = holds_text(columns, len(row_numbers))
    blank_above = sum(1 for cells in head[:header_index] if not any(c.strip() for c in cells))
    return TextTable(
        headers,
        columns,
        row_numbers,
        nonblank,
        header_row,
        blank_above,
        delimiter,
        decoded.encoding,
    )


def _choose_delimiter(
    file: str, text: str, find_header: HeaderFinder, head_records: int
) -> tuple[str, int, list[list[str]]] | None:
    """The delimiter under which a header is found, preferring the one that splits it most."""
    best: tuple[int, str, int, list[list[str]]] | None = None
    for delimiter in DELIMITERS:
        head = records.head_records(file, text, delimiter, head_records)
        index = find_header(head)
        if index is not None and (best is None or len(head[index]) > best[0]):
            best = (len(head[index]), delimiter, index, head)
    if best is None:
        return None
    return best[1], best[2], best[3]


def first_records(file: str, data: bytes) -> list[list[str]]:
    """The first records under the delimiter most frequent in the first line (for messages)."""
    text = decode(file, data).head
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    return records.head_records(file, text, delimiter)


def _read_fast(decoded: Decoded, header_index: int, delimiter: str, width: int) -> pa.Table | None:
    """pyarrow's multi-threaded reader from the header on; None when the precise path must read."""
    if decoded.is_utf8:
        offset = records.record_offset(decoded.head, header_index)
        start = decoded.bom_bytes + len(decoded.head[:offset].encode("utf-8"))
        body = pa.py_buffer(decoded.data).slice(start)
        table = _pyarrow_read(body, delimiter, width, decoded.data.find(b'"', start) != -1)
        if table is not _NOT_UTF8:
            return table
        decoded.text()  # not UTF-8 after all: Windows-1252 (or an error naming the byte)
        if decoded.is_utf8:
            return None
    text = decoded.text()
    encoded = text[records.record_offset(text, header_index) :].encode("utf-8")
    return _pyarrow_read(pa.py_buffer(encoded), delimiter, width, b'"' in encoded)


_NOT_UTF8 = pa.table({})


def _pyarrow_read(body: pa.Buffer, delimiter: str, width: int, quoted: bool) -> pa.Table | None:
    invalid: list[object] = []

    def on_invalid(row: object) -> str:
        invalid.append(row)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=_BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=quoted,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        return _NOT_UTF8 if "utf8" in str(error).casefold() else None
    except pa.ArrowException:
        return None
    return None if invalid else table


def _to_series(column: pa.ChunkedArray) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(column))  # zero-copy; dtype is TEXT_DTYPE
