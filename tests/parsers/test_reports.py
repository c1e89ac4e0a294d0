"""Intune's report exports read by column name, in whatever order the tenant gives them."""

from __future__ import annotations

import io
import zipfile

import pytest

from eidflow.errors import InputError
from parsers.reports import read_device_eids, read_profile_statuses


def zipped(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("DeviceStatusesByConfigurationProfile_1.csv", text.encode("utf-8-sig"))
    return buffer.getvalue()


def test_statuses_are_read_by_name_from_the_jobs_zip() -> None:
    text = (
        "UPN,PspdpuLastModifiedTimeUtc,PolicyStatus,DeviceName,IntuneDeviceId,PolicyId\r\n"
        "a@contoso.example,2026-12-06T09:00:00Z,Succeeded,PC1, 0D6A-1 ,P\r\n"
        ",,Error,PC2,0d6a-2,P\r\n"
        ",,Error,PC3,,P\r\n"
    )
    frame = read_profile_statuses("graph:report.zip", zipped(text))
    assert frame.to_dict("records") == [
        {
            "intune_device_id": "0d6a-1",
            "device_name": "PC1",
            "policy_status": "Succeeded",
            "reported_at": "2026-12-06T09:00:00Z",
        },
        {
            "intune_device_id": "0d6a-2",
            "device_name": "PC2",
            "policy_status": "Error",
            "reported_at": "",
        },
    ]


def test_the_inventory_eid_column_is_optional_and_compacted() -> None:
    with_eid = "SerialNumber,EID,DeviceId\r\npf4x01 ,8904 9032 1234 5123 4501 8245 6769 2265,D1\r\n"
    frame = read_device_eids("inventory.csv", with_eid.encode())
    assert frame.to_dict("records") == [
        {
            "intune_device_id": "d1",
            "serial_number": "PF4X01",
            "device_eid": "89049032123451234501824567692265",
        }
    ]
    without = read_device_eids("inventory.csv", b"DeviceId,SerialNumber\r\nD1,PF4X01\r\n")
    assert without["device_eid"].tolist() == [""]


def test_a_file_without_the_device_id_is_named() -> None:
    with pytest.raises(InputError, match=r"report\.csv"):
        read_profile_statuses("report.csv", b"DeviceName,PolicyStatus\r\nPC1,Succeeded\r\n")
