"""``intune setup``: what the tenant has, what it should have, and the changes between them.

:func:`make_plan` only reads; :func:`apply_plan` makes the plan's changes, in order (group,
policy, assignment), then reads everything again so that the answer is what Graph now holds.
A plan with no changes is what a second apply finds.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eidflow.errors import ConfigError
from eidflow.graph.client import GraphClient
from eidflow.intune import catalog, objects
from eidflow.intune.plan import Change, Plan, Wanted, changes

__all__ = ["Change", "Plan", "Wanted", "apply_plan", "make_plan"]


def make_plan(
    client: GraphClient, wanted: Wanted, created_group: dict[str, Any] | None = None
) -> Plan:
    """Read the group, the eSIM definitions, the policy and its assignments; list the changes.

    ``created_group``: the group an apply just created. Entra replicates a new object with a
    lag, so a read right after may not find it; it is then this one, never created twice.
    """
    group, found_by = _locate_group(client, wanted)
    if group is None and created_group is not None:
        group, found_by = created_group, "just created"
    esim = catalog.read_catalog(client)
    policy = _locate_policy(client, wanted)
    current = catalog.read_settings(esim, policy.get("settings") or []) if policy else None
    targets = objects.assignment_targets(client, str(policy["id"])) if policy else []
    plan = Plan(wanted, esim, group, found_by, policy, current, targets)
    plan.changes = changes(plan)
    return plan


def apply_plan(client: GraphClient, plan: Plan) -> Plan:
    """Make the plan's changes; return the plan of what is left (none, unless Graph disagreed)."""
    wanted = plan.wanted
    group_id = plan.group_id
    created: dict[str, Any] | None = None
    for change in plan.changes:
        if change.target == "group" and change.action == "create":
            if not wanted.owner_refs:
                raise ConfigError(
                    f"creating the group {wanted.group_name!r} needs an owner.",
                    todo="Set [intune] group_owners to a user's object id, then rerun.",
                )
            created = objects.create_group(
                client, wanted.group_name, wanted.description, list(wanted.owner_refs)
            )
            group_id = str(created["id"])
        elif change.target == "group":
            objects.rename_group(client, group_id, wanted.group_name)
    policy_id = plan.policy_id
    for change in plan.changes:
        if change.target == "policy" and change.action == "create":
            policy_id = str(objects.create_policy(client, plan.policy_body())["id"])
        elif change.target == "policy":
            objects.replace_policy(client, policy_id, plan.policy_body())
    if any(change.target == "assignment" for change in plan.changes):
        objects.assign_merged(client, policy_id, group_id)
    return make_plan(
        client, replace(wanted, recorded_group_id=group_id, recorded_policy_id=policy_id), created
    )


def _locate_group(client: GraphClient, wanted: Wanted) -> tuple[dict[str, Any] | None, str]:
    if wanted.group_id:
        group = objects.get_group(client, wanted.group_id)
        if group is None:
            raise ConfigError(
                f"[entra] group_id {wanted.group_id} names no group in the tenant.",
                todo="Copy the Object ID from the group's Overview in Entra, or unset it to "
                "find or create the group by name.",
            )
        return _static(group), "[entra] group_id"
    if wanted.recorded_group_id:
        group = objects.get_group(client, wanted.recorded_group_id)
        if group is not None:
            return _static(group), "recorded id"
    group = objects.find_group(client, wanted.group_name)
    if group is None and wanted.recorded_group_id:
        return None, f"recorded id {wanted.recorded_group_id} not found"
    return _static(group), "display name" if group else ""


def _static(group: dict[str, Any] | None) -> dict[str, Any] | None:
    """The group, if it is a security group with assigned members (eidflow puts them in)."""
    if group is not None and (
        "DynamicMembership" in (group.get("groupTypes") or []) or not group.get("securityEnabled")
    ):
        raise ConfigError(
            f"the group {group.get('displayName')!r} ({group.get('id')}) is not a static "
            "security group (dynamic membership, or not security-enabled).",
            todo="Name another group in [intune] group_name, or set [entra] group_id.",
        )
    return group


def _locate_policy(client: GraphClient, wanted: Wanted) -> dict[str, Any] | None:
    if wanted.recorded_policy_id:
        policy = objects.get_policy(client, wanted.recorded_policy_id)
        if policy is not None:
            return policy
    return objects.find_policy(client, wanted.policy_name)
