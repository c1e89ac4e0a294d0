"""Delimited text record by record with Python's csv module: the head of a file, and the
precise path that names the exact bad record when the fast reader cannot read a file."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from eidflow.errors import ManifestError
from parsers.encoding import SAVE_AS_CSV
from parsers.rows import NEVER_CLOSED, TEXT_DTYPE

HEAD_RECORDS = 40  # records parsed up front to find the delimiter and the header
_LINE_END = re.compile(r"\r\n|\r|\n")


def lines(text: str) -> Iterator[str]:
    """Physical lines with their endings (CR LF, LF or CR), lazily: the head of a
    1 GB file costs what the head costs."""
    start = 0
    for match in _LINE_END.finditer(text):
        yield text[start : match.end()]
        start = match.end()
    if start < len(text):
        yield text[start:]


def head_records(
    file: str, text: str, delimiter: str, limit: int = HEAD_RECORDS
) -> list[list[str]]:
    reader = csv.reader(lines(text), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
            if len(records) >= limit:
                break
    except csv.Error as error:
        raise ManifestError(
            file,
            f"cannot be read as delimited text near record {reader.line_num} ({error}).",
            todo=SAVE_AS_CSV,
        ) from None
    return records


def record_offset(text: str, index: int) -> int:
    """Character offset where record ``index`` (0-based) starts.

    A record ends at a line break outside quotes; doubled quotes inside a field keep the
    count even, so counting quotes per physical line is exact for RFC 4180 text.
    """
    if index == 0:
        return 0
    consumed = 0
    quotes = 0
    records = 0
    for line in lines(text):
        consumed += len(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            records += 1
            quotes = 0
            if records == index:
                return consumed
    return len(text)


def read_precise(
    file: str, text: str, delimiter: str, headers: list[str], header_index: int
) -> tuple[list[pd.Series], np.ndarray]:
    """Python's csv module, record by record: slow, but names the exact bad record.

    Row numbers come back relative to the header (first data record = 2).
    """
    width = len(headers)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    cells: list[list[str]] = [[] for _ in range(width)]
    count = 0
    try:
        for _ in range(header_index + 1):  # the preamble and the header
            next(reader, None)
        for record_index, record in enumerate(reader, start=header_index + 2):
            if len(record) > width and any(cell.strip() for cell in record[width:]):
                raise ManifestError(
                    file,
                    f"has {len(record)} fields where the header has {width}.",
                    todo="Quote fields that contain the delimiter, or fix the line, and send it again.",
                    row=record_index,
                )
            record = record[:width] + [""] * (width - len(record))
            for column, cell in zip(cells, record, strict=True):
                column.append(cell)
            count += 1
    except csv.Error as error:
        raise _unreadable_record(file, error, header_index + 2 + count) from None
    series = [pd.Series(column, dtype=TEXT_DTYPE) for column in cells]
    return series, np.arange(2, count + 2, dtype=np.int64)


def _unreadable_record(file: str, error: csv.Error, record: int) -> ManifestError:
    """Name the record where reading failed: the one being read, where it starts.

    A field over the csv module's size limit is, in a manifest, a quote that opens and
    never closes: the field swallowed the lines after it.
    """
    if "field larger than field limit" in str(error):
        return ManifestError(
            file,
            "a quoted field that starts in this record never closes, and it swallows the "
            "lines after it.",
            todo=NEVER_CLOSED,
            row=record,
        )
    return ManifestError(
        file, f"cannot be read as delimited text ({error}).", todo=SAVE_AS_CSV, row=record
    )
