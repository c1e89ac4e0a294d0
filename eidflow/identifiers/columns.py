"""The EID and IMEI rules applied column-wise to whole frames.

They give the same answers as :mod:`eidflow.identifiers.eid` and
:mod:`eidflow.identifiers.imei` (tests hold them together with hypothesis), at
column speed: text clean-up runs in Arrow, check digits on a digit matrix in numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eidflow.codes import Reason
from eidflow.identifiers import eid as eid_rules
from eidflow.identifiers import imei as imei_rules

_SEPARATORS_PATTERN = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in eid_rules.SEPARATORS) + "]"
_FORMULA_TEXT_PATTERN = r'(?s)^="(.*)"$'
_SCIENTIFIC_PATTERN = eid_rules.SCIENTIFIC_PATTERN
_TRAILING_POINT_ZERO_PATTERN = eid_rules.TRAILING_POINT_ZERO_PATTERN
_NUMBER_CELL_PATTERN = imei_rules.NUMBER_CELL_PATTERN
_HIGH_BELOW_2_POW_70 = 2**70 // 10**16 + 1  # first 16 of 32 digits, for numbers under 2**70


def text(column: pd.Series) -> pd.Series:
    """The column as text with ``""`` for missing."""
    return column.astype("str").fillna("")


def compact(column: pd.Series) -> pd.Series:
    """Column-wise :func:`eid_rules.compact`."""
    stripped = text(column).str.strip(eid_rules.WHITESPACE)
    unwrapped = stripped.str.replace(_FORMULA_TEXT_PATTERN, r"\1", regex=True)
    return unwrapped.str.replace(_SEPARATORS_PATTERN, "", regex=True)


def digit_matrix(numbers: pd.Series, width: int) -> np.ndarray:
    """Rows of ``width`` ASCII digits as an ``(n, width)`` matrix of ints 0..9."""
    if numbers.empty:
        return np.zeros((0, width), dtype=np.uint8)
    joined = "".join(numbers.tolist()).encode("ascii")
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, width) - 48


def mod97_check_digits(first30: np.ndarray) -> np.ndarray:
    """Column-wise :func:`eid_rules.calc_check_digits` on a ``(n, 30)`` digit matrix."""
    remainder = np.zeros(first30.shape[0], dtype=np.int64)
    for position in range(first30.shape[1]):
        remainder = (remainder * 10 + first30[:, position].astype(np.int64)) % 97
    return 98 - (remainder * 100) % 97


def _float_exact(numbers: pd.Series) -> pd.Series:
    """Which 32-digit strings a float64 holds exactly.

    A number of 70 bits or more held exactly by a float64 (53-bit mantissa) is a
    multiple of 2**17, so its last 16 digits are a multiple of 2**16 (10**16 is one).
    That screen, plus the rare small numbers, leaves about one genuine EID in 65,536
    for the exact test in Python.
    """
    high = numbers.str.slice(0, 16).astype("int64")
    low = numbers.str.slice(16).astype("int64")
    candidates = numbers[((low % 65536) == 0) | (high < _HIGH_BELOW_2_POW_70)]
    exact = pd.Series(False, index=numbers.index)
    if not candidates.empty:
        exact[candidates.index] = [eid_rules._float_exact(value) for value in candidates]
    return exact


def eid_reasons(raw: pd.Series, numeric_cell: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalise EIDs and say what is wrong with each: ``(eid, reason)``.

    ``eid`` is the 32-digit EID where it could be normalised (also for a wrong
    checksum, so that people can look for it), else ``""``; ``reason`` is ``""`` or a
    :class:`Reason` code, in the scalar rules' order of precedence.
    """
    stripped = text(raw).str.strip(eid_rules.WHITESPACE)
    compacted = compact(stripped)
    all_digits = compacted.str.fullmatch(r"[0-9]+")
    right_length = all_digits & (compacted.str.len() == eid_rules.LENGTH)
    full = compacted[right_length]

    padded = full.str.endswith("00") & (
        full.str.rstrip("0").str.len() <= eid_rules._FLOAT_SIGNIFICANT_DIGITS
    )
    lost = (
        numeric_cell.astype(bool)
        | stripped.str.match(_SCIENTIFIC_PATTERN)
        | stripped.str.match(_TRAILING_POINT_ZERO_PATTERN)
    )
    lost = lost | (padded | _float_exact(full)).reindex(raw.index, fill_value=False)

    matrix = digit_matrix(full, eid_rules.LENGTH)
    given = matrix[:, 30].astype(np.int64) * 10 + matrix[:, 31]
    good_check = pd.Series(mod97_check_digits(matrix[:, :30]) == given, index=full.index)
    good_check = good_check.reindex(raw.index, fill_value=False)

    reason = pd.Series("", index=raw.index, dtype="str")
    reason = reason.mask(~good_check, Reason.EID_CHECKSUM.value)
    reason = reason.mask(~right_length, Reason.EID_LENGTH.value)
    reason = reason.mask(~all_digits, Reason.EID_NOT_DIGITS.value)
    reason = reason.mask(lost, Reason.EID_PRECISION_LOST.value)
    reason = reason.mask(compacted == "", Reason.EID_MISSING.value)
    eid = compacted.where(right_length & ~lost, "")
    return eid, reason


def imei_check(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Normalise IMEIs: ``(imei, valid, leading_zero_lost)``, like :mod:`imei_rules`."""
    stripped = text(raw).str.strip(eid_rules.WHITESPACE)
    number_cell = stripped.str.replace(_NUMBER_CELL_PATTERN, r"\1", regex=True)
    imei = compact(number_cell)
    fifteen = imei.str.fullmatch(r"[0-9]{15}")
    valid = _luhn_valid(imei, fifteen)
    fourteen = imei.str.fullmatch(r"[0-9]{14}")
    lost_zero = _luhn_valid("0" + imei, fourteen)
    return imei, valid, lost_zero


def _luhn_valid(imei: pd.Series, shaped: pd.Series) -> pd.Series:
    matrix = digit_matrix(imei[shaped], imei_rules.LENGTH).astype(np.int64)
    doubled = matrix[:, 1:14:2] * 2
    total = matrix[:, 0:14:2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)
    check = (10 - total % 10) % 10
    valid = pd.Series(check == matrix[:, 14], index=imei[shaped].index)
    return valid.reindex(imei.index, fill_value=False)
