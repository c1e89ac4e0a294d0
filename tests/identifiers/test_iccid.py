"""ICCID rules: 19-20 digits, a trailing F is padding, a Luhn check digit; column-wise agrees."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eidflow.identifiers import ValidationError, columns, iccid

VALID_20 = "89014103211118510720"
VALID_19 = "8944500102198304826"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (VALID_20, VALID_20),
        ("8901 4103 2111 1851 0720", VALID_20),
        (f"'{VALID_20}", VALID_20),
        (f'="{VALID_20}"', VALID_20),
        (f"\u00a0{VALID_20}\u200b", VALID_20),
        (VALID_19, VALID_19),
        (VALID_19 + "F", VALID_19),  # 19 digits in 20 nibbles: the F is padding
        (VALID_19 + "f", VALID_19),
    ],
)
def test_typed_printed_and_padded_forms(value: str, expected: str) -> None:
    assert iccid.validate(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "iccid_missing"),
        ("89014103211118510721", "iccid_checksum"),  # the last digit mistyped
        ("89014103211118510702", "iccid_checksum"),  # two digits swapped
        ("890141032111185107", "iccid_length"),
        ("890141032111185107201", "iccid_length"),
        ("8901410321111851072X", "iccid_not_digits"),
        ("89014103F1111851072", "iccid_not_digits"),  # an F is padding only at the end
        ("8.90141032111185E+19", "iccid_precision_lost"),
        ("8,9014E+19", "iccid_precision_lost"),
        ("89014103211118510720.0", "iccid_precision_lost"),
        ("89014103211118500000", "iccid_precision_lost"),  # 15 digits and zeros
    ],
)
def test_what_is_wrong_is_said(value: str, reason: str) -> None:
    with pytest.raises(ValidationError) as raised:
        iccid.validate(value)
    assert raised.value.reason == reason
    [number], [why], _ = columns.iccid_reasons(pd.Series([value]))
    assert (number, why) == ("", "" if reason == "iccid_missing" else reason)


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(iccid)
    assert result.attempted > 0 and result.failed == 0


@given(st.text(alphabet="0123456789", min_size=18, max_size=19))
@example("894450010219830482")
def test_the_check_digit_makes_a_valid_iccid(payload: str) -> None:
    number = payload + iccid.calc_check_digit(payload)
    if len(number.rstrip("0")) > iccid.SPREADSHEET_DIGITS:
        assert iccid.validate(number) == number
        wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
        assert not iccid.is_valid(wrong)


@given(st.text(alphabet="0123456789 F-.'E+", max_size=24))
@example("8944500102198304826F")
@example("F")
@example("  ")
def test_column_rules_agree_with_the_scalar_rules(value: str) -> None:
    [number], [why], [padded] = columns.iccid_reasons(pd.Series([value]))
    try:
        expected, reason = iccid.validate(value), ""
    except ValidationError as error:
        expected, reason = "", "" if error.reason == "iccid_missing" else error.reason
    assert (number, why) == (expected, reason)
    assert padded == iccid.is_padded(value)
