"""A small XLSX writer where text stays text: every cell an inline string styled ``@``.

Why not xlsxwriter: it writes cell by cell in Python, about 3-4 µs a cell here, so a
report sheet of 100,000 rows x 14 columns took 6 s. This writer builds each sheet's XML
column-wise with pyarrow and streams it into the zip: the same sheet takes well under a
second, with flat memory (chunks of ``CHUNK_ROWS``).

What it writes is the subset of SpreadsheetML that Excel, LibreOffice and openpyxl all
read: text as strings (a table's column whose values repeat, such as a status, a reason or
a sentence, in the workbook's shared strings as Excel writes them; other text inline,
``t="inlineStr"``), integers as numbers, no formulas ever (there is no way to write one),
a bold header row, frozen panes and an autofilter. Callers neutralise text first
(``exporters.safe``) so that a copied-out value stays inert too.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exporters.safe import text_array
from exporters.xlsx_chart import (
    CHART_TYPE,
    DRAWING_TYPE,
    BarChart,
    chart_xml,
    drawing_xml,
    quoted_sheet,
    relationships,
    xml_text,
)

CHUNK_ROWS = 50_000
# A table's text column goes to the shared strings when its rows hold at most one distinct
# value per this many: a report's 20,000 accepted rows repeat a handful of statuses,
# states and sentences, and their sheet's XML was half as long (and its zip half the work).
SHARED_FROM_REPEATS = 4
MAX_ROWS = 1_048_576
MAX_CELL_CHARS = 32_767  # Excel's limit for the text of one cell
STYLE_TEXT, STYLE_HEADER, STYLE_NOTE, STYLE_WRAP = 1, 2, 3, 4  # WRAP: text, wrapped
# XML 1.0 forbids these control characters; a spreadsheet cell cannot hold them anyway.
_ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"  # RE2 syntax
_NEEDS_ESCAPE = r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]|_x"
_NEEDS_ESCAPE_ONE = re.compile(
    "[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x"
)  # the same, for one value
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'

Line = tuple[Sequence[Any], int]  # values of one row, and its style


class TextWorkbook:
    """Sheets are written in the order they are added; the workbook is complete on close."""

    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sheets: list[tuple[str, int, int | None]] = []  # name, columns, last filtered row
        self._charts: list[tuple[int, BarChart]] = []  # sheet number, its chart
        self._shared: dict[str, int] = {}  # escaped text: its index in the shared strings
        self._shared_cells = 0  # the cells that refer to them

    def __enter__(self) -> TextWorkbook:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self._write_package()
        self._zip.close()

    def add_table(
        self, name: str, frame: pd.DataFrame | pa.Table, note: str = "", *, header: bool = True
    ) -> None:
        """A sheet holding ``frame`` under a bold header row, filterable, header frozen.

        ``header=False``: the data rows alone, from row 1. An Arrow table's columns are
        written as they are: integers as numbers, text as text (neutralised already).
        """
        headers, columns = _columns(frame)
        widths = [
            _width(str(h) if header else "", values)
            for h, values in zip(headers, columns, strict=True)
        ]
        rows = len(frame)
        first = 2 if header else 1
        last_row = rows + first - 1
        count = len(columns) if header else 0  # no header, no filter
        written = [self._shared_or_inline(values) for values in columns]
        with self._zip.open(self._next_sheet(name, count, last_row), "w") as sheet:
            sheet.write(_sheet_start(widths, frozen=header).encode())
            if header:
                sheet.write(_row_xml(1, [str(h) for h in headers], STYLE_HEADER).encode())
            for start in range(0, rows, CHUNK_ROWS):
                chunk = [values.slice(start, CHUNK_ROWS) for values in written]
                sheet.write(_rows_xml(chunk, start + first))
            if note:
                sheet.write(_row_xml(last_row + 2, [note], STYLE_NOTE).encode())
            end = _sheet_end(len(columns), last_row) if header else _SHEET_END_PLAIN
            sheet.write(end.encode())

    def add_lines(
        self,
        name: str,
        lines: list[Line],
        widths: Sequence[float] = (),
        chart: BarChart | None = None,
    ) -> None:
        """A free-form sheet (the summary): each line's values in columns A, B, …; with
        ``chart``, a native bar chart over some of its cells."""
        self._next_sheet(name, 0, None)
        body = [_sheet_start(list(widths), frozen=False)]
        body += [
            _row_xml(number, values, style, _height(values, widths) if style == STYLE_WRAP else 0)
            for number, (values, style) in enumerate(lines, 1)
        ]
        if chart is not None:
            self._charts.append((len(self._sheets), chart))
            body.append('</sheetData><drawing r:id="rId1"/></worksheet>')
        else:
            body.append(_SHEET_END_PLAIN)
        self._zip.writestr(f"xl/worksheets/sheet{len(self._sheets)}.xml", "".join(body))

    def _shared_or_inline(self, values: pa.Array) -> pa.Array | _Shared:
        """A text column whose values repeat as indices into the shared strings (each
        distinct value escaped once); any other column as it is."""
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return values
        if len(values) < SHARED_FROM_REPEATS:
            return values
        encoded = pc.dictionary_encode(values)
        if len(encoded.dictionary) * SHARED_FROM_REPEATS > len(values):
            return values
        texts = encoded.dictionary
        escaped = _escape(texts).to_pylist()
        ids = [
            -1 if text == "" else self._shared.setdefault(value, len(self._shared))
            for text, value in zip(texts.to_pylist(), escaped, strict=True)
        ]
        found = pc.fill_null(pa.array(ids, pa.int64()).take(encoded.indices), -1)
        self._shared_cells += len(found) - int(pc.sum(pc.equal(found, -1)).as_py() or 0)
        return _Shared(found)

    def _next_sheet(self, name: str, columns: int, last_row: int | None) -> str:
        if last_row is not None and last_row > MAX_ROWS:
            raise ValueError(f"sheet {name!r}: {last_row} rows exceed the XLSX limit {MAX_ROWS}")
        taken = {sheet[0].lower() for sheet in self._sheets}
        unique = base = _sheet_name(name)
        for number in range(2, 1000):
            if unique.lower() not in taken:
                break
            unique = f"{base[: 31 - len(str(number)) - 1]}~{number}"
        self._sheets.append((unique, columns, last_row if columns else None))
        return f"xl/worksheets/sheet{len(self._sheets)}.xml"

    def _write_package(self) -> None:
        count = len(self._sheets)
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, count + 1)
        )
        sheets += self._write_charts()
        if self._shared:
            sheets += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/>'
            self._zip.writestr("xl/sharedStrings.xml", self._shared_strings_xml())
        self._zip.writestr("[Content_Types].xml", _CONTENT_TYPES.format(sheets=sheets))
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.writestr("xl/workbook.xml", _workbook_xml(self._sheets))
        rels = "".join(
            f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, count + 1)
        )
        styles = (
            f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        )
        if self._shared:
            styles += (
                f'<Relationship Id="rId{count + 2}" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            )
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
            f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}{styles}'
            "</Relationships>",
        )

    def _shared_strings_xml(self) -> str:
        items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in self._shared)
        return (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {_NS}'
            f' count="{self._shared_cells}" uniqueCount="{len(self._shared)}">{items}</sst>'
        )

    def _write_charts(self) -> str:
        """Each chart's parts (drawing, chart, relationships); their content-type entries."""
        types = []
        for number, (sheet, chart) in enumerate(self._charts, 1):
            name = self._sheets[sheet - 1][0]
            self._zip.writestr(
                f"xl/worksheets/_rels/sheet{sheet}.xml.rels",
                relationships("drawing", f"../drawings/drawing{number}.xml"),
            )
            self._zip.writestr(f"xl/drawings/drawing{number}.xml", drawing_xml(chart))
            self._zip.writestr(
                f"xl/drawings/_rels/drawing{number}.xml.rels",
                relationships("chart", f"../charts/chart{number}.xml"),
            )
            self._zip.writestr(f"xl/charts/chart{number}.xml", chart_xml(chart, name))
            types.append(
                f'<Override PartName="/xl/drawings/drawing{number}.xml"'
                f' ContentType="{DRAWING_TYPE}"/><Override PartName="/xl/charts/chart{number}.xml"'
                f' ContentType="{CHART_TYPE}"/>'
            )
        return "".join(types)


class _Shared:
    """A text column as indices into the workbook's shared strings (``-1``: no cell)."""

    def __init__(self, ids: pa.Array) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, length: int) -> _Shared:
        return _Shared(self.ids.slice(start, length))


def fitted_widths(lines: Sequence[Line], cap: float = 70, least: float = 10) -> list[float]:
    """Column widths for free-form lines: the longest value of each column (notes and
    one-cell titles aside, they may run on), within ``least`` and ``cap``; longer text
    wraps (``STYLE_WRAP``). A 64-character sha256 fits the default cap."""
    widths: list[float] = []
    for values, style in lines:
        if style == STYLE_NOTE or len(values) < 2:
            continue
        for index, value in enumerate(values):
            if index == len(widths):
                widths.append(least)
            widths[index] = max(widths[index], min(len(str(value)) + 2, cap))
    return widths


def write_text_sheet(path: Path, sheets: dict[str, pd.DataFrame], *, header: bool = True) -> None:
    """A workbook of plain tables, one per sheet, every cell text."""
    with TextWorkbook(path) as book:
        for name, frame in sheets.items():
            book.add_table(name, frame, header=header)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _columns(frame: pd.DataFrame | pa.Table) -> tuple[list[Any], list[pa.Array]]:
    """Headers and cell values, column by column (by position: headers may repeat):
    integers without gaps as numbers, everything else as its text."""
    if isinstance(frame, pa.Table):
        return frame.column_names, [column.combine_chunks() for column in frame.columns]
    columns = []
    for index in range(len(frame.columns)):
        column = frame.iloc[:, index]
        if pd.api.types.is_integer_dtype(column) and not column.hasnans:
            columns.append(pa.array(column.to_numpy(dtype="int64")))
        else:
            columns.append(text_array(column))
    return list(frame.columns), columns


def _rows_xml(columns: Sequence[pa.Array | _Shared], first_row: int) -> bytes:
    """``<row>`` elements for a chunk of the columns' rows, built column-wise."""
    rows = len(columns[0]) if columns else 0
    numbers = pa.array(range(first_row, first_row + rows)).cast(pa.string())
    parts: list[Any] = ['<row r="', numbers, '">']
    for index, values in enumerate(columns):
        parts.append(_cells(values, column_letter(index), numbers))
    parts.append("</row>")
    return _joined(pc.binary_join_element_wise(*parts, ""))


def _joined(values: pa.Array | pa.ChunkedArray) -> bytes:
    """The UTF-8 of a string array's values end to end, straight from its data buffer."""
    if not len(values):
        return b""
    if isinstance(values, pa.ChunkedArray):  # a column concatenated from several manifests
        values = values.combine_chunks()
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=width)
    first, last = offsets[values.offset], offsets[values.offset + len(values)]
    return values.buffers()[2][first:last].to_pybytes()


def _cells(values: pa.Array | _Shared, letter: str, numbers: pa.Array) -> pa.Array:
    """One cell element per row; ``""`` (no cell) for empty text."""
    if isinstance(values, _Shared):
        cells = pc.binary_join_element_wise(
            f'<c r="{letter}',
            numbers,
            f'" s="{STYLE_TEXT}" t="s"><v>',
            values.ids.cast(pa.string()),
            "</v></c>",
            "",
        )
        return pc.if_else(pc.equal(values.ids, -1), "", cells)
    if pa.types.is_integer(values.type):
        return pc.binary_join_element_wise(
            f'<c r="{letter}', numbers, '"><v>', values.cast(pa.string()), "</v></c>", ""
        )
    escaped = _escape(values)
    cells = pc.binary_join_element_wise(
        f'<c r="{letter}',
        numbers,
        f'" s="{STYLE_TEXT}" t="inlineStr"><is><t xml:space="preserve">',
        escaped,
        "</t></is></c>",
        "",
    )
    return pc.if_else(pc.equal(values, ""), "", cells)


def _escape(text: pa.Array) -> pa.Array:
    too_long = (pc.max(pc.utf8_length(text)).as_py() or 0) > MAX_CELL_CHARS
    if not too_long and not pc.any(pc.match_substring_regex(text, _NEEDS_ESCAPE)).as_py():
        return text  # identifiers and most text: two passes instead of seven
    text = pc.utf8_slice_codeunits(text, 0, MAX_CELL_CHARS)
    text = pc.replace_substring(text, "&", "&amp;")
    text = pc.replace_substring(text, "<", "&lt;")
    text = pc.replace_substring(text, ">", "&gt;")
    text = pc.replace_substring(text, "\r", "&#13;")  # a parser would turn a bare CR into LF
    # Excel reads "_xHHHH_" in a string as an escaped character: escape its underscore.
    text = pc.replace_substring_regex(text, r"_(x[0-9A-Fa-f]{4}_)", r"_x005F_\1")
    return pc.replace_substring_regex(text, _ILLEGAL_XML, "\ufffd")


def _height(values: Sequence[Any], widths: Sequence[float]) -> float:
    """The height a wrapped line needs (points), ``0`` for one line of text: a viewer does
    not grow a row for wrapped text by itself. About a character a unit of width, less
    the margins, and a little lost to breaking at spaces."""
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if isinstance(value, str) and len(value) > width - 2:
            lines = max(lines, math.ceil(len(value) * 1.15 / max(width - 2, 1)))
    return 15.0 * lines if lines > 1 else 0


def _row_xml(number: int, values: Sequence[Any], style: int, height: float = 0) -> str:
    cells = []
    for index, value in enumerate(values):
        ref = f"{column_letter(index)}{number}"
        if isinstance(value, int) and not isinstance(value, bool):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        elif value is not None and str(value) != "":
            text = str(value)
            if len(text) > MAX_CELL_CHARS or _NEEDS_ESCAPE_ONE.search(text):
                text = _escape(pa.array([text]))[0].as_py()
            cells.append(
                f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{text}'
                "</t></is></c>"
            )
    tall = f' ht="{height}" customHeight="1"' if height else ""
    return f'<row r="{number}"{tall}>{"".join(cells)}</row>'


def _sheet_start(widths: list[float], *, frozen: bool) -> str:
    pane = (
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        if frozen
        else ""
    )
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{width}" style="{STYLE_TEXT}" customWidth="1"/>'
        for n, width in enumerate(widths, 1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_NS_R}>'
        f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )


_SHEET_END_PLAIN = "</sheetData></worksheet>"


def _sheet_end(columns: int, last_row: int) -> str:
    ref = f"A1:{column_letter(max(columns, 1) - 1)}{last_row}"
    return f'</sheetData><autoFilter ref="{ref}"/></worksheet>'


def _workbook_xml(sheets: list[tuple[str, int, int | None]]) -> str:
    entries = "".join(
        f'<sheet name="{xml_text(name).replace(chr(34), "&quot;")}" sheetId="{n}" r:id="rId{n}"/>'
        for n, (name, _, _) in enumerate(sheets, 1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"{quoted_sheet(name)}!$A$1:"
        f"${column_letter(max(columns, 1) - 1)}${rows}</definedName>"
        for n, (name, columns, rows) in enumerate(sheets)
        if rows is not None
    )
    names = f"<definedNames>{filters}</definedNames>" if filters else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS} {_NS_R}>'
        f"<bookViews><workbookView/></bookViews><sheets>{entries}</sheets>{names}</workbook>"
    )


def _sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join("_" if char in "[]:*?/\\" else char for char in name).strip("'")
    return (cleaned or "sheet")[:31]


def _width(header: str, values: pa.Array) -> float:
    sample = values.slice(0, 200)
    if not pa.types.is_string(sample.type):
        sample = sample.cast(pa.string())
    longest = pc.max(pc.utf8_length(sample)).as_py() or 0
    return float(min(max(len(header), longest) + 2, 60))


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>{sheets}'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/></Types>'
)
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
# cellXfs: 0 General, 1 text (@, built-in numFmtId 49), 2 bold text, 3 italic text,
# 4 text wrapped within its column's width.
_STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet {_NS}>'
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font>'
    '<font><i/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" '
    'applyFont="1"/>'
    '<xf numFmtId="49" fontId="2" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" '
    'applyFont="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" '
    'applyAlignment="1"><alignment wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
