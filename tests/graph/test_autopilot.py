"""Windows Autopilot identities from Graph (paged, filtered by serial), shaped like the
export file's frame."""

from __future__ import annotations

from eidflow import schema
from eidflow.graph import GraphClient, static_token
from eidflow.graph.autopilot import find_autopilot_identities, list_autopilot_identities
from parsers import read_autopilot_identities
from tests.graph_emulator import GraphEmulator, autopilot_identity

DEVICE = "a1f0c9d2-7e3b-4c8a-b5d6-{:012d}"


def client(emulator: GraphEmulator) -> GraphClient:
    return GraphClient(static_token(emulator.token), base_url=emulator.base_url)


def test_every_identity_over_several_pages(graph_emulator: GraphEmulator) -> None:
    graph_emulator.autopilot_identities = [
        autopilot_identity(f" pf4x{n:04d} ", DEVICE.format(n).upper()) for n in range(1, 6)
    ] + [autopilot_identity("PF4X0009", DEVICE.format(9), "0d6a1c2e-4b7f-4a51-9c3e-000000000009")]
    with client(graph_emulator) as graph:
        frame = list_autopilot_identities(graph)
    assert list(frame.columns) == list(schema.AUTOPILOT_COLUMNS)
    assert frame[schema.AP_SERIAL].tolist() == [f"PF4X{n:04d}" for n in (1, 2, 3, 4, 5, 9)]
    assert frame[schema.AP_AZURE_AD_DEVICE_ID].tolist()[0] == DEVICE.format(1)
    assert frame[schema.AP_MANAGED_DEVICE_ID].tolist() == [""] * 5 + [
        "0d6a1c2e-4b7f-4a51-9c3e-000000000009"  # the zero GUID is none
    ]
    assert frame[schema.AP_ENROLLMENT_STATE].tolist()[-1] == "enrolled"
    listings = [p for m, p in graph_emulator.log if p.endswith("windowsAutopilotDeviceIdentities")]
    assert len(listings) == 3  # pages of two


def test_identities_of_a_few_serials_are_asked_by_serial(graph_emulator: GraphEmulator) -> None:
    graph_emulator.autopilot_identities = [
        autopilot_identity("PF4X0001", DEVICE.format(1)),
        autopilot_identity("PF4X00012", DEVICE.format(12)),  # contains() matches it too
        autopilot_identity("PF4X0002", DEVICE.format(2)),
        autopilot_identity("PF4X0002", DEVICE.format(22)),  # registered twice: both come back
        autopilot_identity("O'HARA-1", DEVICE.format(3)),
    ]
    graph_emulator.page_size = 1  # a filtered listing is paged too
    with client(graph_emulator) as graph:
        frame = find_autopilot_identities(graph, ["pf4x0001", "PF4X0002", "O'HARA-1", "none"])
    assert frame[schema.AP_SERIAL].tolist() == ["O'HARA-1", "PF4X0001", "PF4X0002", "PF4X0002"]
    assert graph_emulator.autopilot_queries == [
        "contains(serialNumber,'NONE')",
        "contains(serialNumber,'O''HARA-1')",
        "contains(serialNumber,'PF4X0001')",
        "contains(serialNumber,'PF4X0002')",
    ]
    pages = [path for _, path in graph_emulator.log if path.endswith("DeviceIdentities")]
    assert len(pages) == 1 + 1 + 2 + 2  # NONE, O'HARA-1: a page each; the others: two each


def test_the_portal_export_and_graph_names_read_alike() -> None:
    portal = (
        "Serial number,Manufacturer,Model,Group tag,Profile status,Purchase order,"
        "Enrollment state,Microsoft Entra device ID,Intune device ID\r\n"
        " pf4x0001 ,Lenovo,T14s,SCHOOL-ESIM,Assigned,PO-1,Not contacted,"
        "{A1F0C9D2-7E3B-4C8A-B5D6-000000000001},00000000-0000-0000-0000-000000000000\r\n"
    ).encode("utf-8-sig")
    graph = (
        b"id;serialNumber;groupTag;enrollmentState;azureActiveDirectoryDeviceId;managedDeviceId\n"
        b"ap-1;PF4X0001;SCHOOL-ESIM;notContacted;a1f0c9d2-7e3b-4c8a-b5d6-000000000001;\n"
    )
    first = read_autopilot_identities("AutopilotDevices.csv", portal)
    second = read_autopilot_identities("identities.csv", graph)
    columns = [schema.AP_SERIAL, schema.AP_AZURE_AD_DEVICE_ID, schema.AP_MANAGED_DEVICE_ID]
    assert first[columns].to_dict("records") == second[columns].to_dict("records")
    assert first[schema.AP_AZURE_AD_DEVICE_ID].tolist() == [DEVICE.format(1)]
    assert first[schema.AP_GROUP_TAG].tolist() == ["SCHOOL-ESIM"]


def test_the_permission_is_told_by_a_read(graph_emulator: GraphEmulator) -> None:
    from eidflow.graph.permissions import check_commands, check_permissions

    graph_emulator.refuse_autopilot = 403
    with client(graph_emulator) as graph:
        found = {p.name: p for p in check_permissions(graph, None)}
    permission = found["DeviceManagementServiceConfig.Read.All"]
    assert permission.status == "missing"
    assert permission.how == "GET /v1.0/deviceManagement/windowsAutopilotDeviceIdentities: HTTP 403"
    commands = {c.command: c for c in check_commands(list(found.values()))}
    assert commands["ingest / reconcile --autopilot graph"].missing == (permission.name,)
