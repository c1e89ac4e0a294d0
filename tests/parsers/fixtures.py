"""Small fixture files built by the tests themselves (no binaries in git)."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl

VALID_EID = "89049032123451234512345678901235"
VALID_IMEI = "356938035643809"


def xlsx_bytes(sheets: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    """A workbook with one sheet per entry; ``None`` is an empty cell."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, lines in sheets.items():
        sheet = book.create_sheet(name)
        for line in lines:
            sheet.append(list(line))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def xls_bytes(sheets: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    """A legacy .xls (BIFF8) workbook, written with xlwt (a test-only dependency)."""
    import xlwt  # type: ignore[import-untyped]

    book = xlwt.Workbook()
    for name, lines in sheets.items():
        sheet = book.add_sheet(name)
        for r, line in enumerate(lines):
            for c, value in enumerate(line):
                if value is not None:
                    sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods_bytes(sheets: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    """A minimal OpenDocument spreadsheet: strings as text cells, numbers as float cells."""
    from xml.sax.saxutils import escape, quoteattr

    tables = []
    for name, lines in sheets.items():
        rows = []
        for line in lines:
            cells = []
            for value in line:
                if value is None:
                    cells.append("<table:table-cell/>")
                elif isinstance(value, int | float):
                    cells.append(
                        f'<table:table-cell office:value-type="float" office:value="{value!r}">'
                        f"<text:p>{value}</text:p></table:table-cell>"
                    )
                else:
                    cells.append(
                        '<table:table-cell office:value-type="string">'
                        f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
                    )
            rows.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
        tables.append(f"<table:table table:name={quoteattr(name)}>{''.join(rows)}</table:table>")
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} '
        'office:version="1.2"><office:body><office:spreadsheet>'
        + "".join(tables)
        + "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return buffer.getvalue()


def rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same zip archive with some members' content replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():  # keeps each member's compression (ODS: stored mimetype)
            archive.writestr(info, replace.get(info.filename, source.read(info)))
    return buffer.getvalue()


# --- XLSB: the binary workbook (MS-XLSB), records written as Excel writes them ---------------
# No Python package writes XLSB, so these few records are written here; their layout is the
# one of the XLSB files in calamine's tests (tafia/calamine, MIT), which python-calamine reads.
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _record(kind: int, body: bytes = b"") -> bytes:
    """One BIFF12 record: its type and size as 7-bit varints, then its body."""

    def varint(number: int) -> bytes:
        out = bytearray()
        while True:
            byte, number = number & 0x7F, number >> 7
            out.append(byte | (0x80 if number else 0))
            if not number:
                return bytes(out)

    return varint(kind) + varint(len(body)) + body


def _wide(text: str) -> bytes:
    """An XLWideString: a count of UTF-16 code units, then the text as UTF-16LE."""
    data = text.encode("utf-16-le")
    return struct.pack("<I", len(data) // 2) + data


def _xlsb_cell(column: int, value: Any) -> bytes:
    head = struct.pack("<II", column, 0)  # column, style 0
    if isinstance(value, bool):
        return _record(0x0004, head + bytes([value]))  # BrtCellBool
    if isinstance(value, int | float):
        return _record(0x0005, head + struct.pack("<d", float(value)))  # BrtCellReal
    return _record(0x0006, head + _wide(str(value)))  # BrtCellSt: an inline string


def _xlsb_sheet(lines: Sequence[Sequence[Any]]) -> bytes:
    width = max((len(line) for line in lines), default=1)
    rows = b"".join(
        _record(0x0000, struct.pack("<IIHHBI", row, 0, 300, 0, 0, 0))  # BrtRowHdr
        + b"".join(_xlsb_cell(c, value) for c, value in enumerate(line) if value is not None)
        for row, line in enumerate(lines)
    )
    dimension = struct.pack("<IIII", 0, max(len(lines) - 1, 0), 0, width - 1)
    return (
        _record(0x0081)  # BrtBeginSheet
        + _record(0x0094, dimension)  # BrtWsDim
        + _record(0x0091)  # BrtBeginSheetData
        + rows
        + _record(0x0092)  # BrtEndSheetData
        + _record(0x0082)  # BrtEndSheet
    )


def xlsb_bytes(sheets: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    """An XLSB workbook with one sheet per entry: strings as text cells, numbers as numbers."""
    names = list(sheets)
    bundles = b"".join(
        _record(0x009C, struct.pack("<II", 0, n) + _wide(f"rId{n}") + _wide(name))  # BrtBundleSh
        for n, name in enumerate(names, start=1)
    )
    workbook = (
        _record(0x0083)  # BrtBeginBook
        + _record(0x008F)  # BrtBeginBundleShs
        + bundles
        + _record(0x0090)  # BrtEndBundleShs
        + _record(0x0084)  # BrtEndBook
    )
    relations = "".join(
        f'<Relationship Id="rId{n}" Type="{_RELS}/worksheet" Target="worksheets/sheet{n}.bin"/>'
        for n in range(1, len(names) + 1)
    )
    prolog = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    package = "http://schemas.openxmlformats.org/package/2006"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'{prolog}<Types xmlns="{package}/content-types"><Default Extension="bin"'
            ' ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
            '<Default Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'{prolog}<Relationships xmlns="{package}/relationships"><Relationship Id="rId1"'
            f' Type="{_RELS}/officeDocument" Target="xl/workbook.bin"/></Relationships>',
        )
        archive.writestr(
            "xl/_rels/workbook.bin.rels",
            f'{prolog}<Relationships xmlns="{package}/relationships">{relations}</Relationships>',
        )
        archive.writestr("xl/workbook.bin", workbook)
        for n, name in enumerate(names, start=1):
            archive.writestr(f"xl/worksheets/sheet{n}.bin", _xlsb_sheet(sheets[name]))
    return buffer.getvalue()
