"""IMEI: 15 digits, an 8-digit type allocation code, a 6-digit serial and a Luhn check digit.

IMEISV (16 digits) has no check digit and is not accepted; python-stdnum's
``imei.is_valid`` is laxer than eidflow needs (it accepts 14 and 16 digits).

>>> validate('35-209900-176148-1')
'352099001761481'
>>> is_valid('352099001761482')
False
>>> looks_like_lost_leading_zero('52099001761481')
False
>>> is_placeholder('000000000000000'), is_valid('000000000000000')
(True, True)
"""

from __future__ import annotations

import re

from eidflow.identifiers import (
    InvalidChecksum,
    InvalidFormat,
    InvalidLength,
    Missing,
    luhn_check_digit,
    passes,
)
from eidflow.identifiers.eid import WHITESPACE, compact

LENGTH = 15
_ASCII_DIGITS_RE = re.compile(r"^[0-9]+$")
# A number cell read back as text: 356938035643809 becomes "356938035643809.0".
NUMBER_CELL_PATTERN = r"^([0-9]+)\.0+$"
_NUMBER_CELL_RE = re.compile(NUMBER_CELL_PATTERN)


def calc_check_digit(first14: str) -> str:
    """The Luhn check digit for 14 digits."""
    return luhn_check_digit(first14)


def normalise(value: str) -> str:
    """The digits of the IMEI as typed, printed or read back from a number cell."""
    text = value.strip(WHITESPACE)
    number_cell = _NUMBER_CELL_RE.match(text)
    return number_cell.group(1) if number_cell else compact(text)


def validate(value: str) -> str:
    """Return the 15-digit IMEI, or raise the error that says what is wrong with it."""
    number = normalise(value)
    if not number:
        raise Missing()
    if not _ASCII_DIGITS_RE.match(number):
        raise InvalidFormat()
    if len(number) != LENGTH:
        raise InvalidLength()
    if calc_check_digit(number[:-1]) != number[-1]:
        raise InvalidChecksum()
    return number


def is_valid(value: str) -> bool:
    """Whether the value is a valid 15-digit IMEI once compacted."""
    return passes(validate, value)


def looks_like_lost_leading_zero(value: str) -> bool:
    """Whether 14 digits become a valid IMEI with a ``0`` in front (a spreadsheet number ate it)."""
    number = compact(value)
    return len(number) == LENGTH - 1 and number.isdigit() and is_valid("0" + number)


def is_placeholder(value: str) -> bool:
    """Whether the value is 15 times one digit: what a form or a factory fills in when it has
    no IMEI. ``000000000000000`` even passes the Luhn check; no device has it."""
    number = normalise(value)
    return len(number) == LENGTH and number.isdigit() and len(set(number)) == 1
