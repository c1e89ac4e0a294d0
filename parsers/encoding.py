"""Text encodings found from the bytes: UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from eidflow.errors import ManifestError

SAVE_AS_CSV = 'Save it again as "CSV UTF-8 (Comma delimited)" or as an Excel workbook.'


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # utf-8, utf-8-sig, utf-16, cp1252
    bom_bytes: int  # bytes before the text (the BOM), for slicing the original when it is UTF-8


def decode(file: str, data: bytes) -> Decoded:
    """The text of a delimited file; binary content raises ManifestError."""
    if data.startswith(codecs.BOM_UTF8):
        return Decoded(_strict(file, data[3:], "utf-8"), "utf-8-sig", 3)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" and Intune exports in some locales.
        return Decoded(_strict(file, data, "utf-16"), "utf-16", 2)
    if b"\x00" in data:
        guessed = _utf16_without_bom(data)
        if guessed:
            return Decoded(_strict(file, data, guessed), guessed, 0)
        raise ManifestError(
            file,
            "holds binary data (NUL bytes), not text: it is not a CSV manifest.",
            todo=SAVE_AS_CSV,
        )
    try:
        return Decoded(data.decode("utf-8"), "utf-8", 0)
    except UnicodeDecodeError:
        pass
    return Decoded(_strict(file, data, "cp1252"), "cp1252", 0)


def _strict(file: str, data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ManifestError(
            file,
            f"is not readable text (byte {error.start} is not valid {encoding}).",
            todo=SAVE_AS_CSV,
        ) from None
    if "\x00" in text:
        raise ManifestError(
            file, "holds binary data (NUL characters) inside the text.", todo=SAVE_AS_CSV
        )
    return text.removeprefix("\ufeff")


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM shows NULs in every other byte for ASCII text."""
    head = data[:4096]
    even, odd = head[0::2], head[1::2]
    if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None
