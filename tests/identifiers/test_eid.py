"""EID rules: tables of typed, printed and damaged forms, and properties of the check digits."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from eidflow.identifiers import (
    InvalidChecksum,
    InvalidFormat,
    InvalidLength,
    Missing,
    PrecisionLost,
    ValidationError,
    columns,
    eid,
)

GSMA_TEST_EID = "89049032123451234512345678901235"
# Correct check digits, and a float64 holds it exactly (8.900000000000075e+31): a genuine EID.
FLOAT_EXACT_EID = "89000000000000745708095056904192"

thirty_digits = st.text(alphabet="0123456789", min_size=30, max_size=30)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (GSMA_TEST_EID, GSMA_TEST_EID),
        ("8904 9032 1234 5123 4512 3456 7890 1235", GSMA_TEST_EID),
        ("89049-03212-34512-34512-34567-89012-35", GSMA_TEST_EID),
        (f"'{GSMA_TEST_EID}", GSMA_TEST_EID),
        (f'="{GSMA_TEST_EID}"', GSMA_TEST_EID),
        (f"\u00a0{GSMA_TEST_EID}\u200b", GSMA_TEST_EID),
        (f"\ufeff{GSMA_TEST_EID}\t", GSMA_TEST_EID),
        # Pasted from Word or Outlook: typographic quotes and dashes.
        (f"\u201c{GSMA_TEST_EID}\u201d", GSMA_TEST_EID),
        (f"\u2018{GSMA_TEST_EID}\u2019", GSMA_TEST_EID),
        ("89049\u201303212\u201334512\u201334512\u201334567\u201389012\u201335", GSMA_TEST_EID),
    ],
)
def test_typed_and_printed_forms_normalise_without_changing_a_digit(
    value: str, expected: str
) -> None:
    assert eid.validate(value) == expected
    assert columns.compact(pd.Series([value], dtype="str")).tolist() == [expected]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", Missing),
        ("   ", Missing),
        ("89049032123451234512345678901234", InvalidChecksum),
        ("8904903212345123451234567890123", InvalidLength),
        ("890490321234512345123456789012355", InvalidLength),
        ("8904903212345123451234567890123O", InvalidFormat),
        (
            "٨٩049032123451234512345678901235",
            InvalidFormat,
        ),  # Arabic-Indic digits: int() takes them
        ("8904_9032_1234_5123_4512_3456_7890_1235", InvalidFormat),  # int() takes underscores too
        ("8.90490E+31", PrecisionLost),
        ("8,9049E+31", PrecisionLost),
        ("8.904903212345124e+31", PrecisionLost),
        (f"{GSMA_TEST_EID}.0", PrecisionLost),
        ("89049032123451200000000000000000", PrecisionLost),  # 15 significant digits, zero-padded
        ("89049032123451240000000000000000", PrecisionLost),  # 16, as a float prints
        ("89049032123451238000000000000000", PrecisionLost),  # 17, as a float prints
        ("8904 9032 1234 5124 0000 0000 0000 0000", PrecisionLost),  # printed in groups
        # A float's exact value in 32 digits is no printed form: judged by its check digits
        # (a number cell itself is flagged by the reader, eid_numeric).
        ("89049032123451238342928097083392", InvalidChecksum),
    ],
)
def test_bad_values_raise_the_specific_error(value: str, error: type[ValidationError]) -> None:
    with pytest.raises(error):
        eid.validate(value)


def test_gsma_test_eid_and_its_check_digits() -> None:
    assert eid.calc_check_digits(GSMA_TEST_EID[:30]) == "35"
    assert eid.is_valid(GSMA_TEST_EID)
    assert not eid.is_valid(GSMA_TEST_EID[:-1] + "4")


@given(thirty_digits)
@example(FLOAT_EXACT_EID[:30])
def test_every_eid_with_computed_check_digits_is_valid(first30: str) -> None:
    check = eid.calc_check_digits(first30)
    assert 2 <= int(check) <= 98
    value = first30 + check
    assert not eid.precision_lost(value)
    assert eid.validate(value) == value


def test_a_genuine_eid_that_a_float_holds_exactly_is_accepted() -> None:
    assert int(float(FLOAT_EXACT_EID)) == int(FLOAT_EXACT_EID)  # what the old rule refused
    assert eid.calc_check_digits(FLOAT_EXACT_EID[:30]) == FLOAT_EXACT_EID[30:]
    assert eid.validate(FLOAT_EXACT_EID) == FLOAT_EXACT_EID
    raw = pd.Series([FLOAT_EXACT_EID, FLOAT_EXACT_EID], dtype="str")
    normalised, reasons = columns.eid_reasons(raw, pd.Series([False, True]))
    assert normalised.tolist() == [FLOAT_EXACT_EID, ""]
    assert reasons.tolist() == ["", "eid_precision_lost"]  # from a number cell it is lost


@given(thirty_digits, st.integers(0, 31), st.integers(1, 9))
def test_any_single_digit_change_fails(first30: str, position: int, delta: int) -> None:
    value = first30 + eid.calc_check_digits(first30)
    changed = value[:position] + str((int(value[position]) + delta) % 10) + value[position + 1 :]
    assert not eid.is_valid(changed)


@given(thirty_digits, st.integers(0, 30))
def test_any_adjacent_transposition_fails(first30: str, position: int) -> None:
    value = first30 + eid.calc_check_digits(first30)
    a, b = value[position], value[position + 1]
    swapped = value[:position] + b + a + value[position + 2 :]
    if a != b:
        assert not eid.is_valid(swapped)


@given(thirty_digits)
@example("890490321234512345123456789012")
def test_endings_00_and_01_that_fool_the_weak_rule_fail(first30: str) -> None:
    """``int(eid) % 97 == 1`` accepts ``00``/``01`` endings when the true check is 97/98."""
    check = eid.calc_check_digits(first30)
    for fake in ("00", "01"):
        value = first30 + fake
        if int(value) % 97 == 1:
            assert check in ("97", "98")
        if fake != check:
            assert not eid.is_valid(value)


def test_a_weak_rule_impostor_exists_and_is_rejected() -> None:
    """Find a value the weak rule accepts with a 00/01 ending and show the strict rule rejects it."""
    for n in range(10_000):
        first30 = f"89049032123451234512345{n:07d}"
        if eid.calc_check_digits(first30) in ("97", "98"):
            impostor = first30 + ("00" if eid.calc_check_digits(first30) == "97" else "01")
            assert int(impostor) % 97 == 1
            assert not eid.is_valid(impostor)
            return
    pytest.fail("no check digits of 97/98 in 10,000 tries")


printable_noise = st.text(
    alphabet=st.sampled_from("0123456789 -.'\"=_/eE+,\u00a0\u200bO٨\t"), max_size=40
)


@given(
    st.lists(
        st.one_of(printable_noise, thirty_digits.map(lambda f: f + eid.calc_check_digits(f))),
        max_size=30,
    )
)
def test_column_rules_agree_with_scalar_rules(values: list[str]) -> None:
    raw = pd.Series(values, dtype="str")
    normalised, reasons = columns.eid_reasons(raw, pd.Series(False, index=raw.index))
    for value, got_eid, got_reason in zip(values, normalised, reasons, strict=True):
        try:
            expected = eid.validate(value)
        except ValidationError as error:
            assert got_reason == error.reason, value
        else:
            assert (got_reason, got_eid) == ("", expected), value


def test_a_numeric_cell_is_precision_lost_whatever_its_text() -> None:
    raw = pd.Series([GSMA_TEST_EID, GSMA_TEST_EID], dtype="str")
    _, reasons = columns.eid_reasons(raw, pd.Series([True, False]))
    assert reasons.tolist() == ["eid_precision_lost", ""]
