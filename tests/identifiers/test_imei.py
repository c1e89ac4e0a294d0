"""IMEI rules: 15 digits with a Luhn check digit; column-wise version agrees."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eidflow.identifiers import ValidationError, columns, imei


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("352099001761481", True),
        ("35-209900-176148-1", True),
        ("352099001761481.0", True),  # a number cell read back as text
        ("352099001761482", False),
        ("35209900176148", False),  # 14 digits
        ("3520990017614812", False),  # IMEISV, 16 digits
        ("", False),
        ("35209900176148A", False),
    ],
)
def test_imei_table(value: str, valid: bool) -> None:
    assert imei.is_valid(value) is valid


def test_lost_leading_zero_is_recognised() -> None:
    full = "01356911000007" + imei.calc_check_digit("01356911000007")
    assert imei.is_valid(full)
    assert imei.looks_like_lost_leading_zero(full[1:])
    assert not imei.looks_like_lost_leading_zero(full)


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        ("000000000000000", True),  # Luhn-valid: only this check can tell
        ("111111111111111", True),
        ("99-999999-999999-9", True),
        ("000000000000000.0", True),  # a number cell read back as text
        ("352099001761481", False),
        ("00000000000000", False),  # 14 digits: not an IMEI at all
        ("", False),
    ],
)
def test_placeholder_imeis(value: str, placeholder: bool) -> None:
    assert imei.is_placeholder(value) is placeholder
    assert columns.imei_placeholder(pd.Series([value], dtype="str")).tolist() == [placeholder]


def test_the_zero_placeholder_passes_the_luhn_check() -> None:
    assert imei.is_valid("000000000000000")  # so the check digit alone lets it through


@given(st.lists(st.text(alphabet="0123456789-. ", max_size=18), max_size=30))
@example(["000000000000000", "7777777777777777", "5-55555555555555"])
def test_column_rules_agree_with_scalar_rules(values: list[str]) -> None:
    raw = pd.Series(values, dtype="str")
    _, valid, lost_zero = columns.imei_check(raw)
    placeholder = columns.imei_placeholder(raw)
    for value, got_placeholder in zip(values, placeholder, strict=True):
        assert bool(got_placeholder) == imei.is_placeholder(value), value
    for value, got_valid, got_lost in zip(values, valid, lost_zero, strict=True):
        try:
            imei.validate(value)
        except ValidationError:
            assert not got_valid, value
        else:
            assert got_valid, value
        assert bool(got_lost) == imei.looks_like_lost_leading_zero(value), value
