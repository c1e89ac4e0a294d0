"""``read_manifest``: one OEM/reseller manifest (CSV/TSV/TXT or workbook) to manifest rows."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from eidflow.errors import ManifestError
from parsers import container, isolate, text, workbook
from parsers.base import ManifestRead, Skipped, empty_rows
from parsers.columns import (
    PROFILE_HINT,
    NoEidColumn,
    alias_field,
    find_header,
    known_headers,
    map_columns,
    not_a_manifest,
    pick_profile,
    two_row_header,
)
from parsers.config import ParserSettings
from parsers.rows import TEXT_DTYPE, TableBody, check_cell_sizes, shape_rows


def read_manifest(
    name: str,
    data: bytes,
    settings: ParserSettings | None = None,
    *,
    profile: str | None = None,
    sha256: str | None = None,
    extra: Sequence[str] = (),
) -> ManifestRead:
    """Read one manifest; ``name`` is the file name as given (format by content, then extension).

    ``sha256``: the file's digest when the caller has it already (hashing 100 MB costs
    about a third of reading it); computed here otherwise. ``extra``: fields of
    ``schema.AUTOPILOT_FIELDS`` to read too; each becomes a column ("" where absent).
    """
    settings = settings or ParserSettings()
    kind = container.sniff(name, data)
    if kind == "text":
        read = _read_text(name, data, settings, profile, extra)
    else:
        if kind == "zip":
            fmt = container.check_zip_workbook(name, data, settings.max_uncompressed_bytes)
            if fmt == "xlsx" and container.extension(name) == "xlsm":
                fmt = "xlsm"
        else:
            container.check_cfb(name, data)
            fmt = "xls"
        read = _read_workbook(name, data, fmt, settings, profile, extra)
    for field in extra:  # a sheet without the column, or no such column: ""
        if field in read.rows.columns:
            read.rows[field] = read.rows[field].fillna("").astype(TEXT_DTYPE)
        else:
            read.rows[field] = pd.Series("", index=read.rows.index, dtype=TEXT_DTYPE)
    read.sha256 = sha256 or hashlib.sha256(data).hexdigest()
    return read


def _read_text(
    name: str,
    data: bytes,
    settings: ParserSettings,
    profile_name: str | None,
    extra: Sequence[str] = (),
) -> ManifestRead:
    def find(head: Sequence[Sequence[str]]) -> int | None:
        return find_header(head, settings, pick_profile(head, settings, profile_name, name))

    table = text.read_text_table(
        name,
        data,
        find,
        max_cell_chars=settings.max_cell_chars,
        head_records=settings.header_search_rows + 1,
    )
    if table is None:
        raise _no_table(name, text.first_records(name, data), settings)
    chosen = pick_profile([table.headers], settings, profile_name, name)
    fields = map_columns(table.headers, chosen, name, row=table.header_row, extra=extra)
    body = TableBody(
        {field: table.columns[index] for field, index in fields.items()},
        table.row_numbers,
        table.nonblank,
        header={field: table.headers[index] for field, index in fields.items()},
    )
    shaped = shape_rows(body, name, "")
    skipped = Skipped(
        blank_rows=shaped.blank_rows + table.blank_above,
        preamble_rows=table.header_row - 1 - table.blank_above + shaped.repeated_headers,
        footer_rows=shaped.footer_rows,
    )
    fmt = container.extension(name) if container.extension(name) in ("tsv", "txt") else "csv"
    return ManifestRead(name, "", shaped.rows, skipped, [], fmt)


def _read_workbook(
    name: str,
    data: bytes,
    fmt: str,
    settings: ParserSettings,
    profile_name: str | None,
    extra: Sequence[str] = (),
) -> ManifestRead:
    try:
        scan = isolate.run_isolated(
            _scan_workbook,
            name,
            data,
            settings,
            profile_name,
            tuple(extra),
            memory_bytes=settings.max_reader_memory_bytes,
            seconds=settings.max_reader_seconds,
        )
    except isolate.ReaderStopped as stopped:
        raise ManifestError(
            name,
            f"could not be read: {stopped}.",
            todo="Check that it is the real manifest; "
            + container.RESAVE[0].lower()
            + container.RESAVE[1:],
        ) from None
    skipped = Skipped(sheets_without_table=scan.sheets_without_table)
    frames: list[pd.DataFrame] = []
    for raw in scan.bodies:
        body = workbook.table_body(raw)
        columns = list(body.columns.values())
        check_cell_sizes(name, columns, body.row_numbers, settings.max_cell_chars, raw.sheet)
        shaped = shape_rows(body, name, raw.sheet)
        above = raw.head[: raw.header_index]
        titles = sum(1 for cells in above if any(cell.strip() for cell in cells))
        skipped.preamble_rows += titles + shaped.repeated_headers
        skipped.blank_rows += shaped.blank_rows + len(above) - titles
        skipped.footer_rows += shaped.footer_rows
        frames.append(shaped.rows)
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    sheets = [raw.sheet for raw in scan.bodies]
    read = ManifestRead(name, "", rows if len(rows) else empty_rows(), skipped, sheets, fmt)
    read.hidden_sheets = scan.hidden
    return read


@dataclass
class _WorkbookScan:
    bodies: list[workbook.RawBody]
    sheets_without_table: list[str]
    hidden: list[str]  # sheets holding a device table that Excel does not show


def _scan_workbook(
    name: str,
    data: bytes,
    settings: ParserSettings,
    profile_name: str | None,
    extra: tuple[str, ...] = (),
) -> _WorkbookScan:
    """Find each sheet's device table and take its columns (runs in the reader's child process)."""
    book = workbook.open_workbook(name, data)
    hidden = workbook.hidden_sheets(book)
    named = settings.profiles.get(profile_name) if profile_name else None
    bodies: list[workbook.RawBody] = []
    without_table: list[str] = []
    first_rows: list[list[str]] = []
    no_eid: NoEidColumn | None = None
    try:
        for grid in workbook.iter_sheets(name, book, only=named.sheet if named else ""):
            head = [
                workbook.header_cells(line) for line in grid.cells[: settings.header_search_rows]
            ]
            first_rows = first_rows or head
            chosen = pick_profile(head, settings, profile_name, name)
            index = find_header(head, settings, chosen, grid.first_row)
            two_rows = two_row_header(head, settings, chosen)
            if two_rows is not None and (index is None or not _holds_eid_and_serial(head[index])):
                index, cells = two_rows  # "Wireless identifiers" over "EID", "IMEI 1", …
                head = [*head[:index], cells, *head[index + 1 :]]
            if index is None:
                without_table.append(grid.name)
                continue
            header_row = grid.first_row + index
            try:
                fields = map_columns(
                    head[index], chosen, name, sheet=grid.name, row=header_row, extra=extra
                )
            except NoEidColumn as error:
                # another sheet may hold the devices (a returns or summary sheet has serials)
                no_eid = no_eid or error
                without_table.append(grid.name)
                continue
            bodies.append(workbook.raw_body(grid, head, index, fields))
    finally:
        book.close()
    if not bodies and no_eid is not None:
        raise no_eid
    if not bodies:
        raise _no_table(name, first_rows, settings, sheet_names=without_table)
    return _WorkbookScan(bodies, without_table, [b.sheet for b in bodies if b.sheet in hidden])


def _holds_eid_and_serial(cells: Sequence[str]) -> bool:
    found = {alias_field(cell) for cell in cells if cell.strip()}
    return {"eid", "serial"} <= found


def _no_table(
    name: str,
    first_rows: Sequence[Sequence[str]],
    settings: ParserSettings,
    sheet_names: Sequence[str] = (),
) -> ManifestError:
    export = not_a_manifest(name, first_rows)
    if export is not None:
        return export
    # What the file holds is never quoted: it may be no manifest at all (a password or key
    # file given by mistake, or through a link), and this message reaches summary.json,
    # report.xlsx and quarantine reasons. What eidflow looked for is said instead.
    known = known_headers([cell for row in first_rows for cell in row])
    seen = (
        f"of the headers eidflow knows, they hold {known}" if known else "nor any header it knows"
    )
    where = f" on any sheet ({', '.join(repr(s) for s in sheet_names)})" if sheet_names else ""
    return ManifestError(
        name,
        f"has no device table{where}: no header row with an EID column in the first "
        f"{settings.header_search_rows} rows ({seen}).",
        todo=PROFILE_HINT,
    )
