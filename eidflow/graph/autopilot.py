"""Windows Autopilot identities from Graph, as the frame the core reconciles.

``GET /v1.0/deviceManagement/windowsAutopilotDeviceIdentities`` (paged), permission
``DeviceManagementServiceConfig.Read.All``. A PC registered there has an Entra device
(``azureActiveDirectoryDeviceId`` is its ``deviceId``) before its first boot, and a
``managedDeviceId`` only once it has enrolled (Graph gives the zero GUID for none).
The frame has the shape the export-file parser gives (``schema.AUTOPILOT_COLUMNS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from eidflow import schema
from eidflow.core import autopilot
from eidflow.graph.client import GraphClient

IDENTITIES = "/v1.0/deviceManagement/windowsAutopilotDeviceIdentities"
IDENTITY_FIELDS = {
    schema.AP_ID: "id",
    schema.AP_SERIAL: "serialNumber",
    schema.AP_AZURE_AD_DEVICE_ID: "azureActiveDirectoryDeviceId",
    schema.AP_MANAGED_DEVICE_ID: "managedDeviceId",
    schema.AP_GROUP_TAG: "groupTag",
    schema.AP_ENROLLMENT_STATE: "enrollmentState",
}
# Above this many serials one listing of every identity costs fewer requests than a
# filtered listing per serial.
MAX_FILTERED_SERIALS = 50


def list_autopilot_identities(client: GraphClient) -> pd.DataFrame:
    """Every Windows Autopilot identity of the tenant."""
    return identities_frame(list(client.iter_values(IDENTITIES)))


def find_autopilot_identities(client: GraphClient, serials: Iterable[str]) -> pd.DataFrame:
    """The identities of these serial numbers: one ``contains(serialNumber,'…')`` listing per
    serial (kept only where the serial is equal, as the core matches), or every identity when
    there are many serials."""
    wanted = sorted({serial.strip().upper() for serial in serials if serial.strip()})
    if len(wanted) > MAX_FILTERED_SERIALS:
        return list_autopilot_identities(client)
    items: list[dict[str, Any]] = []
    for serial in wanted:
        quoted = serial.replace("'", "''")  # OData string literal
        found = client.iter_values(
            IDENTITIES, params={"$filter": f"contains(serialNumber,'{quoted}')"}
        )
        items += [
            item for item in found if str(item.get("serialNumber") or "").strip().upper() == serial
        ]
    return identities_frame(items)


def identities_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """windowsAutopilotDeviceIdentity JSON objects → Autopilot identities frame."""
    raw = pd.DataFrame(items, columns=list(IDENTITY_FIELDS.values()), dtype=object)
    columns = {
        column: raw[field].fillna("").astype(str).astype("str")
        for column, field in IDENTITY_FIELDS.items()
    }
    return autopilot.identities_frame(columns)
