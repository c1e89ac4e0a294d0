"""read_manifest on plain CSV and XLSX: the contract the core relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from eidflow import schema
from eidflow.errors import ManifestError
from parsers import read_manifest
from tests.parsers.fixtures import VALID_EID, VALID_IMEI, write, xlsx_bytes


def read(path: Path):  # type: ignore[no-untyped-def]
    return read_manifest(path.name, path.read_bytes())


def test_csv_frame_has_schema_columns_and_dtypes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "oem.csv",
        f"EID,Serial Number,IMEI,Model\n{VALID_EID},SN1,{VALID_IMEI},X1\n".encode(),
    )
    result = read(path)
    rows = result.rows
    assert tuple(rows.columns) == schema.MANIFEST_COLUMNS
    assert str(rows[schema.ROW].dtype) == "int64"
    assert rows[schema.EID_NUMERIC].dtype == bool
    assert rows[schema.IMEI_NUMERIC].dtype == bool
    for name in (schema.EID_RAW, schema.SERIAL_RAW, "po_number", schema.SHEET):
        assert str(rows[name].dtype) == "string"
        assert not rows[name].isna().any()
    assert rows.iloc[0].to_dict() | {} == {
        schema.SOURCE_FILE: "oem.csv",
        schema.SHEET: "",
        schema.ROW: 2,
        schema.EID_RAW: VALID_EID,
        schema.EID_NUMERIC: False,
        schema.SERIAL_RAW: "SN1",
        schema.IMEI_RAW: VALID_IMEI,
        schema.IMEI_NUMERIC: False,
        schema.IMEI2_RAW: "",
        "manufacturer": "",
        "model": "X1",
        "sku": "",
        "po_number": "",
        "order_number": "",
        "asn": "",
        "ship_date": "",
        "customer": "",
    }
    assert result.format == "csv"
    assert len(result.sha256) == 64


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("eUICC ID", schema.EID_RAW),
        ("e-SIM EID", schema.EID_RAW),
        ("EID Number", schema.EID_RAW),
        ("S/N", schema.SERIAL_RAW),
        ("Service Tag", schema.SERIAL_RAW),
        ("device serial number", schema.SERIAL_RAW),
        ("IMEI 1", schema.IMEI_RAW),
        ("IMEI2", schema.IMEI2_RAW),
        ("Purchase Order", "po_number"),
        ("Part Number", "sku"),
        ("Ship Date", "ship_date"),
    ],
)
def test_header_aliases(tmp_path: Path, header: str, field: str) -> None:
    others = {schema.EID_RAW: "EID", schema.SERIAL_RAW: "Serial"}
    headers = [h for f, h in others.items() if f != field] + [header]
    line = ",".join(["v" + str(i) for i in range(len(headers) - 1)] + ["target"])
    path = write(tmp_path, "m.csv", (",".join(headers) + "\n" + line + "\n").encode())
    assert read(path).rows[field].tolist() == ["target"]


def test_eid_raw_is_the_cell_as_read(tmp_path: Path) -> None:
    cell = f"  {VALID_EID[:16]} {VALID_EID[16:]}\u00a0"
    path = write(tmp_path, "m.csv", f'EID,Serial\n"{cell}",S\n'.encode())
    assert read(path).rows[schema.EID_RAW].tolist() == [cell]


def test_csv_row_numbers_count_records_not_lines(tmp_path: Path) -> None:
    data = f'EID,Serial,Model\n{VALID_EID},A,"two\nlines"\n{VALID_EID},B,x\n'.encode()
    assert read(write(tmp_path, "m.csv", data)).rows[schema.ROW].tolist() == [2, 3]


def test_missing_optional_columns_are_empty_text(tmp_path: Path) -> None:
    rows = read(write(tmp_path, "m.csv", f"EID,Serial\n{VALID_EID},A\n".encode())).rows
    assert rows[schema.IMEI_RAW].tolist() == [""]
    assert rows["customer"].tolist() == [""]


def test_xlsx_numeric_cells_are_flagged_not_repaired(tmp_path: Path) -> None:
    data = xlsx_bytes(
        {
            "Devices": [
                ["EID", "Serial Number", "IMEI1", "IMEI2", "PO Number"],
                [8.904903212345124e31, "SN1", 56938035643809, 356938035643809, 4500012345],
                [VALID_EID, "SN2", VALID_IMEI, None, "PO-7"],
            ]
        }
    )
    result = read(write(tmp_path, "m.xlsx", data))
    rows = result.rows
    assert rows[schema.EID_RAW].tolist() == ["8.904903212345124e+31", VALID_EID]
    assert rows[schema.EID_NUMERIC].tolist() == [True, False]
    assert rows[schema.IMEI_RAW].tolist() == ["56938035643809", VALID_IMEI]
    assert rows[schema.IMEI_NUMERIC].tolist() == [True, False]
    assert rows[schema.IMEI2_RAW].tolist() == [VALID_IMEI, ""]
    assert rows["po_number"].tolist() == ["4500012345", "PO-7"]
    assert rows[schema.SHEET].tolist() == ["Devices", "Devices"]
    assert rows[schema.ROW].tolist() == [2, 3]
    assert result.sheets == ["Devices"]
    assert result.format == "xlsx"


def test_xlsx_every_sheet_with_a_table_is_read(tmp_path: Path) -> None:
    data = xlsx_bytes(
        {
            "Cover": [["Shipment notice"], ["Thank you for your order"]],
            "Batch 1": [["EID", "Serial"], [VALID_EID, "A"]],
            "Batch 2": [["Serial", "EID"], ["B", VALID_EID], ["C", VALID_EID]],
        }
    )
    result = read(write(tmp_path, "m.xlsx", data))
    assert result.rows[schema.SERIAL_RAW].tolist() == ["A", "B", "C"]
    assert result.rows[schema.SHEET].tolist() == ["Batch 1", "Batch 2", "Batch 2"]
    assert result.sheets == ["Batch 1", "Batch 2"]
    assert result.skipped.sheets_without_table == ["Cover"]


def test_header_with_no_rows_is_zero_rows(tmp_path: Path) -> None:
    for name, data in (
        ("m.csv", b"EID,Serial Number\n"),
        ("m.xlsx", xlsx_bytes({"S": [["EID", "Serial Number"]]})),
    ):
        rows = read(write(tmp_path, name, data)).rows
        assert len(rows) == 0
        assert tuple(rows.columns) == schema.MANIFEST_COLUMNS


def test_no_eid_column_names_the_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", b"Serial Number,Model\nA,X\n")
    with pytest.raises(ManifestError) as caught:
        read(path)
    message = str(caught.value)
    assert "m.csv" in message
    assert "'Serial Number'" in message and "'Model'" in message
    assert "profile" in message
