"""Text encodings found from the bytes: UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252.

UTF-8 files are only decoded in full when needed: the fast reader takes the bytes as
they are (pyarrow checks UTF-8 itself), so a 100 MB CSV is not decoded twice.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from eidflow.errors import ManifestError

SAVE_AS_CSV = 'Save it again as "CSV UTF-8 (Comma delimited)" or as an Excel workbook.'
HEAD_BYTES = 1 << 20  # enough for the title lines and the header of any manifest


@dataclass
class Decoded:
    """A text file's encoding, its head decoded, and the full text on demand."""

    data: bytes
    encoding: str  # utf-8, utf-8-sig, utf-16, utf-16-le, utf-16-be, cp1252
    bom_bytes: int  # bytes before the text, for slicing ``data`` when it is UTF-8
    head: str  # at least the first HEAD_BYTES of text (all of it for small files)
    file: str = ""
    _text: str | None = field(default=None, repr=False)

    @property
    def is_utf8(self) -> bool:
        return self.encoding in ("utf-8", "utf-8-sig")

    def text(self) -> str:
        """The whole text; a file that is not valid UTF-8 after all is read as Windows-1252."""
        if self._text is None:
            body = self.data[self.bom_bytes :]
            try:
                self._text = body.decode("utf-8")
            except UnicodeDecodeError:
                if self.encoding == "utf-8-sig":
                    _strict(self.file, body, "utf-8")  # raises with the byte position
                self.encoding = "cp1252"
                self._text = _strict(self.file, body, "cp1252")
        return self._text


def decode(file: str, data: bytes) -> Decoded:
    """The encoding of a delimited file; binary content raises ManifestError."""
    if data.startswith(codecs.BOM_UTF8):
        return _utf8(file, data, "utf-8-sig", 3)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" and Intune exports in some locales.
        return _complete(file, data, "utf-16", 2)
    if b"\x00" in data:
        guessed = _utf16_without_bom(data)
        if guessed:
            return _complete(file, data, guessed, 0)
        raise ManifestError(
            file,
            "holds binary data (NUL bytes), not text: it is not a CSV manifest.",
            todo=SAVE_AS_CSV,
        )
    return _utf8(file, data, "utf-8", 0)


def _utf8(file: str, data: bytes, encoding: str, bom: int) -> Decoded:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        head = decoder.decode(data[bom : bom + HEAD_BYTES], final=len(data) <= bom + HEAD_BYTES)
    except UnicodeDecodeError:
        if encoding == "utf-8-sig":
            _strict(file, data[bom:], "utf-8")
        return _complete(file, data, "cp1252", 0)
    text = head if len(data) <= bom + HEAD_BYTES else None
    return Decoded(data, encoding, bom, head, file, text)


def _complete(file: str, data: bytes, encoding: str, bom: int) -> Decoded:
    text = _strict(file, data, encoding)
    return Decoded(data, encoding, bom, text[:HEAD_BYTES], file, text)


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
