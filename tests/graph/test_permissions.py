"""Which permissions the app has: the token's roles and read-only calls, against the emulator."""

from __future__ import annotations

import base64
import json

import pytest

from eidflow.graph import GraphClient, static_token
from eidflow.graph.permissions import check_commands, check_permissions, token_roles
from tests.graph_emulator import GraphEmulator

EVERY_READ = {
    "DeviceManagementManagedDevices.Read.All",
    "Device.Read.All",
    "Group.Read.All",
    "GroupMember.Read.All",
    "DeviceManagementConfiguration.Read.All",
}


def jwt(claims: dict[str, object]) -> str:
    """An access token's shape (header.claims.signature); Graph checks the signature, not eidflow."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def client_for(emulator: GraphEmulator) -> GraphClient:
    return GraphClient(
        static_token(emulator.token), base_url=emulator.base_url, sleep=lambda _: None
    )


@pytest.mark.parametrize(
    ("token", "roles"),
    [
        (jwt({"roles": ["Device.Read.All"]}), frozenset({"Device.Read.All"})),
        (jwt({"scp": "User.Read"}), None),
        ("opaque-token", None),
        ("a.!!!.c", None),
        (jwt({"roles": "Device.Read.All"}), None),
    ],
)
def test_token_roles(token: str, roles: frozenset[str] | None) -> None:
    assert token_roles(token) == roles


def test_a_permission_missing_from_the_roles_and_refused_is_named(
    graph_emulator: GraphEmulator,
) -> None:
    granted = EVERY_READ | {"GroupMember.ReadWrite.All", "Group.ReadWrite.All"}
    granted -= {"DeviceManagementConfiguration.Read.All"}
    graph_emulator.intune.permissions = granted
    graph_emulator.intune.throttle_every = 3
    graph_emulator.token = jwt({"roles": sorted(granted)})
    group = graph_emulator.intune.add_group("eSIM PCs")
    graph_emulator.groups[group] = set()
    with client_for(graph_emulator) as client:
        found = {
            p.name: p for p in check_permissions(client, token_roles(graph_emulator.token), group)
        }
    assert found["DeviceManagementConfiguration.Read.All"].status == "missing"
    assert "HTTP 403" in found["DeviceManagementConfiguration.Read.All"].how
    assert found["DeviceManagementConfiguration.ReadWrite.All"].status == "missing"
    assert found["GroupMember.Read.All"].status == "granted"
    assert found["Device.ReadWrite.All"].status == "missing"
    commands = {c.command: c for c in check_commands(list(found.values()))}
    assert commands["intune setup"].missing == ("DeviceManagementConfiguration.Read.All",)
    assert commands["ingest --inventory graph"].ok
    assert not [method for method, _ in graph_emulator.log if method != "GET"]  # read-only


def test_without_roles_reads_are_tried_and_writes_cannot_be_told(
    graph_emulator: GraphEmulator,
) -> None:
    graph_emulator.intune.permissions = EVERY_READ - {"Device.Read.All"}
    with client_for(graph_emulator) as client:
        found = {p.name: p for p in check_permissions(client, None)}
    assert found["Device.Read.All"].status == "missing"
    assert found["Group.Read.All"].status == "granted"
    assert found["GroupMember.Read.All"].status == "unknown"  # no group to read
    assert found["DeviceManagementConfiguration.ReadWrite.All"].status == "unknown"
