"""Intune report exports read by column name: the eSIM policy's per-device statuses
(``DeviceStatusesByConfigurationProfile``) and the EID column of ``DevicesWithInventory``.

Both come as the zip an export job leaves (or its CSV); columns are found by name, never by
position, and a column the tenant left out is read as ``""``.
"""

from __future__ import annotations

import pandas as pd

from eidflow import schema
from eidflow.core import profile_status as p
from eidflow.identifiers.columns import compact as compact_eids
from parsers.exports import _read_export, _unzip_single_csv

STATUS_HEADERS: dict[str, tuple[str, ...]] = {
    schema.INTUNE_DEVICE_ID: ("IntuneDeviceId", "Device ID", "DeviceId"),
    "device_name": ("DeviceName", "Device name"),
    p.POLICY_STATUS: ("PolicyStatus_loc", "PolicyStatus", "Status"),
    p.REPORTED_AT: ("PspdpuLastModifiedTimeUtc", "Last status update", "LastModifiedDateTime"),
}
STATUS_REQUIRED = (schema.INTUNE_DEVICE_ID, p.POLICY_STATUS)

EID_HEADERS: dict[str, tuple[str, ...]] = {
    schema.INTUNE_DEVICE_ID: ("DeviceId", "Device ID", "Intune Device ID"),
    schema.SERIAL_NUMBER: ("SerialNumber", "Serial number"),
    p.DEVICE_EID: ("EID", "esimIdentifier"),
}
EID_REQUIRED = (schema.INTUNE_DEVICE_ID, schema.SERIAL_NUMBER)


def read_profile_statuses(name: str, data: bytes) -> pd.DataFrame:
    """The report's devices: intune_device_id, device_name, policy_status, reported_at."""
    columns = _columns(name, data, STATUS_HEADERS, STATUS_REQUIRED)
    frame = pd.DataFrame({column: values.str.strip() for column, values in columns.items()})
    frame[schema.INTUNE_DEVICE_ID] = frame[schema.INTUNE_DEVICE_ID].str.lower()
    return frame[frame[schema.INTUNE_DEVICE_ID] != ""].reset_index(drop=True)


def read_device_eids(name: str, data: bytes) -> pd.DataFrame:
    """The inventory's intune_device_id, serial_number and device_eid (compacted; "" if none)."""
    columns = _columns(name, data, EID_HEADERS, EID_REQUIRED)
    return pd.DataFrame(
        {
            schema.INTUNE_DEVICE_ID: columns[schema.INTUNE_DEVICE_ID].str.strip().str.lower(),
            schema.SERIAL_NUMBER: columns[schema.SERIAL_NUMBER].str.strip().str.upper(),
            p.DEVICE_EID: compact_eids(columns[p.DEVICE_EID]),
        }
    )


def _columns(
    name: str, data: bytes, wanted: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> dict[str, pd.Series]:
    csv_name, csv_data = _unzip_single_csv(name, data) if data.startswith(b"PK") else (name, data)
    return _read_export(csv_name, csv_data, wanted, required, "Intune")
