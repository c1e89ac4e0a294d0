"""The Intune inventory and Entra devices exports."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from eidflow import schema
from eidflow.errors import InputError, ManifestError
from parsers import read_entra_devices, read_intune_inventory, read_manifest

INTUNE_HEADER = (
    "Device ID,Device name,Enrollment date,Last check-in,{aad},OS version,Serial number,"
    "Manufacturer,Model,IMEI,Primary user UPN"
)


def intune_csv(aad: str = "Azure AD Device ID", delimiter: str = ",") -> bytes:
    lines = [
        INTUNE_HEADER.format(aad=aad),
        "d-1,PC-1,2024-01-02,2024-05-01 10:22:33.0000000,ABCDEF01-0000-0000-0000-00000000000A,"
        "10.0.22631.3447,  pf3abc12 ,LENOVO,21HD,35 693803 564380 9,a@b.c",
        "d-2,PC-1,2023-01-02,4/2/2024 8:00:00 AM,abcdef01-0000-0000-0000-00000000000b,"
        "10.0.19045.1,PF3ABC12,LENOVO,21HD,,",
        "d-3,PC-3,,,,,,,,,",
    ]
    return "\n".join(line.replace(",", delimiter) for line in lines).encode("utf-8-sig")


@pytest.mark.parametrize("aad", ["Azure AD Device ID", "Microsoft Entra Device ID"])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_intune_csv(aad: str, delimiter: str) -> None:
    frame = read_intune_inventory("DevicesWithInventory.csv", intune_csv(aad, delimiter))
    assert tuple(frame.columns) == schema.INVENTORY_COLUMNS
    assert frame[schema.INV_SERIAL].tolist() == ["PF3ABC12", "PF3ABC12", ""]
    assert frame[schema.INV_IMEI].tolist() == ["356938035643809", "", ""]
    assert frame[schema.INV_AZURE_AD_DEVICE_ID].tolist()[:2] == [
        "abcdef01-0000-0000-0000-00000000000a",
        "abcdef01-0000-0000-0000-00000000000b",
    ]
    check_in = frame[schema.INV_LAST_CHECK_IN]
    assert str(check_in.dtype) == "datetime64[ns, UTC]"
    assert check_in.iloc[0] == pd.Timestamp("2024-05-01 10:22:33", tz="UTC")
    assert check_in.iloc[1] == pd.Timestamp("2024-04-02 08:00:00", tz="UTC")
    assert pd.isna(check_in.iloc[2])
    assert frame["manufacturer"].tolist()[0] == "LENOVO"


def test_intune_zip_holding_one_csv() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("DevicesWithInventory_1234.csv", intune_csv())
    frame = read_intune_inventory("export.zip", buffer.getvalue())
    assert len(frame) == 3


def test_intune_missing_required_column_names_headers() -> None:
    with pytest.raises(InputError) as caught:
        read_intune_inventory("inv.csv", b"Device ID,Device name\nx,y\n")
    assert "inv.csv" in str(caught.value)
    assert "'Device ID'" in str(caught.value)


def test_entra_export() -> None:
    data = (
        b"displayName,accountEnabled,operatingSystem,operatingSystemVersion,joinType (trustType),"
        b"registeredOwners,userNames,mdmDisplayName,isCompliant,registrationTime,"
        b"approximateLastSignInDateTime,deviceId,isManaged,objectId,profileType,systemLabels,model\n"
        b"PC-1,True,Windows,10.0.22631,Microsoft Entra joined,,,Microsoft Intune,True,"
        b"2024-01-01,2024-05-01,ABCDEF01-0000-0000-0000-00000000000A,True,"
        b"11111111-2222-3333-4444-55555555555F,RegisteredDevice,,21HD\n"
    )
    frame = read_entra_devices("exportDevice_2024.csv", data)
    assert tuple(frame.columns) == schema.ENTRA_COLUMNS
    assert frame.iloc[0].to_dict() == {
        schema.ENTRA_DEVICE_ID: "abcdef01-0000-0000-0000-00000000000a",
        schema.ENTRA_OBJECT_ID_COL: "11111111-2222-3333-4444-55555555555f",
        schema.ENTRA_DISPLAY_NAME: "PC-1",
    }


def test_braced_spaced_or_capital_guids_are_compacted_and_others_kept_as_read() -> None:
    data = (
        b"displayName,deviceId,objectId\n"
        b"PC-1,{ABCDEF01-0000-0000-0000-00000000000A},{11111111-2222-3333-4444-555555555551}\n"
        b'PC-2,abcdef01-0000-0000-0000-00000000000b ," 11111111-2222-3333-4444-555555555552 "\n'
        b"PC-3,abcdef01-0000-0000-0000-00000000000c,not-a-guid\n"
    )
    frame = read_entra_devices("exportDevice.csv", data)
    assert frame[schema.ENTRA_DEVICE_ID].tolist() == [
        "abcdef01-0000-0000-0000-00000000000a",
        "abcdef01-0000-0000-0000-00000000000b",
        "abcdef01-0000-0000-0000-00000000000c",
    ]
    assert frame[schema.ENTRA_OBJECT_ID_COL].tolist() == [
        "11111111-2222-3333-4444-555555555551",
        "11111111-2222-3333-4444-555555555552",
        "not-a-guid",  # no object id: the core resolves nothing with it
    ]
    inventory = read_intune_inventory(
        "inv.csv", b"Serial number,Azure AD Device ID\nSN1,{ABCDEF01-0000-0000-0000-00000000000A}\n"
    )
    assert inventory[schema.INV_AZURE_AD_DEVICE_ID].tolist() == [
        "abcdef01-0000-0000-0000-00000000000a"
    ]


def test_intune_utf16_tab_export() -> None:
    text = intune_csv().decode("utf-8-sig").replace(",", "\t")
    frame = read_intune_inventory("inv.csv", b"\xff\xfe" + text.encode("utf-16-le"))
    assert frame[schema.INV_SERIAL].tolist() == ["PF3ABC12", "PF3ABC12", ""]


def test_blank_lines_in_an_export_are_not_records() -> None:
    data = b"displayName,deviceId,objectId\nPC-1,AA,BB\n\n,,\nPC-2,CC,DD\n"
    frame = read_entra_devices("exportDevice.csv", data)
    assert frame[schema.ENTRA_DEVICE_ID].tolist() == ["aa", "cc"]
    assert frame[schema.ENTRA_DISPLAY_NAME].tolist() == ["PC-1", "PC-2"]


def test_missing_optional_intune_columns_are_empty() -> None:
    data = b"Serial number,Azure AD Device ID\nSN1,ABC\n"
    frame = read_intune_inventory("inv.csv", data)
    assert frame[schema.INV_IMEI].tolist() == [""]
    assert frame[schema.INV_DEVICE_ID].tolist() == [""]
    assert pd.isna(frame[schema.INV_LAST_CHECK_IN].iloc[0])


def test_empty_export_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        read_entra_devices("exportDevice.csv", b"\xef\xbb\xbf\r\n")
    assert "empty" in str(caught.value)


def test_a_workbook_given_as_the_intune_export_says_so() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(InputError) as caught:
        read_intune_inventory("devices.xlsx", buffer.getvalue())
    assert "is an Excel workbook" in caught.value.what
    assert "Intune admin center" in caught.value.todo


def test_binary_data_as_an_export_asks_for_the_export_again() -> None:
    with pytest.raises(InputError) as caught:
        read_entra_devices("exportDevice.csv", b"\x00\x01\x02binary\x00" * 50)
    assert "Entra admin center" in caught.value.todo and "workbook" not in caught.value.todo


SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.mark.parametrize(
    ("sample", "named", "option"),
    [
        ("DevicesWithInventory_2026-11-27.csv", "an Intune devices export", "--inventory"),
        ("exportDevice_2026-11-27.csv", "an Entra devices export", "--entra-devices"),
    ],
)
def test_an_export_given_as_a_manifest_is_named_as_such(
    sample: str, named: str, option: str
) -> None:
    """Intune's export even has an EID column: read as a manifest, every row would be refused."""
    with pytest.raises(ManifestError) as caught:
        read_manifest(sample, (SAMPLES / sample).read_bytes())
    assert named in str(caught.value) and option in str(caught.value)


def test_an_export_in_a_workbook_given_as_a_manifest_is_named_too() -> None:
    rows = [
        line.split(",")
        for line in (SAMPLES / "exportDevice_2026-11-27.csv").read_text().splitlines()
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    with pytest.raises(ManifestError, match="an Entra devices export"):
        read_manifest("devices.xlsx", data.getvalue())
