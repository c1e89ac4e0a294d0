"""Which Graph application permissions each command needs, and whether the app has them.

Two sources, neither of which changes anything: the ``roles`` claim of the app's token (the
application permissions consented for it; read, never verified nor shown), and one read-only
call per readable permission (a 403 is a permission missing, whatever the token says). A write
permission cannot be tried without writing: without a ``roles`` claim it is reported unknown.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal

from eidflow.graph.client import GraphAccessDenied, GraphClient, GraphError

README_STEP = (
    "docs/graph.md 'Connecting to Microsoft Graph', step 2 (API permissions, admin consent)"
)

# (command, permissions it needs); reference: intune-esim.md §2 and domain.md.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingest --inventory graph", ("DeviceManagementManagedDevices.Read.All",)),
    ("ingest --entra-devices graph", ("Device.Read.All",)),
    # also asked when the inventory comes from Graph (without it: a warning, no Autopilot)
    ("ingest / reconcile --autopilot graph", ("DeviceManagementServiceConfig.Read.All",)),
    (
        "reconcile (with [graph] apply_memberships)",
        ("DeviceManagementManagedDevices.Read.All", "Device.Read.All", "GroupMember.ReadWrite.All"),
    ),
    ("groups sync", ("GroupMember.Read.All", "Device.Read.All")),
    ("groups sync --apply", ("GroupMember.ReadWrite.All", "Device.ReadWrite.All")),
    ("intune setup", ("Group.Read.All", "DeviceManagementConfiguration.Read.All")),
    (
        "intune setup --apply",
        ("Group.ReadWrite.All", "DeviceManagementConfiguration.ReadWrite.All"),
    ),
    (
        "intune status (and reconcile's profile statuses)",
        ("DeviceManagementConfiguration.Read.All", "DeviceManagementManagedDevices.Read.All"),
    ),
)

# Another permission that includes this one (a ReadWrite includes its Read).
_INCLUDED_IN = {
    "DeviceManagementManagedDevices.Read.All": ("DeviceManagementManagedDevices.ReadWrite.All",),
    "Device.Read.All": ("Device.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
    "Group.Read.All": ("Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
    "GroupMember.Read.All": ("GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All"),
    "GroupMember.ReadWrite.All": ("Group.ReadWrite.All",),
    "Group.ReadWrite.All": ("Directory.ReadWrite.All",),
    "Device.ReadWrite.All": ("Directory.ReadWrite.All",),
    "DeviceManagementConfiguration.Read.All": ("DeviceManagementConfiguration.ReadWrite.All",),
    "DeviceManagementServiceConfig.Read.All": ("DeviceManagementServiceConfig.ReadWrite.All",),
}

Status = Literal["granted", "missing", "unknown"]


@dataclass(frozen=True)
class Permission:
    name: str
    status: Status
    how: str  # what told: "token roles", "GET /v1.0/devices: 200", …

    def as_dict(self) -> dict[str, str]:
        return {"permission": self.name, "status": self.status, "how": self.how}


@dataclass(frozen=True)
class CommandCheck:
    command: str
    needs: tuple[str, ...]
    missing: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "needs": list(self.needs),
            "missing": list(self.missing),
            "unknown": list(self.unknown),
            "ok": self.ok,
        }


def probes(group_id: str) -> dict[str, str]:
    """A read-only call for each permission that allows reading something."""
    calls = {
        "DeviceManagementManagedDevices.Read.All": "/v1.0/deviceManagement/managedDevices?$top=1&$select=id",
        "Device.Read.All": "/v1.0/devices?$top=1&$select=id",
        "Group.Read.All": "/v1.0/groups?$top=1&$select=id",
        "DeviceManagementConfiguration.Read.All": "/beta/deviceManagement/configurationPolicies?$top=1&$select=id",
        "DeviceManagementServiceConfig.Read.All": "/v1.0/deviceManagement/windowsAutopilotDeviceIdentities?$top=1&$select=id",
    }
    if group_id:
        calls["GroupMember.Read.All"] = (
            f"/v1.0/groups/{group_id}/members/microsoft.graph.device?$top=1&$select=id"
        )
    return calls


def token_roles(token: str) -> frozenset[str] | None:
    """The ``roles`` claim of a JWT access token; ``None`` if it is not one or has none."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    roles = claims.get("roles") if isinstance(claims, dict) else None
    if not isinstance(roles, list):
        return None
    return frozenset(str(role) for role in roles)


def check_permissions(
    client: GraphClient, roles: frozenset[str] | None, group_id: str = ""
) -> list[Permission]:
    """Every permission a command needs, granted, missing or unknown, and how that was told."""
    names = sorted({name for _, needs in COMMANDS for name in needs})
    tried = {name: _try(client, path) for name, path in probes(group_id).items()}
    found = []
    for name in names:
        attempt = tried.get(name)
        if attempt is not None and attempt[0] != "unknown":  # what Graph did outweighs the token
            found.append(Permission(name, attempt[0], attempt[1]))
        elif roles is not None:
            held = name in roles or any(other in roles for other in _INCLUDED_IN.get(name, ()))
            found.append(Permission(name, "granted" if held else "missing", "the token's roles"))
        elif attempt is not None:
            found.append(Permission(name, attempt[0], attempt[1]))
        elif name == "GroupMember.Read.All":
            found.append(Permission(name, "unknown", "not tried: no [entra] group_id to read"))
        else:
            found.append(Permission(name, "unknown", "not tried: it needs a change to try"))
    return found


def check_commands(permissions: list[Permission]) -> list[CommandCheck]:
    status = {permission.name: permission.status for permission in permissions}
    return [
        CommandCheck(
            command,
            needs,
            tuple(name for name in needs if status.get(name) == "missing"),
            tuple(name for name in needs if status.get(name) == "unknown"),
        )
        for command, needs in COMMANDS
    ]


def _try(client: GraphClient, path: str) -> tuple[Status, str]:
    shown = path.split("?")[0]
    try:
        response = client.request("GET", path)
    except GraphAccessDenied as error:
        if error.status == 401:
            raise  # the credential, not a permission: nothing else can be told
        return "missing", f"GET {shown}: HTTP {error.status}"
    except GraphError as error:
        if error.status == 404:  # allowed to look, and nothing there
            return "granted", f"GET {shown}: HTTP 404"
        return "unknown", f"GET {shown}: HTTP {error.status}"
    return "granted", f"GET {shown}: HTTP {response.status_code}"
