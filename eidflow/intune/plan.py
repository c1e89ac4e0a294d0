"""What ``intune setup`` wants, what it found, and the changes between them (pure: no calls).

A :class:`Plan` holds what Graph answered; :func:`changes` compares it with :class:`Wanted`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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


def changes(plan: Plan) -> list[Change]:
    """What an apply would do to make the tenant hold what ``plan.wanted`` asks."""
    wanted = plan.wanted
    found: list[Change] = []
    if plan.group is None:
        gone = f" ({plan.group_found_by}: deleted?)" if plan.group_found_by else ""
        found.append(
            Change("group", "create", f"create the static group {wanted.group_name!r}{gone}")
        )
    elif plan.group.get("displayName") != wanted.group_name:
        found.append(
            Change(
                "group",
                "rename",
                f"the group {plan.group_id} was renamed; name it {wanted.group_name!r} again",
                plan.group.get("displayName"),
                wanted.group_name,
            )
        )
    if plan.policy is None:
        found.append(
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
            found.append(
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
        found.append(
            Change(
                "assignment",
                "assign",
                f"assign the policy to the group {plan.group_id or repr(wanted.group_name)}"
                f" (keeping its {len(plan.targets)} other assignment(s))",
                [target.get("groupId") for target in plan.targets],
                [*(target.get("groupId") for target in plan.targets), plan.group_id or "(new)"],
            )
        )
    return found


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
