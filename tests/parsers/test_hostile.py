"""Files that are not manifests: each gives one ManifestError naming the file and what to do."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from eidflow.errors import ManifestError
from parsers import ParserSettings, read_manifest
from parsers.container import CFB_MAGIC
from tests.parsers.fixtures import VALID_EID, rezip, xlsx_bytes

SHEET_PART = "xl/worksheets/sheet1.xml"


def workbook() -> bytes:
    return xlsx_bytes({"S": [["EID", "Serial"], [VALID_EID, "A"]]})


def fails(name: str, data: bytes, settings: ParserSettings | None = None) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        read_manifest(name, data, settings)
    error = caught.value
    assert error.file == name
    assert error.todo, "every error says what to do"
    assert "\n" not in str(error)
    return error


@pytest.mark.parametrize("name", ["m.csv", "m.xlsx", "m.txt"])
@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_file(name: str, data: bytes) -> None:
    assert "empty" in fails(name, data).what


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nstream\n\x00\x01\x02\x03" * 20,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
    ],
)
def test_non_spreadsheet_renamed_xlsx(data: bytes) -> None:
    assert "not a workbook" in fails("shipment.xlsx", data).what


@pytest.mark.parametrize("name", ["shipment.xlsx", "shipment.csv"])
def test_pdf_is_named_as_one_even_when_it_looks_like_text(name: str) -> None:
    # A PDF's first line is text: without its binary streams it would be read as CSV.
    assert "is a PDF document" in fails(name, b"%PDF-1.4\n").what


def test_word_document_renamed_xlsx() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    assert "Word document" in fails("shipment.xlsx", buffer.getvalue()).what


def test_csv_renamed_xlsx_is_read_as_text() -> None:
    result = read_manifest("shipment.xlsx", f"EID,Serial\n{VALID_EID},A\n".encode())
    assert result.format == "csv"
    assert len(result.rows) == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data[:-30],  # end of central directory cut
        lambda data: data[:200],
    ],
)
def test_truncated_workbook(damage: Callable[[bytes], bytes]) -> None:
    assert "damaged or truncated" in fails("m.xlsx", damage(workbook())).what


def test_corrupted_part_inside_a_complete_archive() -> None:
    data = bytearray(workbook())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(SHEET_PART)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(start, start + info.compress_size):
        data[offset] ^= 0x5A
    fails("m.xlsx", bytes(data))


def test_password_protected_workbook() -> None:
    # An encrypted Office file is an OLE compound file with these two streams.
    container = (
        CFB_MAGIC
        + bytes(504)
        + "EncryptionInfo".encode("utf-16-le")
        + bytes(50)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(1000)
    )
    for name in ("secret.xlsx", "secret.xls"):
        assert "password-protected" in fails(name, container).what


def test_garbage_ole_container() -> None:
    assert "not a readable workbook" in fails("old.xls", CFB_MAGIC + bytes(2048)).what


def test_zip_bomb_declared_size_above_the_cap() -> None:
    padded = zipfile.ZipFile(io.BytesIO(workbook())).read(SHEET_PART)
    padded = padded.replace(b"<sheetData>", b"<sheetData>" + b" " * 3_000_000)
    data = rezip(workbook(), {SHEET_PART: padded})
    assert len(data) < 100_000
    error = fails("bomb.xlsx", data, ParserSettings(max_uncompressed_bytes=1_000_000))
    assert "max_uncompressed_bytes" in error.what
    # under the default cap the same file is a genuine (if odd) workbook
    assert len(read_manifest("bomb.xlsx", data).rows) == 1


def test_zip_that_lies_about_its_sizes() -> None:
    """Declared small, inflates to 20 MB: the reader stops at the declared size."""
    padded = zipfile.ZipFile(io.BytesIO(workbook())).read(SHEET_PART)
    padded = padded.replace(b"<sheetData>", b"<sheetData>" + b" " * 20_000_000)
    data = bytearray(rezip(workbook(), {SHEET_PART: padded}))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(SHEET_PART)
    struct.pack_into("<I", data, info.header_offset + 22, 4096)  # local header
    central = data.find(b"PK\x01\x02")
    while central != -1:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + length]) == SHEET_PART.encode():
            struct.pack_into("<I", data, central + 24, 4096)
        central = data.find(b"PK\x01\x02", central + 4)
    fails("liar.xlsx", bytes(data))


def test_xml_entity_declarations_are_refused() -> None:
    part = zipfile.ZipFile(io.BytesIO(workbook())).read(SHEET_PART)
    doctype = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    data = rezip(workbook(), {SHEET_PART: doctype + part.replace(b"A</t>", b"&b;</t>")})
    assert "entities" in fails("laughs.xlsx", data).what


@pytest.mark.parametrize("size", [40_000, 200_000, 6_000_000])
def test_gigantic_cell_in_csv(size: int) -> None:
    data = f'EID,Serial\n{VALID_EID},A\n{VALID_EID},"{"x" * size}"\n'.encode()
    error = fails("big.csv", data)
    assert error.row == 3 or "cannot be read" in error.what


def test_gigantic_cell_in_workbook() -> None:
    base = xlsx_bytes({"S": [["EID", "Serial"], [VALID_EID, "A"], ["HUGE", "B"]]})
    part = zipfile.ZipFile(io.BytesIO(base)).read(SHEET_PART)  # openpyxl itself caps cells
    data = rezip(base, {SHEET_PART: part.replace(b"HUGE", b"9" * 40_000)})
    error = fails("big.xlsx", data)
    assert (error.sheet, error.row) == ("S", 3)


@pytest.mark.parametrize(
    "data",
    [
        f"EID,Serial\n{VALID_EID},A\x00\x00\x01\n".encode(),
        bytes(range(256)) * 64,
    ],
)
def test_binary_garbage_in_csv(data: bytes) -> None:
    assert "binary" in fails("m.csv", data).what


def test_text_without_any_table() -> None:
    assert "no device table" in fails("m.csv", b"just some words\nand more\n").what


def test_zip_with_encrypted_parts() -> None:
    data = bytearray(workbook())
    central = data.find(b"PK\x01\x02")
    while central != -1:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + length]) == SHEET_PART.encode():
            data[central + 8] |= 0x1  # general purpose flag: encrypted
        central = data.find(b"PK\x01\x02", central + 4)
    assert "password-protected" in fails("locked.xlsx", bytes(data)).what


FAR_CELL = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>z</t></is></c></row>'


@pytest.mark.parametrize(
    "far",
    [
        FAR_CELL,  # 17 billion cells: the reader's allocation would abort the process
        b'<row r="3000"><c r="XFD3000" t="inlineStr"><is><t>z</t></is></c></row>',  # ~1.5 GB
    ],
)
def test_sparse_sheet_spanning_too_many_cells(far: bytes) -> None:
    part = zipfile.ZipFile(io.BytesIO(workbook())).read(SHEET_PART)
    data = rezip(workbook(), {SHEET_PART: part.replace(b"</sheetData>", far + b"</sheetData>")})
    assert len(data) < 10_000
    settings = ParserSettings(max_reader_memory_bytes=512 * 1024 * 1024)
    error = fails("sparse.xlsx", data, settings)
    assert "could not be read" in error.what
    # the process is still here, and reads the next manifest
    assert len(read_manifest("next.xlsx", workbook()).rows) == 1


def test_ods_repeated_cells_spanning_too_many_cells() -> None:
    from tests.parsers.fixtures import ods_bytes

    base = ods_bytes({"S": [["EID", "Serial"], [VALID_EID, "A"]]})
    content = zipfile.ZipFile(io.BytesIO(base)).read("content.xml")
    bomb = (
        b'<table:table-row table:number-rows-repeated="1000000">'
        b'<table:table-cell table:number-columns-repeated="16000" office:value-type="string">'
        b"<text:p>z</text:p></table:table-cell></table:table-row>"
    )
    data = rezip(
        base, {"content.xml": content.replace(b"</table:table>", bomb + b"</table:table>")}
    )
    settings = ParserSettings(max_reader_memory_bytes=512 * 1024 * 1024, max_reader_seconds=30)
    fails("repeat.ods", data, settings)  # refused by the reader or stopped by the memory cap


def test_reader_deadline() -> None:
    settings = ParserSettings(max_reader_seconds=1e-6)
    assert "longer than" in fails("slow.xlsx", workbook(), settings).what


def test_header_with_too_many_columns() -> None:
    data = ("EID,Serial," + ",".join(f"c{i}" for i in range(20_000)) + "\n").encode()
    assert "20,002 columns" in fails("wide.csv", data).what


def _zombie_children() -> list[str]:
    import os
    from pathlib import Path

    zombies = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            zombies.append(stat.parent.name)
    return zombies


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_no_reader_child_is_left_behind() -> None:
    fails("slow.xlsx", workbook(), ParserSettings(max_reader_seconds=1e-6))
    read_manifest("ok.xlsx", workbook())
    assert _zombie_children() == []
