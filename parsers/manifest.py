"""``read_manifest``: one OEM/reseller manifest (CSV/TSV/TXT or workbook) to manifest rows."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pandas as pd

from eidflow.errors import ManifestError
from parsers import container, text, workbook
from parsers.base import ManifestRead, Skipped, empty_rows
from parsers.columns import PROFILE_HINT, NoEidColumn, find_header, map_columns, pick_profile
from parsers.config import ParserSettings
from parsers.rows import TableBody, check_cell_sizes, shape_rows


def read_manifest(
    name: str,
    data: bytes,
    settings: ParserSettings | None = None,
    *,
    profile: str | None = None,
    sha256: str | None = None,
) -> ManifestRead:
    """Read one manifest; ``name`` is the file name as given (format by content, then extension).

    ``sha256``: the file's digest when the caller has it already (hashing 100 MB costs
    about a third of reading it); computed here otherwise.
    """
    settings = settings or ParserSettings()
    kind = container.sniff(name, data)
    if kind == "text":
        read = _read_text(name, data, settings, profile)
    else:
        if kind == "zip":
            fmt = container.check_zip_workbook(name, data, settings.max_uncompressed_bytes)
            if fmt == "xlsx" and container.extension(name) == "xlsm":
                fmt = "xlsm"
        else:
            container.check_cfb(name, data)
            fmt = "xls"
        read = _read_workbook(name, data, fmt, settings, profile)
    read.sha256 = sha256 or hashlib.sha256(data).hexdigest()
    return read


def _read_text(
    name: str, data: bytes, settings: ParserSettings, profile_name: str | None
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
    fields = map_columns(table.headers, chosen, name, row=table.header_row)
    body = TableBody(
        {field: table.columns[index] for field, index in fields.items()},
        table.row_numbers,
        table.nonblank,
    )
    shaped = shape_rows(body, name, "")
    skipped = Skipped(
        blank_rows=shaped.blank_rows,
        preamble_rows=table.header_row - 1,
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
) -> ManifestRead:
    book = workbook.open_workbook(name, data)
    named = settings.profiles.get(profile_name) if profile_name else None
    skipped = Skipped()
    frames: list[pd.DataFrame] = []
    sheets: list[str] = []
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
            if index is None:
                skipped.sheets_without_table.append(grid.name)
                continue
            header_row = grid.first_row + index
            try:
                fields = map_columns(head[index], chosen, name, sheet=grid.name, row=header_row)
            except NoEidColumn as error:
                # another sheet may hold the devices (a returns or summary sheet has serials)
                no_eid = no_eid or error
                skipped.sheets_without_table.append(grid.name)
                continue
            body = workbook.body_of(grid, index, fields)
            check_cell_sizes(
                name,
                list(body.columns.values()),
                body.row_numbers,
                settings.max_cell_chars,
                grid.name,
            )
            shaped = shape_rows(body, name, grid.name)
            above = head[:index]
            skipped.preamble_rows += sum(1 for cells in above if any(c.strip() for c in cells))
            skipped.blank_rows += shaped.blank_rows + sum(
                1 for cells in above if not any(c.strip() for c in cells)
            )
            skipped.footer_rows += shaped.footer_rows
            frames.append(shaped.rows)
            sheets.append(grid.name)
    finally:
        book.close()
    if not sheets and no_eid is not None:
        raise no_eid
    if not sheets:
        raise _no_table(name, first_rows, settings, sheet_names=skipped.sheets_without_table)
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return ManifestRead(name, "", rows if len(rows) else empty_rows(), skipped, sheets, fmt)


def _no_table(
    name: str,
    first_rows: Sequence[Sequence[str]],
    settings: ParserSettings,
    sheet_names: Sequence[str] = (),
) -> ManifestError:
    seen = next((row for row in first_rows if any(str(c).strip() for c in row)), [])
    shown = ", ".join(repr(c) for c in seen if str(c).strip())[:400] or "nothing"
    where = f" on any sheet ({', '.join(repr(s) for s in sheet_names)})" if sheet_names else ""
    return ManifestError(
        name,
        f"has no device table{where}: no header row with an EID column in the first "
        f"{settings.header_search_rows} rows (first line seen: {shown}).",
        todo=PROFILE_HINT,
    )
