"""The Graph calls behind ``intune setup``: the static group, the eSIM policy, its assignments.

Each function is one documented Graph call; a name matching two objects is an error naming
both ids, never a guess.
"""

from __future__ import annotations

import re
from typing import Any

from eidflow.errors import ConfigError
from eidflow.graph.client import GraphClient, GraphError

POLICIES = "/beta/deviceManagement/configurationPolicies"
GROUP_TARGET = "#microsoft.graph.groupAssignmentTarget"
_GROUP_FIELDS = "id,displayName,description,mailNickname,securityEnabled,groupTypes"


class AmbiguousName(ConfigError):
    """Two or more objects carry the name eidflow looks for."""


def get_group(client: GraphClient, group_id: str) -> dict[str, Any] | None:
    """The group with this object id, or ``None`` when Graph answers 404."""
    return _or_none(client, f"/v1.0/groups/{group_id}", {"$select": _GROUP_FIELDS})


def find_group(client: GraphClient, display_name: str) -> dict[str, Any] | None:
    """The one group of this display name, ``None`` when there is none."""
    quoted = display_name.replace("'", "''")  # OData doubles a quote inside a literal
    found = list(
        client.iter_values(
            "/v1.0/groups",
            params={"$filter": f"displayName eq '{quoted}'", "$select": _GROUP_FIELDS},
        )
    )
    if len(found) > 1:
        ids = ", ".join(str(group["id"]) for group in found)
        raise AmbiguousName(
            f"{len(found)} Entra groups are named {display_name!r} ({ids}).",
            todo="Rename or delete the extra ones, or set [entra] group_id to the one to use.",
        )
    return found[0] if found else None


def create_group(
    client: GraphClient, display_name: str, description: str, owner_refs: list[str]
) -> dict[str, Any]:
    """A new security group with assigned (static) membership, owned by ``owner_refs``."""
    body = {
        "displayName": display_name,
        "description": description,
        "mailNickname": mail_nickname(display_name),
        "mailEnabled": False,
        "securityEnabled": True,
        "groupTypes": [],
        "owners@odata.bind": owner_refs,
    }
    created: dict[str, Any] = client.request("POST", "/v1.0/groups", json=body).json()
    return created


def rename_group(client: GraphClient, group_id: str, display_name: str) -> None:
    client.request("PATCH", f"/v1.0/groups/{group_id}", json={"displayName": display_name})


def mail_nickname(display_name: str) -> str:
    """An ASCII mail nickname of at most 64 characters (required even when mail is off).

    >>> mail_nickname("eSIM PCs - Contoso Mobile (é)")
    'eSIM-PCs-Contoso-Mobile'
    """
    nickname = re.sub(r"[^A-Za-z0-9]+", "-", display_name).strip("-")[:64].rstrip("-")
    return nickname or "eidflow-esim-pcs"


def get_policy(client: GraphClient, policy_id: str) -> dict[str, Any] | None:
    """The policy with its settings, or ``None`` when Graph answers 404."""
    return _or_none(client, f"{POLICIES}/{policy_id}", {"$expand": "settings"})


def find_policy(client: GraphClient, name: str) -> dict[str, Any] | None:
    """The one settings-catalog policy of this name, read with its settings."""
    # $filter on configurationPolicies is not documented: list the names, match here.
    listed = client.iter_values(POLICIES, params={"$select": "id,name,platforms,technologies"})
    found = [policy for policy in listed if policy.get("name") == name]
    if len(found) > 1:
        ids = ", ".join(str(policy["id"]) for policy in found)
        raise AmbiguousName(
            f"{len(found)} configuration policies are named {name!r} ({ids}).",
            todo="Rename or delete the extra ones in the Intune admin center, then rerun.",
        )
    if found and (found[0].get("platforms"), found[0].get("technologies")) != ("windows10", "mdm"):
        raise AmbiguousName(
            f"the configuration policy {name!r} ({found[0]['id']}) is not a Windows settings-"
            f"catalog policy (platforms {found[0].get('platforms')!r}).",
            todo="Rename it, or set [intune] policy_name to another name.",
        )
    return get_policy(client, str(found[0]["id"])) if found else None


def create_policy(client: GraphClient, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = client.request("POST", POLICIES, json=body).json()
    return created


def replace_policy(client: GraphClient, policy_id: str, body: dict[str, Any]) -> None:
    """Write the whole policy (name, description, settings) over the one there.

    Unconfirmed in the reference: this is the admin center's own call for a settings change.
    """
    client.request("PUT", f"{POLICIES}/{policy_id}", json=body)


def assignment_targets(client: GraphClient, policy_id: str) -> list[dict[str, Any]]:
    """The policy's assignment targets as Graph lists them."""
    items = client.iter_values(f"{POLICIES}/{policy_id}/assignments")
    return [dict(item.get("target") or {}) for item in items]


def assign_merged(client: GraphClient, policy_id: str, group_id: str) -> list[dict[str, Any]]:
    """Add ``group_id`` to the policy's assignments, keeping every other one.

    Whether ``assign`` replaces or merges is unconfirmed: the current set is read first and
    posted back whole with the group added.
    """
    targets = assignment_targets(client, policy_id)
    if any(is_group_target(target, group_id) for target in targets):
        return targets
    merged = [*targets, {"@odata.type": GROUP_TARGET, "groupId": group_id}]
    body = {"assignments": [{"target": _writable(target)} for target in merged]}
    client.request("POST", f"{POLICIES}/{policy_id}/assign", json=body)
    return merged


def is_group_target(target: dict[str, Any], group_id: str) -> bool:
    return (
        target.get("@odata.type") == GROUP_TARGET
        and str(target.get("groupId", "")).lower() == group_id.lower()
    )


def _writable(target: dict[str, Any]) -> dict[str, Any]:
    """A target as read, without the nulls Graph lists but need not be sent back."""
    return {key: value for key, value in target.items() if value is not None}


def _or_none(client: GraphClient, path: str, params: dict[str, str]) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = client.request("GET", path, params=params).json()
    except GraphError as error:
        if error.status == 404:
            return None
        raise
    return found
