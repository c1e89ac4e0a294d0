"""IMEI rules: 15 digits with a Luhn check digit; column-wise version agrees."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
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


@given(st.lists(st.text(alphabet="0123456789-. ", max_size=18), max_size=30))
def test_column_rules_agree_with_scalar_rules(values: list[str]) -> None:
    _, valid, lost_zero = columns.imei_check(pd.Series(values, dtype="str"))
    for value, got_valid, got_lost in zip(values, valid, lost_zero, strict=True):
        try:
            imei.validate(value)
        except ValidationError:
            assert not got_valid, value
        else:
            assert got_valid, value
        assert bool(got_lost) == imei.looks_like_lost_leading_zero(value), value
