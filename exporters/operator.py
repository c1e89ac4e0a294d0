"""Operator hand-off files: which operator gets each row, and the files in its template.

A profile (``exporters.config.OperatorProfile``) fixes the columns (row fields or
constants), the headers, CSV or XLSX, rows per file and the file names. Every value
is written as text: EIDs, IMEIs and account numbers keep every digit and leading zero.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from eidflow import schema
from eidflow.identifiers.columns import imei_check, repeated_digit
from exporters.config import OperatorMatch, OperatorProfile
from exporters.files import OutputFile, atomic_path, sha256_file
from exporters.safe import neutralise, neutralise_text
from exporters.xlsx import write_text_sheet

XLSX_MAX_DATA_ROWS = 1_048_575  # a worksheet holds 1,048,576 rows, one is the header


def route(accepted: pd.DataFrame, operators: list[OperatorProfile]) -> pd.Series:
    """The operator name for each row: the first profile whose ``match`` takes it.

    A profile without ``match`` criteria takes every row still unrouted; rows no profile
    takes go to the first profile.
    """
    if not operators:
        raise ValueError("route() needs at least one operator profile")
    names = pd.Series("", index=accepted.index, dtype="string")
    for profile in operators:
        free = names == ""
        if not free.any():
            break
        names = names.where(~(free & _matches(accepted, profile.match)), profile.name)
    return names.where(names != "", operators[0].name)


def _matches(rows: pd.DataFrame, match: OperatorMatch) -> pd.Series:
    if match.catch_all:
        return pd.Series(True, index=rows.index)
    hit = pd.Series(False, index=rows.index)
    if match.source_files:
        hit |= _glob_column(rows, schema.SOURCE_FILE, match.source_files, _file_names)
    if match.po_numbers:
        hit |= _glob_column(rows, schema.PO_NUMBER, match.po_numbers, lambda value: [value])
    return hit


def _glob_column(
    rows: pd.DataFrame, column: str, patterns: list[str], forms: Callable[[str], list[str]]
) -> pd.Series:
    """Whether each row's ``column`` matches a pattern; each distinct value is tested once."""
    if column not in rows.columns:
        return pd.Series(False, index=rows.index)
    values = rows[column].astype("string").fillna("")
    lowered = [pattern.lower() for pattern in patterns]
    verdict = {
        value: any(
            fnmatch.fnmatchcase(form.lower(), pattern)
            for form in forms(value)
            for pattern in lowered
        )
        for value in values.unique()
    }
    return values.map(verdict).astype(bool)


def _file_names(value: str) -> list[str]:
    """A source file as given and its bare name (paths and s3:// URLs)."""
    return [value, value.replace("\\", "/").rsplit("/", 1)[-1]]


def write_operator_files(
    handoff: pd.DataFrame,
    profile: OperatorProfile,
    run_dir: Path,
    run_id: str,
    *,
    today: datetime | None = None,
) -> list[OutputFile]:
    """Write ``handoff`` in the profile's template under ``run_dir/operator/<name>/``.

    No rows, no file. Files are atomic; returns them in part order.
    """
    if handoff.empty:
        return []
    table = operator_table(handoff, profile)
    del handoff  # a million rows' copy, not needed beside the table (peak memory)
    folder = run_dir / "operator" / profile.name
    date = (today or datetime.now(UTC)).strftime("%Y%m%d")
    parts = list(_parts(table, profile))
    written = []
    for number, part in enumerate(parts, start=1):
        name = file_name(profile, run_id=run_id, date=date, part=number, parts=len(parts))
        path = folder / name
        with atomic_path(path) as tmp:
            if profile.format == "xlsx":
                write_text_sheet(
                    tmp, {profile.sheet_name or profile.name: part}, header=profile.header
                )
            else:
                _write_csv(part, tmp, profile)
        written.append(
            OutputFile(
                path=path.relative_to(run_dir).as_posix(),
                rows=len(part),
                sha256=sha256_file(path),
                kind="operator",
            )
        )
    return written


def operator_table(handoff: pd.DataFrame, profile: OperatorProfile) -> pd.DataFrame:
    """The profile's columns, in order, under their headers; every value text and inert."""
    columns: dict[str, pd.Series] = {}
    for position, column in enumerate(profile.columns):
        if column.value is not None:
            values = pd.Series(column.value, index=handoff.index, dtype="string")
        elif column.field in handoff.columns:
            values = handoff[column.field].astype("string").fillna("")
            if column.field in (schema.IMEI, schema.IMEI2):
                values = _valid_imeis(values)
        else:
            values = pd.Series("", index=handoff.index, dtype="string")
        columns[f"{position}"] = neutralise(values)
    table = pd.DataFrame(columns).reset_index(drop=True)
    table.columns = [neutralise_text(column.header) for column in profile.columns]
    return table


def _valid_imeis(values: pd.Series) -> pd.Series:
    """The IMEIs that are 15 digits with their check digit and no placeholder; the others empty.

    decisions.csv keeps a wrong IMEI with its warning; the operator is never sent one
    (a portal that checks IMEIs would refuse the line, or the file): the EID is what
    the profile is bound to.
    """
    imei, valid, _ = imei_check(values)
    sendable = valid & ~repeated_digit(imei)  # a placeholder passes the Luhn check
    return values.where(sendable.to_numpy(dtype=bool), "")


def file_name(profile: OperatorProfile, *, run_id: str, date: str, part: int, parts: int) -> str:
    """The file name for one part of the run's file (:meth:`OperatorProfile.name_for`)."""
    return profile.name_for(run_id=run_id, date=date, part=part, parts=parts)


def _parts(table: pd.DataFrame, profile: OperatorProfile) -> Iterator[pd.DataFrame]:
    size = profile.rows_per_file or len(table)
    if profile.format == "xlsx":
        size = min(size, XLSX_MAX_DATA_ROWS)
    for start in range(0, len(table), size):
        yield table.iloc[start : start + size]


def _write_csv(table: pd.DataFrame, path: Path, profile: OperatorProfile) -> None:
    # Characters the encoding cannot hold (e.g. CJK in cp1252) become "?"; identifiers are ASCII.
    if not _plain_csv(table, profile, path):
        pandas_csv(table, path, profile)


def pandas_csv(table: pd.DataFrame, path: Path, profile: OperatorProfile) -> None:
    """The csv module's way (through pandas): the bytes the fast path must reproduce.

    The csv module quotes a field holding a character of its line terminator: with
    ``"\n"`` it would leave a lone CR bare, which ends the record for a reader. So a
    table holding a CR is written with ``"\r\n"`` and its record ends made LF.
    """
    options: dict[str, Any] = {
        "index": False,
        "header": profile.header,
        "quoting": csv.QUOTE_ALL if profile.quote_all else csv.QUOTE_MINIMAL,
        "sep": profile.delimiter,
    }
    end = _line_end(profile)
    if end == "\r\n" or not _holds_cr(table, profile.header):
        table.to_csv(
            path, encoding=profile.encoding, errors="replace", lineterminator=end, **options
        )
        return
    text = _lf_records(table.to_csv(lineterminator="\r\n", **options))
    path.write_bytes(text.encode(profile.encoding, errors="replace"))


def _holds_cr(table: pd.DataFrame, header: bool) -> bool:
    headers = [str(name) for name in table.columns] if header else []
    return any("\r" in name for name in headers) or any(
        pc.any(pc.match_substring(_arrow_text(table.iloc[:, i]), "\r")).as_py()
        for i in range(table.shape[1])
    )


def _lf_records(text: str) -> str:
    """CSV text with CRLF record ends, with LF ones; line breaks inside values are kept.

    Every value holding a CR or LF is quoted, so outside quotes (the even pieces between
    ``"``; a doubled quote makes an empty piece) a CRLF can only end a record.
    """
    pieces = text.split('"')
    pieces[::2] = [piece.replace("\r\n", "\n") for piece in pieces[::2]]
    return '"'.join(pieces)


def _line_end(profile: OperatorProfile) -> str:
    return "\r\n" if profile.line_ending == "crlf" else "\n"


def _plain_csv(table: pd.DataFrame, profile: OperatorProfile, path: Path) -> bool:
    """Write at ``path`` the bytes ``DataFrame.to_csv`` writes, from pyarrow's CSV writer (a
    tenth of the time); UTF-8 straight into the file (the bytes of a million rows held
    twice were the run's peak memory).

    The csv module quotes a value (QUOTE_MINIMAL) only for the delimiter, a quote or a line
    break, and a row of one empty field; pyarrow's ``quoting_style="none"`` refuses exactly
    those characters, so whatever it writes is what the csv module would. QUOTE_ALL is
    pyarrow's ``"all_valid"`` (quotes doubled the same way). False when pyarrow cannot say
    the same bytes: the caller writes with pandas (over what was written).
    """
    delimiter, quote = profile.delimiter, '"' if profile.quote_all else ""
    headers = [str(header) for header in table.columns] if profile.header else []
    columns = [_arrow_text(table.iloc[:, i]) for i in range(table.shape[1])]  # headers may repeat
    lone_empty = len(columns) == 1 and ("" in headers or pc.any(pc.equal(columns[0], "")).as_py())
    if (
        not columns
        or not delimiter.isascii()
        or any(column.null_count for column in columns)
        or any(char in header for header in headers for char in delimiter + '"\r\n')
        or (lone_empty and not quote)
    ):
        return False
    end = _line_end(profile)
    options = pa_csv.WriteOptions(
        include_header=False,
        delimiter=delimiter,
        eol=end,
        quoting_style="all_valid" if quote else "none",
    )
    head = (
        (delimiter.join(f"{quote}{header}{quote}" for header in headers) + end) if headers else ""
    )
    utf8 = codecs.lookup(profile.encoding).name == "utf-8"
    with path.open("wb") as handle:
        body: IO[bytes] = handle if utf8 else io.BytesIO()
        body.write(head.encode("utf-8"))
        try:
            pa_csv.write_csv(
                pa.table({str(i): column for i, column in enumerate(columns)}), body, options
            )
        except pa.ArrowInvalid:  # a value the csv module would quote
            return False
        if isinstance(body, io.BytesIO):  # another encoding: transcoded from UTF-8
            text = body.getvalue().decode("utf-8")
            handle.write(text.encode(profile.encoding, errors="replace"))
    return True


def _arrow_text(column: pd.Series) -> pa.Array:
    values = pa.array(column, type=pa.large_string())
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
