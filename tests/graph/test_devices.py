"""Intune and Entra device lists from Graph, shaped like the export-file frames."""

from __future__ import annotations

import pandas as pd

from eidflow import schema
from eidflow.graph import GraphClient, list_entra_devices, list_managed_devices, static_token
from tests.graph_emulator import GraphEmulator

MANAGED = [
    {
        "id": "m1",
        "deviceName": "PC-001",
        "serialNumber": " 5cg1234abc ",
        "imei": "35 209900 176148 1",
        "meid": "",
        "azureADDeviceId": "AAAAAAAA-1111-4111-8111-111111111111",
        "manufacturer": "HP",
        "model": "EliteBook 840 G10",
        "operatingSystem": "Windows",
        "osVersion": "10.0.22631.4317",
        "lastSyncDateTime": "2026-11-20T08:15:00Z",
        "enrolledDateTime": "2026-11-01T08:00:00Z",
        "complianceState": "compliant",  # not selected: must not come back
    },
    {
        "id": "m2",
        "deviceName": "PC-002",
        "serialNumber": "PF3XYZ12",
        "imei": None,
        "meid": None,
        "azureADDeviceId": "00000000-0000-0000-0000-000000000000",
        "manufacturer": "Lenovo",
        "model": "ThinkPad T14s",
        "operatingSystem": "Windows",
        "osVersion": "10.0.19045.1",
        "lastSyncDateTime": "0001-01-01T00:00:00Z",
        "enrolledDateTime": "2026-11-02T08:00:00Z",
    },
    {"id": "m3", "deviceName": "PC-003", "serialNumber": "X3", "osVersion": "10.0.26100.1"},
]


def test_managed_devices_become_the_inventory_frame(graph_emulator: GraphEmulator) -> None:
    graph_emulator.managed_devices = MANAGED
    with GraphClient(
        static_token(graph_emulator.token), base_url=graph_emulator.base_url
    ) as client:
        inventory = list_managed_devices(client)
    assert list(inventory.columns) == list(schema.INVENTORY_COLUMNS)
    assert inventory[schema.INV_SERIAL].tolist() == ["5CG1234ABC", "PF3XYZ12", "X3"]
    assert inventory[schema.INV_IMEI].tolist() == ["352099001761481", "", ""]
    assert inventory[schema.INV_AZURE_AD_DEVICE_ID].tolist() == [
        "aaaaaaaa-1111-4111-8111-111111111111",
        "",  # Intune's zero GUID: no Entra registration
        "",
    ]
    check_in = inventory[schema.INV_LAST_CHECK_IN]
    assert str(check_in.dtype) == "datetime64[ns, UTC]"
    assert check_in.iloc[0] == pd.Timestamp("2026-11-20T08:15:00Z")
    assert check_in.iloc[1:].isna().all()  # year 1 does not fit datetime64[ns]; absent is unknown
    text = [c for c in schema.INVENTORY_COLUMNS if c != schema.INV_LAST_CHECK_IN]
    assert not inventory[text].isna().any().any()
    assert ("GET", "/v1.0/deviceManagement/managedDevices") in graph_emulator.log


def test_entra_devices_become_the_entra_frame(graph_emulator: GraphEmulator) -> None:
    graph_emulator.devices = [
        {
            "id": "OBJ-1",
            "deviceId": "AAAAAAAA-1111-4111-8111-111111111111",
            "displayName": "PC-001",
        },
        {"id": "obj-2", "deviceId": "bbbbbbbb-2222-4222-8222-222222222222", "displayName": None},
        {"id": "obj-3", "deviceId": "cccccccc-3333-4333-8333-333333333333", "displayName": "PC-3"},
    ]
    with GraphClient(
        static_token(graph_emulator.token), base_url=graph_emulator.base_url
    ) as client:
        devices = list_entra_devices(client)
    assert list(devices.columns) == list(schema.ENTRA_COLUMNS)
    assert devices.to_dict("records") == [
        {
            "device_id": "aaaaaaaa-1111-4111-8111-111111111111",
            "object_id": "obj-1",
            "display_name": "PC-001",
        },
        {
            "device_id": "bbbbbbbb-2222-4222-8222-222222222222",
            "object_id": "obj-2",
            "display_name": "",
        },
        {
            "device_id": "cccccccc-3333-4333-8333-333333333333",
            "object_id": "obj-3",
            "display_name": "PC-3",
        },
    ]


def test_graph_guids_are_compacted_as_the_export_parsers_do() -> None:
    from eidflow.graph.devices import entra_frame, inventory_frame
    from parsers import read_entra_devices

    written = "{AAAAAAAA-1111-4111-8111-111111111111} "
    entra = entra_frame([{"id": written, "deviceId": written, "displayName": "PC"}])
    exported = read_entra_devices(
        "exportDevice.csv", f"displayName,deviceId,objectId\nPC,{written},{written}\n".encode()
    )
    assert entra.to_dict("records") == exported.to_dict("records")
    assert entra[schema.ENTRA_OBJECT_ID_COL].tolist() == ["aaaaaaaa-1111-4111-8111-111111111111"]
    inventory = inventory_frame([MANAGED[0] | {"azureADDeviceId": written}])
    assert inventory[schema.INV_AZURE_AD_DEVICE_ID].tolist() == [
        "aaaaaaaa-1111-4111-8111-111111111111"
    ]


def test_empty_tenant_gives_empty_frames_with_the_columns(graph_emulator: GraphEmulator) -> None:
    with GraphClient(
        static_token(graph_emulator.token), base_url=graph_emulator.base_url
    ) as client:
        assert list(list_managed_devices(client).columns) == list(schema.INVENTORY_COLUMNS)
        assert list_entra_devices(client).empty
