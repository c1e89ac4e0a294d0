"""Workbooks as OEMs send them: XLSX/XLSM/XLSB/XLS/ODS, title blocks, several sheets, totals, numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from eidflow import schema
from eidflow.core import validate
from eidflow.errors import ManifestError
from parsers import read_manifest
from tests.parsers.fixtures import (
    VALID_EID,
    VALID_IMEI,
    ods_bytes,
    xls_bytes,
    xlsb_bytes,
    xlsx_bytes,
)

ASN_SHEET: list[list[Any]] = [
    ["Dell Advance Ship Notice"],
    ["PO", "PO-2026-1187", None, None],
    [None],
    ["Service Tag", "EID", "IMEI 1", "Ship Date"],
    ["7QK2LZ3", VALID_EID, VALID_IMEI, "2026-11-20"],
    [None, None, None, None],
    ["8RL3MA4", 8.904903212345124e31, 56938035643809, "2026-11-20"],
    ["Total units: 2", None, None, None],
]


def _xls(sheets: dict[str, Any]) -> bytes:
    pytest.importorskip("xlwt")
    return xls_bytes(sheets)


WRITERS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "xlsx": xlsx_bytes,
    "xlsm": xlsx_bytes,
    "xlsb": xlsb_bytes,
    "xls": _xls,
    "ods": ods_bytes,
}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_title_block_blank_rows_totals_and_numbers(fmt: str) -> None:
    data = WRITERS[fmt]({"Cover": [["Thank you"]], "ASN": ASN_SHEET})
    result = read_manifest(f"dell-asn.{fmt}", data)
    rows = result.rows
    assert result.format == fmt
    assert rows[schema.SHEET].tolist() == ["ASN", "ASN"]
    assert rows[schema.ROW].tolist() == [5, 7]
    assert rows[schema.SERIAL_RAW].tolist() == ["7QK2LZ3", "8RL3MA4"]
    assert rows[schema.EID_RAW].tolist() == [VALID_EID, "8.904903212345124e+31"]
    assert rows[schema.EID_NUMERIC].tolist() == [False, True]
    assert rows[schema.IMEI_RAW].tolist() == [VALID_IMEI, "56938035643809"]
    assert rows[schema.IMEI_NUMERIC].tolist() == [False, True]
    assert rows["ship_date"].tolist() == ["2026-11-20", "2026-11-20"]
    assert result.skipped.preamble_rows == 2
    assert result.skipped.blank_rows == 2
    assert result.skipped.footer_rows == 1
    assert result.skipped.sheets_without_table == ["Cover"]


def test_an_xlsb_manifest_keeps_text_eids_and_flags_numbers_even_named_otherwise() -> None:
    data = xlsb_bytes({"ASN": [["Service Tag", "EID"], ["A", VALID_EID], ["B", 8.9e31]]})
    result = read_manifest("shipment.xlsx", data)  # the content decides, not the name
    assert result.format == "xlsb"
    rows = validate.validate_rows(result.rows)
    assert rows[schema.EID].tolist()[0] == VALID_EID
    assert rows[schema.STATUS].tolist() == ["accepted", "rejected"]
    assert rows[schema.REASON].tolist() == ["", "eid_precision_lost"]


def test_an_xlsb_workbook_without_an_eid_column_names_its_sheets() -> None:
    data = xlsb_bytes({"Prices": [["Model", "Price"], ["T14s", 1299.0]]})
    with pytest.raises(ManifestError) as raised:
        read_manifest("prices.xlsb", data)
    assert "Prices" in str(raised.value) and "EID" in str(raised.value)


def test_cell_types_become_text() -> None:
    data = xlsx_bytes(
        {
            "S": [
                ["EID", "Serial", "PO Number", "Ship Date", "Model", "Customer"],
                [VALID_EID, 12345678, 4500012345, dt.datetime(2026, 11, 20), True, 1.5],
            ]
        }
    )
    row = read_manifest("m.xlsx", data).rows.iloc[0]
    assert row[schema.SERIAL_RAW] == "12345678"
    assert row["po_number"] == "4500012345"
    assert row["ship_date"] == "2026-11-20"
    assert row["model"] == "TRUE"
    assert row["customer"] == "1.5"


def test_numeric_eid_cell_is_flagged_whatever_its_value() -> None:
    data = xlsx_bytes({"S": [["EID", "Serial"], [89049032123451234, "A"], [123.0, "B"]]})
    rows = read_manifest("m.xlsx", data).rows
    assert rows[schema.EID_NUMERIC].tolist() == [True, True]
    assert rows[schema.EID_RAW].tolist() == ["8.904903212345123e+16", "123.0"]


def test_sheet_with_table_lower_than_the_search_window_is_skipped() -> None:
    lines: list[list[Any]] = [[f"note {i}"] for i in range(40)]
    data = xlsx_bytes({"Late": [*lines, ["EID", "Serial"], [VALID_EID, "A"]], "Ok": ASN_SHEET})
    result = read_manifest("m.xlsx", data)
    assert result.sheets == ["Ok"]
    assert result.skipped.sheets_without_table == ["Late"]


def test_hidden_blank_leading_rows_and_columns_keep_row_numbers() -> None:
    data = xlsx_bytes(
        {"S": [[None], [None], [None, None, "EID", "Serial"], [None, None, VALID_EID, "A"]]}
    )
    rows = read_manifest("m.xlsx", data).rows
    assert rows[schema.ROW].tolist() == [4]
    assert rows[schema.SERIAL_RAW].tolist() == ["A"]


@pytest.mark.parametrize(
    "texts", [[], [""], ["a", "", "b"], ["with\x00nul", "x"], ["\x00"], ["", ""]]
)
def test_columns_cross_the_process_boundary_intact(texts: list[str]) -> None:
    from parsers.workbook import _pack, _unpack

    assert _unpack(_pack(texts), len(texts)) == texts


def test_repeated_header_rows_in_a_sheet() -> None:
    lines = [["Serial", "EID"], ["A", VALID_EID], ["Serial", "EID"], ["B", VALID_EID]]
    result = read_manifest("m.xlsx", xlsx_bytes({"S": lines}))
    assert result.rows[schema.SERIAL_RAW].tolist() == ["A", "B"]
    assert result.skipped.preamble_rows == 1


def test_hidden_sheets_are_read_and_named() -> None:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    shown = book.active
    shown.title = "ASN"
    for line in (["EID", "Serial"], [VALID_EID, "A"]):
        shown.append(line)
    for title, state in (("Old ASN", "hidden"), ("Lookup", "veryHidden")):
        sheet = book.create_sheet(title)
        sheet.sheet_state = state
        for line in (["EID", "Serial"], [VALID_EID, title]):
            sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    result = read_manifest("m.xlsx", buffer.getvalue())
    assert result.sheets == ["ASN", "Old ASN", "Lookup"]  # no device is dropped unseen
    assert result.hidden_sheets == ["Old ASN", "Lookup"]


def _hp_two_row_header() -> bytes:
    """HP's layout: a group title merged over the identifiers, names merged down two rows."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Serial Number", "Model", "Wireless identifiers", None, None])
    sheet.append([None, None, "EID", "IMEI 1", "IMEI 2"])
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("B1:B2")
    sheet.merge_cells("C1:E1")
    sheet.append(["5CG1234ABC", "EliteBook 840", VALID_EID, VALID_IMEI, ""])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_a_header_of_two_rows_with_merged_cells_is_read_as_one() -> None:
    read = read_manifest("hp.xlsx", _hp_two_row_header())
    [row] = read.rows.to_dict("records")
    assert (row[schema.SERIAL_RAW], row[schema.EID_RAW], row[schema.IMEI_RAW]) == (
        "5CG1234ABC",
        VALID_EID,
        VALID_IMEI,
    )
    assert row["model"] == "EliteBook 840" and row[schema.ROW] == 3


def test_a_profile_naming_columns_of_both_header_rows_finds_them() -> None:
    from parsers.config import ManifestProfile, ParserSettings

    settings = ParserSettings(
        profiles={"hp": ManifestProfile(eid="EID", serial="Serial Number", imei="IMEI 1")}
    )
    read = read_manifest("hp.xlsx", _hp_two_row_header(), settings, profile="hp")
    assert read.rows[schema.SERIAL_RAW].tolist() == ["5CG1234ABC"]
    assert read.rows[schema.EID_RAW].tolist() == [VALID_EID]
