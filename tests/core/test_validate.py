"""Row validation: reasons, precedence, normalised identifiers and warnings."""

from __future__ import annotations

import pytest

from eidflow import schema
from eidflow.core.validate import normalise_serial, validate_rows
from eidflow.identifiers.imei import calc_check_digit
from tests.frames import device, make_eid, make_imei, manifest_rows


@pytest.mark.parametrize(
    ("row", "status", "reason"),
    [
        (device(1), "accepted", ""),
        (device(1, **{schema.EID_RAW: ""}), "rejected", "eid_missing"),
        (device(1, **{schema.EID_RAW: "N/A"}), "rejected", "eid_not_digits"),
        (device(1, **{schema.EID_RAW: make_eid(1)[:-1]}), "rejected", "eid_length"),
        (device(1, **{schema.EID_RAW: make_eid(1)[:-1] + "0"}), "rejected", "eid_checksum"),
        (device(1, **{schema.EID_RAW: "8.90490E+31"}), "rejected", "eid_precision_lost"),
        (device(1, **{schema.EID_NUMERIC: True}), "rejected", "eid_precision_lost"),
        # check digits right, and exactly a float64: genuine all the same
        (device(1, **{schema.EID_RAW: "89000000000000745708095056904192"}), "accepted", ""),
        (
            device(1, **{schema.EID_RAW: "89049032123451240000000000000000"}),
            "rejected",
            "eid_precision_lost",
        ),
        (device(1, **{schema.SERIAL_RAW: "  "}), "rejected", "serial_missing"),
        (device(1, **{schema.EID_RAW: "", schema.SERIAL_RAW: ""}), "rejected", "eid_missing"),
    ],
)
def test_each_row_gets_one_verdict(row: dict[str, object], status: str, reason: str) -> None:
    result = validate_rows(manifest_rows(row))
    assert result[[schema.STATUS, schema.REASON]].iloc[0].tolist() == [status, reason]
    assert (result[schema.DETAIL].iloc[0] == "") == (reason == "")


def test_identifiers_are_normalised_and_raw_kept() -> None:
    printed = " ".join(make_eid(3)[i : i + 4] for i in range(0, 32, 4))
    result = validate_rows(
        manifest_rows(device(3, serial=" pf4a1b2c ", **{schema.EID_RAW: printed}))
    )
    row = result.iloc[0]
    assert (row[schema.EID_RAW], row[schema.EID], row[schema.SERIAL_NUMBER]) == (
        printed,
        make_eid(3),
        "PF4A1B2C",
    )
    assert row[schema.IMEI] == make_imei(3)


LEADING_ZERO_IMEI = "01356911000007" + calc_check_digit("01356911000007")
WRONG_LUHN_IMEI = make_imei(1)[:-1] + str((int(make_imei(1)[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("extra", "warnings"),
    [
        ({}, ""),
        ({schema.IMEI_RAW: ""}, ""),
        ({schema.IMEI_RAW: WRONG_LUHN_IMEI}, "imei_invalid"),
        ({schema.IMEI_RAW: "35409811"}, "imei_invalid"),
        ({schema.IMEI_RAW: LEADING_ZERO_IMEI}, ""),
        (
            {schema.IMEI_RAW: LEADING_ZERO_IMEI[1:], schema.IMEI_NUMERIC: True},
            "imei_leading_zero_lost",
        ),
        ({schema.IMEI2_RAW: WRONG_LUHN_IMEI}, "imei2_invalid"),
        # placeholders: one digit repeated (all zeros passes the Luhn check)
        ({schema.IMEI_RAW: "000000000000000"}, "imei_placeholder"),
        ({schema.IMEI_RAW: "111111111111111"}, "imei_placeholder"),
        ({schema.IMEI_RAW: "00-000000-000000-0"}, "imei_placeholder"),
        ({schema.IMEI2_RAW: "000000000000000"}, "imei2_placeholder"),
        (
            {schema.IMEI_RAW: "000000000000000", schema.IMEI2_RAW: "999999999999999"},
            "imei_placeholder;imei2_placeholder",
        ),
    ],
)
def test_imei_problems_are_warnings_not_rejections(extra: dict[str, object], warnings: str) -> None:
    result = validate_rows(manifest_rows(device(1, **extra)))
    assert result[schema.STATUS].iloc[0] == "accepted"
    assert result[schema.WARNINGS].iloc[0] == warnings


def test_eid_without_the_89_prefix_is_a_warning() -> None:
    from eidflow.identifiers.eid import calc_check_digits

    sgp29 = "350490321234512345123456789012"
    result = validate_rows(
        manifest_rows(device(1, **{schema.EID_RAW: sgp29 + calc_check_digits(sgp29)}))
    )
    assert (result[schema.STATUS].iloc[0], result[schema.WARNINGS].iloc[0]) == (
        "accepted",
        "eid_prefix",
    )


def test_serials_are_unwrapped_trimmed_and_upper_cased() -> None:
    import pandas as pd

    raw = pd.Series(["  abc123 ", "'0042xy", '="7QK2LZ3"', "", "\u00a0sn-1\u200b"], dtype="str")
    assert normalise_serial(raw).tolist() == ["ABC123", "0042XY", "7QK2LZ3", "", "SN-1"]


@pytest.mark.parametrize("space", ["\u2009", "\u202f", "\u2002", "\u3000"])
def test_typographic_spaces_inside_an_eid_are_separators(space: str) -> None:
    value = make_eid(1)[:16] + space + make_eid(1)[16:]
    [status] = validate_rows(manifest_rows(device(1, **{schema.EID_RAW: value})))[schema.STATUS]
    assert status == "accepted"


def test_an_eid_with_other_characters_names_them() -> None:
    value = make_eid(1)[:5] + "O" + make_eid(1)[6:]  # a letter O for a zero
    frame = validate_rows(manifest_rows(device(1, **{schema.EID_RAW: value})))
    assert frame[schema.REASON].tolist() == ["eid_not_digits"]
    assert "'O' (U+004F LATIN CAPITAL LETTER O)" in frame[schema.DETAIL].iloc[0]


@pytest.mark.parametrize(
    ("field", "value", "damaged"),
    [
        ("order_number", "1.23457E+18", True),
        ("order_number", "1234567890123456800", True),  # 17 digits, then a float's zeros
        ("po_number", "4.5001E+9", True),
        ("asn", "8004412345", False),
        ("order_number", "1234567890123456789", False),  # all 19 digits: kept as text
        ("order_number", "PO-1000000", False),
        ("po_number", "", False),
    ],
)
def test_a_long_number_that_went_through_a_spreadsheet_is_warned(
    field: str, value: str, damaged: bool
) -> None:
    [warnings] = validate_rows(manifest_rows(device(1, **{field: value})))[schema.WARNINGS]
    assert ("number_damaged" in warnings) is damaged
