"""ICCID (SIM or eSIM profile number): 19 or 20 digits, the last a Luhn check digit (ITU-T E.118).

The operator's answer binds an EID to the ICCID of its profile. A 19-digit ICCID is often
stored in 20 nibbles with a trailing ``F`` as padding: that ``F`` is not a digit and is
dropped. Like EIDs, ICCIDs are text: one that went through a spreadsheet number keeps 15
significant digits and is refused, never repaired.

>>> validate('8901 4103 2111 1851 0720')
'89014103211118510720'
>>> validate('8944500102198304826F')
'8944500102198304826'
>>> calc_check_digit('8901410321111851072')
'0'
>>> is_valid('89014103211118510721')
False
>>> validate('8.90141032111185E+19')  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
eidflow.identifiers.iccid.IccidPrecisionLost: ...
>>> format('89014103211118510720')
'8901 4103 2111 1851 0720'
"""

from __future__ import annotations

import re

from eidflow.identifiers import (
    InvalidChecksum,
    InvalidFormat,
    InvalidLength,
    Missing,
    PrecisionLost,
    luhn_check_digit,
    passes,
)
from eidflow.identifiers.eid import (
    SCIENTIFIC_PATTERN,
    TRAILING_POINT_ZERO_PATTERN,
    WHITESPACE,
)
from eidflow.identifiers.eid import (
    compact as eid_compact,
)

LENGTHS = (19, 20)
PADDING = "F"
# A spreadsheet number keeps 15 significant digits; an ICCID read back from one as digits
# is those 15 then zeros (4 or 5 of them). A genuine ICCID ends in 4 zeros (its check
# digit one of them) about once in 10,000: such a one is refused too, and said why.
SPREADSHEET_DIGITS = 15
_SCIENTIFIC_RE = re.compile(SCIENTIFIC_PATTERN)
_TRAILING_POINT_ZERO_RE = re.compile(TRAILING_POINT_ZERO_PATTERN)
_ASCII_DIGITS_RE = re.compile(r"^[0-9]+$")


class IccidMissing(Missing):
    """No ICCID."""

    reason = "iccid_missing"


class IccidFormat(InvalidFormat):
    """Characters other than digits remain in the ICCID (a trailing F aside)."""

    reason = "iccid_not_digits"


class IccidLength(InvalidLength):
    """The ICCID does not have 19 or 20 digits."""

    reason = "iccid_length"


class IccidChecksum(InvalidChecksum):
    """The ICCID's Luhn check digit (its last) is wrong."""

    reason = "iccid_checksum"


class IccidPrecisionLost(PrecisionLost):
    """The ICCID went through a spreadsheet number and lost digits."""

    reason = "iccid_precision_lost"


def compact(value: str) -> str:
    """The ICCID without separators, quotes, ``="…"``, and without a trailing ``F`` (padding)."""
    number = eid_compact(value).upper()
    return number[:-1] if number.endswith(PADDING) else number


def is_padded(value: str) -> bool:
    """Whether the value carried the trailing ``F`` of a 19-digit ICCID in 20 nibbles."""
    return eid_compact(value).upper().endswith(PADDING)


def calc_check_digit(number: str) -> str:
    """The Luhn check digit for the digits before it."""
    return luhn_check_digit(number)


def precision_lost(value: str) -> bool:
    """Scientific notation, a trailing ``.0``, or 15 significant digits padded with zeros."""
    text = value.strip(WHITESPACE)
    if _SCIENTIFIC_RE.match(text) or _TRAILING_POINT_ZERO_RE.match(text):
        return True
    number = compact(text)
    return (
        len(number) in LENGTHS
        and bool(_ASCII_DIGITS_RE.match(number))
        and len(number.rstrip("0")) <= SPREADSHEET_DIGITS
    )


def validate(value: str) -> str:
    """Return the compact ICCID, or raise the error that says what is wrong with it."""
    number = compact(value)
    if not number:
        raise IccidMissing()
    if precision_lost(value):
        raise IccidPrecisionLost(
            "the ICCID went through a spreadsheet number and lost its last digits;"
            " ask for the column formatted as text"
        )
    if not _ASCII_DIGITS_RE.match(number):
        raise IccidFormat()
    if len(number) not in LENGTHS:
        raise IccidLength(f"{len(number)} digits, an ICCID has 19 or 20")
    if calc_check_digit(number[:-1]) != number[-1]:
        raise IccidChecksum()
    return number


def is_valid(value: str) -> bool:
    """Whether the value is a valid ICCID once compacted."""
    return passes(validate, value)


def format(number: str) -> str:
    """Print the ICCID in groups of four, the way SIM cards show it."""
    number = compact(number)
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
