"""Intune managed devices and Entra devices from Graph, as the frames the core reconciles.

The frames have the shape the export-file parsers give (``schema.INVENTORY_COLUMNS``,
``schema.ENTRA_COLUMNS``, GUIDs compacted alike), so the core cannot tell where an
inventory came from.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from eidflow import schema
from eidflow.graph.client import GraphClient
from eidflow.identifiers import guid

MANAGED_DEVICE_FIELDS = (
    "id",
    "deviceName",
    "serialNumber",
    "imei",
    "meid",
    "azureADDeviceId",
    "manufacturer",
    "model",
    "operatingSystem",
    "osVersion",
    "lastSyncDateTime",
    "enrolledDateTime",
)
ENTRA_DEVICE_FIELDS = ("id", "deviceId", "displayName")
# Intune reports this for a device with no Entra registration.
_NO_DEVICE_ID = "00000000-0000-0000-0000-000000000000"
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def list_managed_devices(client: GraphClient) -> pd.DataFrame:
    """Every Intune managed device. ``$filter`` on managedDevices is unreliable: match locally."""
    items = client.iter_values(
        "/v1.0/deviceManagement/managedDevices",
        params={"$select": ",".join(MANAGED_DEVICE_FIELDS)},
    )
    return inventory_frame(list(items))


def list_entra_devices(client: GraphClient) -> pd.DataFrame:
    """Every Entra device: object id (for group membership) by deviceId."""
    items = client.iter_values("/v1.0/devices", params={"$select": ",".join(ENTRA_DEVICE_FIELDS)})
    return entra_frame(list(items))


def inventory_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """managedDevice JSON objects → inventory frame (text columns use ``""`` for missing)."""
    raw = pd.DataFrame(items, columns=list(MANAGED_DEVICE_FIELDS), dtype=object)
    azure_id = guid.compact_column(raw["azureADDeviceId"])
    frame = pd.DataFrame(
        {
            schema.INV_DEVICE_ID: _text(raw["id"]),
            schema.INV_DEVICE_NAME: _text(raw["deviceName"]),
            schema.INV_SERIAL: _text(raw["serialNumber"]).str.upper(),
            schema.INV_IMEI: _text(raw["imei"]).str.replace(r"\D", "", regex=True),
            schema.INV_AZURE_AD_DEVICE_ID: azure_id.where(azure_id != _NO_DEVICE_ID, ""),
            schema.INV_OS_VERSION: _text(raw["osVersion"]),
            schema.INV_LAST_CHECK_IN: _timestamps(raw["lastSyncDateTime"]),
            "manufacturer": _text(raw["manufacturer"]),
            "model": _text(raw["model"]),
        }
    )
    return frame[list(schema.INVENTORY_COLUMNS)]


def entra_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """device JSON objects → Entra devices frame."""
    raw = pd.DataFrame(items, columns=list(ENTRA_DEVICE_FIELDS), dtype=object)
    frame = pd.DataFrame(
        {
            schema.ENTRA_DEVICE_ID: guid.compact_column(raw["deviceId"]),
            schema.ENTRA_OBJECT_ID_COL: guid.compact_column(raw["id"]),
            schema.ENTRA_DISPLAY_NAME: _text(raw["displayName"]),
        }
    )
    return frame[list(schema.ENTRA_COLUMNS)]


def _timestamps(column: pd.Series) -> pd.Series:
    """ISO 8601 → UTC; Intune's ``0001-01-01T00:00:00Z`` (never synced) and junk → NaT."""
    parsed = pd.to_datetime(column, utc=True, errors="coerce", format="ISO8601")
    parsed = parsed.where(parsed > _EPOCH)
    return parsed.astype("datetime64[ns, UTC]")


def _text(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.strip().astype("str")
