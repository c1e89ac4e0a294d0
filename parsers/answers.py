"""``read_answers``: one operator answer file (CSV/TSV/TXT or workbook) to answer rows.

The same reader as manifests: the format from the bytes (``container``), the encoding and
delimiter of text (``text``), workbooks through calamine in a child process with a memory
cap and a deadline (``workbook``, ``isolate``), the header row searched for. A numeric
EID cell is flagged (``eid_numeric``) for the core to reject as ``eid_precision_lost``; a
numeric ICCID cell reads as the float's text (``8.9e+19``), which the ICCID rules refuse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from eidflow import schema
from eidflow.core import answer_codes as a
from eidflow.errors import ManifestError
from parsers import container, isolate, text, workbook
from parsers.answer_columns import (
    PROFILE_HINT,
    find_header,
    known_headers,
    map_columns,
    pick_profile,
)
from parsers.answer_config import ResponseProfile
from parsers.config import ParserSettings
from parsers.rows import TEXT_DTYPE, TableBody, check_cell_sizes, constant_text

# field of an answer table -> column of the answer frame
FIELD_COLUMN = {
    "eid": schema.EID_RAW,
    "status": a.OPERATOR_STATUS,
    "reason": a.OPERATOR_REASON,
    "iccid": a.ICCID_RAW,
    "smdp_address": a.SMDP_ADDRESS,
    "order_id": a.ORDER_ID,
    "answered_at": a.ANSWERED_AT,
}


@dataclass
class AnswerRead:
    """One answer file, read: its data rows as a frame of ``answer_codes.ANSWER_COLUMNS``."""

    source_file: str
    sha256: str
    rows: pd.DataFrame
    profile: ResponseProfile | None = None
    skipped: dict[str, object] = field(default_factory=dict)
    sheets: list[str] = field(default_factory=list)
    format: str = ""


def read_answers(
    name: str,
    data: bytes,
    settings: ParserSettings | None = None,
    *,
    profile: str = "",
) -> AnswerRead:
    """Read one answer file; ``profile``: the response profile to use if defined, else one
    whose ``recognise`` headers appear, else the built-in aliases."""
    settings = settings or ParserSettings()
    kind = container.sniff(name, data)
    sheets: list[str] = []
    if kind == "text":
        bodies, fmt = _read_text(name, data, settings, profile), "csv"
    else:
        if kind == "zip":
            fmt = container.check_zip_workbook(name, data, settings.max_uncompressed_bytes)
        else:
            container.check_cfb(name, data)
            fmt = "xls"
        bodies, sheets = _read_workbook(name, data, settings, profile)
    frames: list[pd.DataFrame] = []
    blank = other = 0
    for body, sheet, _ in bodies:
        frame, blank_here, other_here = _shape(body, name, sheet)
        frames.append(frame)
        blank, other = blank + blank_here, other + other_here
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    skipped = {"blank_rows": blank, "other_rows": other, "sheets_without_table": sheets}
    digest = hashlib.sha256(data).hexdigest()
    read_sheets = [sheet for _, sheet, _ in bodies if sheet]
    return AnswerRead(name, digest, rows, bodies[-1][2], skipped, read_sheets, fmt)


Body = tuple[TableBody, str, "ResponseProfile | None"]


def _read_text(name: str, data: bytes, settings: ParserSettings, profile: str) -> list[Body]:
    def find(head: Sequence[Sequence[str]]) -> int | None:
        return find_header(head, settings, pick_profile(head, settings, profile))

    table = text.read_text_table(
        name, data, find, max_cell_chars=settings.max_cell_chars,
        head_records=settings.header_search_rows + 1,
    )  # fmt: skip
    if table is None:
        raise _no_table(name, text.first_records(name, data), settings)
    chosen = pick_profile([table.headers], settings, profile)
    fields = map_columns(table.headers, chosen, name, "", table.header_row)
    body = TableBody(
        {f: table.columns[i] for f, i in fields.items()},
        table.row_numbers,
        table.nonblank,
        header={f: table.headers[i] for f, i in fields.items()},
    )
    return [(body, "", chosen)]


def _read_workbook(
    name: str, data: bytes, settings: ParserSettings, profile: str
) -> tuple[list[Body], list[str]]:
    try:
        raws, without, chosen = isolate.run_isolated(
            _scan_workbook, name, data, settings, profile,
            memory_bytes=settings.max_reader_memory_bytes, seconds=settings.max_reader_seconds,
        )  # fmt: skip
    except isolate.ReaderStopped as stopped:
        raise ManifestError(name, f"could not be read: {stopped}.", todo=container.RESAVE) from None
    bodies: list[Body] = []
    for raw in raws:
        body = workbook.table_body(raw)
        check_cell_sizes(
            name, list(body.columns.values()), body.row_numbers, settings.max_cell_chars, raw.sheet
        )
        bodies.append((body, raw.sheet, chosen))
    return bodies, without


def _scan_workbook(
    name: str, data: bytes, settings: ParserSettings, profile: str
) -> tuple[list[workbook.RawBody], list[str], ResponseProfile | None]:
    """Each sheet's answer table (runs in the reader's child process)."""
    book = workbook.open_workbook(name, data)
    named = settings.response_profiles.get(profile)
    raws: list[workbook.RawBody] = []
    without: list[str] = []
    first_rows: list[list[str]] = []
    chosen: ResponseProfile | None = None
    try:
        for grid in workbook.iter_sheets(name, book, only=named.sheet if named else ""):
            head = [
                workbook.header_cells(line) for line in grid.cells[: settings.header_search_rows]
            ]
            first_rows = first_rows or head
            chosen = pick_profile(head, settings, profile)
            index = find_header(head, settings, chosen, grid.first_row)
            if index is None:
                without.append(grid.name)
                continue
            fields = map_columns(head[index], chosen, name, grid.name, grid.first_row + index)
            raws.append(workbook.raw_body(grid, head, index, fields))
    finally:
        book.close()
    if not raws:
        raise _no_table(name, first_rows, settings, without)
    return raws, without, chosen


def _shape(body: TableBody, source_file: str, sheet: str) -> tuple[pd.DataFrame, int, int]:
    """The answer frame of a table's lines: ``(frame, blank lines, other lines)``.

    A line with nothing in the EID, status and ICCID columns (a note, a total) and the
    header repeated below itself are not rows; they are counted, never judged.
    """
    count = len(body.row_numbers)
    columns = {FIELD_COLUMN[f]: s.reset_index(drop=True) for f, s in body.columns.items()}

    def filled(column: str) -> np.ndarray:
        series = columns.get(column)
        if series is None:
            return np.zeros(count, dtype=bool)
        return (series.str.strip() != "").to_numpy(dtype=bool, na_value=False)

    answer_like = filled(schema.EID_RAW) | filled(a.OPERATOR_STATUS) | filled(a.ICCID_RAW)
    repeated = (columns[schema.EID_RAW] == body.header.get("eid", "\0")).to_numpy(dtype=bool)
    keep = answer_like & ~repeated
    nonblank = np.asarray(body.nonblank, dtype=bool)
    blank, other = int((~nonblank).sum()), int((nonblank & ~keep).sum())
    kept = int(keep.sum())
    flags = body.eid_numeric if body.eid_numeric is not None else np.zeros(count, dtype=bool)
    data: dict[str, object] = {
        schema.SOURCE_FILE: constant_text(source_file, kept),
        schema.SHEET: constant_text(sheet, kept),
        schema.ROW: np.asarray(body.row_numbers, dtype=np.int64)[keep],
        schema.EID_NUMERIC: np.asarray(flags, dtype=bool)[keep],
    }
    for column in (*a.ANSWER_FIELDS, schema.EID_RAW):
        series = columns.get(column)
        data[column] = (
            series[keep].reset_index(drop=True).astype(TEXT_DTYPE)
            if series is not None
            else constant_text("", kept)
        )
    return pd.DataFrame({c: data[c] for c in a.ANSWER_COLUMNS}), blank, other


def _no_table(
    name: str,
    first_rows: Sequence[Sequence[str]],
    settings: ParserSettings,
    sheet_names: Sequence[str] = (),
) -> ManifestError:
    # Never quote the file (it may be anything): say what eidflow looked for.
    known = known_headers([cell for row in first_rows for cell in row])
    seen = f"of the headers eidflow knows, it holds {known}" if known else "nor any header it knows"
    where = f" on any sheet ({', '.join(repr(s) for s in sheet_names)})" if sheet_names else ""
    return ManifestError(
        name,
        f"has no answer table{where}: no header row with an EID and a status column in the"
        f" first {settings.header_search_rows} rows ({seen}).",
        todo=PROFILE_HINT,
    )
