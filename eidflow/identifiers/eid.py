"""EID (eUICC identifier): 32 decimal digits ending in ISO/IEC 7064 MOD 97-10 check digits.

The classic layout (GSMA SGP.02) is ``89`` + country (3) + issuer (3) + platform (5)
+ issuer info (5) + individual number (12) + check digits (2). Newer numbering
(SGP.29) may not start with ``89``; that is a warning, not an error.

>>> validate('8904 9032 1234 5123 4512 3456 7890 1235')
'89049032123451234512345678901235'
>>> calc_check_digits('890490321234512345123456789012')
'35'
>>> is_valid('89049032123451234512345678901234')
False
>>> validate('8.90490E+31')  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
eidflow.identifiers.PrecisionLost: ...
>>> format('89049032123451234512345678901235')
'89049 03212 34512 34512 34567 89012 35'
"""

from __future__ import annotations

import re

from eidflow.identifiers import (
    InvalidChecksum,
    InvalidFormat,
    InvalidLength,
    Missing,
    PrecisionLost,
    passes,
)

LENGTH = 32
CLASSIC_PREFIX = "89"

# Separators a person types or prints, and the invisible characters copied cells carry.
# Removing them never changes a digit.
WHITESPACE = (
    " \t\r\n\u00a0\u2007\u202f\u200b\u200c\u200d\u2060\ufeff"
    # the other typographic spaces: en and em quads and spaces, thin, hair, ideographic, …
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000"
)
# What people type or print: spaces, dashes, dots, quotes; Word and Outlook turn quotes
# and hyphens typographic (‘ ’ “ ” „ « », hyphen, en and em dash, minus sign).
SEPARATORS = (
    WHITESPACE
    + "-.'\"\u2018\u2019\u201a\u201c\u201d\u201e\u00ab\u00bb\u2010\u2011\u2013\u2014\u2212"
)
_SEPARATOR_RE = re.compile("[" + re.escape(SEPARATORS) + "]")
_FORMULA_TEXT_RE = re.compile(r'^="(.*)"$', re.DOTALL)  # ="8904…" keeps Excel from making a number
# Applied to stripped text; ASCII classes only, so that Python and Arrow (RE2) agree.
SCIENTIFIC_PATTERN = r"^[+-]?[0-9]+(?:[.,][0-9]*)?[eE][+-]?[0-9]+$"
TRAILING_POINT_ZERO_PATTERN = r"^[0-9]+[.,]0+$"
_SCIENTIFIC_RE = re.compile(SCIENTIFIC_PATTERN)
_TRAILING_POINT_ZERO_RE = re.compile(TRAILING_POINT_ZERO_PATTERN)
_ASCII_DIGITS_RE = re.compile(r"^[0-9]+$")
_FLOAT_SIGNIFICANT_DIGITS = 17  # the most a float64 prints; spreadsheets show 15


def compact(value: str) -> str:
    """Remove the separators, quotes and ``="…"`` wrapping people and spreadsheets add."""
    text = value.strip(WHITESPACE)
    formula = _FORMULA_TEXT_RE.match(text)
    if formula:
        text = formula.group(1)
    return _SEPARATOR_RE.sub("", text)


def calc_check_digits(first30: str) -> str:
    """The two MOD 97-10 check digits for 30 digits: ``98 - int(first30 + "00") % 97``."""
    return f"{98 - int(first30 + '00') % 97:02d}"


def precision_lost(value: str) -> bool:
    """Whether the text shows the value went through a spreadsheet number.

    Judged from the form the value has, never from what a float64 can hold (some genuine
    EIDs are exactly a float64): scientific notation (also with a decimal comma), a
    trailing ``.0``, or at most 17 significant digits padded with zeros, the way a float
    prints and a spreadsheet saves a number as text (a genuine EID never ends in ``00``:
    its check digits are 02..98). A number cell itself is flagged by the reader
    (``eid_numeric``); a float's exact value written out in 32 digits has no telltale
    form and fails its check digits instead.
    """
    text = value.strip(WHITESPACE)
    if _SCIENTIFIC_RE.match(text) or _TRAILING_POINT_ZERO_RE.match(text):
        return True
    digits = compact(text)
    if len(digits) != LENGTH or not _ASCII_DIGITS_RE.match(digits):
        return False
    return digits.endswith("00") and len(digits.rstrip("0")) <= _FLOAT_SIGNIFICANT_DIGITS


def validate(value: str) -> str:
    """Return the compact EID, or raise the error that says what is wrong with it."""
    number = compact(value)
    if not number:
        raise Missing()
    if precision_lost(value):
        raise PrecisionLost(
            "the EID went through a spreadsheet number and lost its last digits;"
            " format the column as text and export again"
        )
    if not _ASCII_DIGITS_RE.match(number):
        raise InvalidFormat()
    if len(number) != LENGTH:
        raise InvalidLength(f"{len(number)} digits, an EID has {LENGTH}")
    if calc_check_digits(number[:-2]) != number[-2:]:
        raise InvalidChecksum()
    return number


def is_valid(value: str) -> bool:
    """Whether the value is a valid EID once compacted."""
    return passes(validate, value)


def has_classic_prefix(number: str) -> bool:
    """Whether the EID starts with the telecom industry identifier ``89`` (SGP.02 layout)."""
    return number.startswith(CLASSIC_PREFIX)


def format(number: str) -> str:
    """Print the EID in groups of five, the way labels show it."""
    number = compact(number)
    return " ".join(number[i : i + 5] for i in range(0, len(number), 5))


def foreign_characters(value: str) -> str:
    """The characters that keep ``value`` from being digits once compacted, named.

    >>> foreign_characters("8904903212345123451234567890123O")
    "'O' (U+004F LATIN CAPITAL LETTER O)"
    """
    import unicodedata

    found = dict.fromkeys(char for char in compact(value) if not ("0" <= char <= "9"))
    return ", ".join(
        f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')})"
        for char in list(found)[:3]
    )
