"""``intune setup``: what the tenant has, what it should have, and the changes between them.

:func:`make_plan` only reads; :func:`apply_plan` makes the plan's changes, in order (group,
policy, assignment), then reads everything again so that the answer is what Graph now holds.
A plan with no changes is what a second apply finds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from eidflow.errors import ConfigError
from eidflow.graph.client import GraphClient
from eidflow.intune import catalog, objects
from eidflow.intune.catalog import EsimCatalog, EsimSettings

Action = Literal["create", "rename", "update", "assign"]


@dataclass(frozen=True)
class Wanted:
    """The Intune side for one operator, as the settings describe it (server already checked)."""

    operator: str
    server: str
    group_name: str
    policy_name: str
    auto_enable: bool
    local_ui: bool
    owner_refs: tuple[str, ...] = ()
    group_id: str = ""  # [entra] group_id, when set: the group is this one, whatever its name
    recorded_group_id: str = ""  # found or created by an earlier apply
    recorded_policy_id: str = ""

    @property
    def settings(self) -> EsimSettings:
        return EsimSettings((self.server,), self.auto_enable, self.local_ui)

    @property
    def description(self) -> str:
        return f"eSIM download server for operator {self.operator}; kept by eidflow intune setup."


@dataclass(frozen=True)
class Change:
    target: Literal["group", "policy", "assignment"]
    action: Action
    detail: str
    before: Any = None
    after: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "action": self.action,
            "detail": self.detail,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Plan:
    wanted: Wanted
    catalog: EsimCatalog
    group: dict[str, Any] | None  # as Graph has it; None: to be created
    group_found_by: str  # "[entra] group_id", "recorded id", "display name", or ""
    policy: dict[str, Any] | None
    policy_settings: EsimSettings | None
    targets: list[dict[str, Any]]  # the policy's assignment targets now
    changes: list[Change] = field(default_factory=list)

    @property
    def group_id(self) -> str:
        return str(self.group["id"]) if self.group else ""

    @property
    def policy_id(self) -> str:
        return str(self.policy["id"]) if self.policy else ""

    def policy_body(self) -> dict[str, Any]:
        """The policy as eidflow writes it (POST to create, PUT to mend)."""
        return {
            "name": self.wanted.policy_name,
            "description": self.wanted.description,
            "platforms": "windows10",
            "technologies": "mdm",
            "roleScopeTagIds": (self.policy or {}).get("roleScopeTagIds") or ["0"],
            "settings": catalog.policy_settings(self.catalog, self.wanted.settings),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "operator": self.wanted.operator,
            "server": self.wanted.server,
            "group": {
                "id": self.group_id or None,
                "display_name": (self.group or {}).get("displayName", self.wanted.group_name),
                "found_by": self.group_found_by or None,
            },
            "policy": {
                "id": self.policy_id or None,
                "name": (self.policy or {}).get("name", self.wanted.policy_name),
                "settings": self.policy_settings.as_dict() if self.policy_settings else None,
                "wanted": self.wanted.settings.as_dict(),
            },
            "assignments": self.targets,
            "changes": [change.as_dict() for change in self.changes],
        }


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
    plan.changes = _changes(plan)
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


def _changes(plan: Plan) -> list[Change]:
    wanted = plan.wanted
    changes: list[Change] = []
    if plan.group is None:
        gone = f" ({plan.group_found_by}: deleted?)" if plan.group_found_by else ""
        changes.append(
            Change("group", "create", f"create the static group {wanted.group_name!r}{gone}")
        )
    elif plan.group.get("displayName") != wanted.group_name:
        changes.append(
            Change(
                "group",
                "rename",
                f"the group {plan.group_id} was renamed; name it {wanted.group_name!r} again",
                plan.group.get("displayName"),
                wanted.group_name,
            )
        )
    if plan.policy is None:
        changes.append(
            Change(
                "policy",
                "create",
                f"create the eSIM policy {wanted.policy_name!r} for {wanted.server}",
                None,
                wanted.settings.as_dict(),
            )
        )
    else:
        drift = _policy_drift(plan)
        if drift:
            changes.append(
                Change(
                    "policy",
                    "update",
                    f"the policy {plan.policy_id} differs: {'; '.join(drift)}",
                    _policy_state(plan.policy.get("name"), plan.policy_settings),
                    _policy_state(wanted.policy_name, wanted.settings),
                )
            )
    assigned = plan.group is not None and any(
        objects.is_group_target(target, plan.group_id) for target in plan.targets
    )
    if not assigned:
        changes.append(
            Change(
                "assignment",
                "assign",
                f"assign the policy to the group {plan.group_id or repr(wanted.group_name)}"
                f" (keeping its {len(plan.targets)} other assignment(s))",
                [target.get("groupId") for target in plan.targets],
                [*(target.get("groupId") for target in plan.targets), plan.group_id or "(new)"],
            )
        )
    return changes


def _policy_drift(plan: Plan) -> list[str]:
    have, want = plan.policy_settings, plan.wanted.settings
    assert have is not None and plan.policy is not None
    drift = []
    if plan.policy.get("name") != plan.wanted.policy_name:
        drift.append(f"name {plan.policy.get('name')!r}, wanted {plan.wanted.policy_name!r}")
    if have.servers != want.servers:
        drift.append(
            f"server {', '.join(have.servers) or '(none)'}, wanted {', '.join(want.servers)}"
        )
    if have.auto_enable != want.auto_enable:
        drift.append(f"Auto Enable {_flag(have.auto_enable)}, wanted {_flag(want.auto_enable)}")
    if have.local_ui != want.local_ui:
        drift.append(f"Display Local UI {_flag(have.local_ui)}, wanted {_flag(want.local_ui)}")
    if have.other:
        drift.append(f"other settings {', '.join(have.other)}")
    return drift


def _policy_state(name: Any, settings: EsimSettings | None) -> dict[str, Any]:
    return {"name": name, **(settings.as_dict() if settings else {})}


def _flag(value: bool | None) -> str:
    return {True: "on", False: "off", None: "unset"}[value]
