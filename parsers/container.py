"""What a file really is, from its first bytes, and the checks a workbook passes before it is parsed.

Workbooks are zip archives (XLSX, XLSM, XLSB, ODS) or OLE compound files (legacy XLS,
and any password-protected Office file). Hostile archives are refused here: declared
sizes above the cap (zip bombs), too many parts, DOCTYPE/ENTITY declarations in XML
parts (entity expansion tricks), encrypted packages.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from eidflow.errors import ManifestError

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_ZIP_MEMBERS = 10_000
_XML_PROLOG_BYTES = 4096  # a DOCTYPE must come before the root element
_WORKBOOK_EXTENSIONS = ("xlsx", "xlsm", "xlsb", "xls", "ods")

_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")

_CONTENT = re.compile(rb"[^ \t\r\n\x00\xef\xbb\xbf\xff\xfe]")  # a byte that is not blank or a BOM

RESAVE = "Open it in Excel and save it again as .xlsx (or export CSV UTF-8), then send it again."


def sniff(file: str, data: bytes) -> str:
    """``zip``, ``cfb`` or ``text``; raises for an empty file."""
    if _CONTENT.search(data) is None:
        raise ManifestError(
            file,
            "is empty.",
            todo="Ask the sender for the manifest again; this file has no content.",
        )
    if data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return "zip"
    if data.startswith(CFB_MAGIC):
        return "cfb"
    if data.lstrip()[:5] == b"%PDF-":
        raise ManifestError(
            file,
            "is a PDF document, not a workbook or CSV file.",
            todo="Ask the sender for the manifest as .xlsx or CSV: a PDF cannot be read.",
        )
    if extension(file) in _WORKBOOK_EXTENSIONS and _looks_binary(data):
        raise ManifestError(
            file,
            "is not a workbook: the content is neither an Excel/ODS file nor text.",
            todo=RESAVE,
        )
    return "text"


def extension(file: str) -> str:
    name = file.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].casefold() if "." in name else ""


def _looks_binary(data: bytes) -> bool:
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text
    controls = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    return controls > len(head) // 100


def check_zip_workbook(file: str, data: bytes, max_uncompressed_bytes: int) -> str:
    """The workbook kind (``xlsx``, ``xlsb``, ``ods``) of a zip, after the safety checks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ManifestError(
            file,
            "is a damaged or truncated workbook (the zip archive cannot be opened).",
            todo=RESAVE,
        ) from None
    with archive:
        if len(members) > MAX_ZIP_MEMBERS:
            raise ManifestError(
                file,
                f"holds {len(members):,} archive parts; a workbook has a few dozen.",
                todo=RESAVE,
            )
        declared = sum(info.file_size for info in members)
        if declared > max_uncompressed_bytes:
            raise ManifestError(
                file,
                f"would expand to {declared:,} bytes, above the limit of "
                f"{max_uncompressed_bytes:,} (parsers.max_uncompressed_bytes).",
                todo="Split the workbook, or raise the limit in eidflow.toml if it is genuine.",
            )
        if any(info.flag_bits & 0x1 for info in members):
            raise ManifestError(
                file,
                "is password-protected (its archive parts are encrypted).",
                todo="Ask the sender for a copy without a password.",
            )
        names = {info.filename for info in members}
        kind = _zip_kind(file, names)
        for info in members:
            if info.filename.endswith((".xml", ".rels", ".vml")):
                _check_xml_prolog(file, archive, info)
    return kind


def _zip_kind(file: str, names: set[str]) -> str:
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "content.xml" in names:
        return "ods"
    if "word/document.xml" in names:
        what = "a Word document"
    elif "ppt/presentation.xml" in names:
        what = "a PowerPoint presentation"
    else:
        what = "a zip archive"
    raise ManifestError(file, f"is {what}, not a workbook.", todo=RESAVE)


def _check_xml_prolog(file: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    try:
        with archive.open(info) as part:
            prolog = part.read(_XML_PROLOG_BYTES)
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ):
        raise ManifestError(
            file,
            f"is a damaged or truncated workbook (part {info.filename} is unreadable).",
            todo=RESAVE,
        ) from None
    upper = prolog.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise ManifestError(
            file,
            f"declares XML entities in {info.filename}: Excel never writes these; the file may be "
            "crafted to exhaust memory.",
            todo=RESAVE,
        )


def check_cfb(file: str, data: bytes) -> None:
    """Refuse password-protected Office files (an OLE container holding an EncryptedPackage)."""
    # The directory entries may sit anywhere in the container: search all of it (a fast scan).
    if _ENCRYPTED_PACKAGE in data or _ENCRYPTION_INFO in data:
        raise ManifestError(
            file,
            "is password-protected; eidflow cannot open encrypted workbooks.",
            todo="Ask the sender for a copy without a password (File > Info > Protect Workbook).",
        )
