"""The Intune side of the Graph emulator: groups by name, eSIM setting definitions, policies.

Kept apart from ``tests/graph_emulator.py`` (which holds it as ``GraphEmulator.intune``) so
that both grow without treading on each other. It answers, in Graph's documented shapes:

- ``GET /v1.0/groups?$filter=displayName eq '…'``, ``GET|PATCH /v1.0/groups/{id}``,
  ``POST /v1.0/groups`` (with ``owners@odata.bind``);
- ``GET /beta/deviceManagement/configurationSettings/{id}``: the five eSIM definitions
  (the Intune team's settings exports), which a test may change to play a different tenant;
- ``POST|GET /beta/deviceManagement/configurationPolicies`` (``$expand=settings``), ``PUT`` of one,
  ``POST …/{id}/assign`` (which *replaces* the set: the harsher reading) and ``GET …/assignments``;
- 403 for a call the app's ``permissions`` do not cover, 404 for a missing object;
- every ``throttle_every``-th HTTP request 429 with ``Retry-After``, every ``unavailable_every``-th 503.

Drift as an admin makes it in the portal: :meth:`IntuneTenant.set_server`,
:meth:`IntuneTenant.unassign`, :meth:`IntuneTenant.rename_group`.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

Answer = tuple[int, dict[str, Any] | None, dict[str, str]]

BASE = "device_vendor_msft_euiccs_{euicc}"
SERVERS = f"{BASE}_downloadservers_{{servername}}"
SERVER_NAME = f"{SERVERS}_servername"
AUTO_ENABLE = f"{SERVERS}_autoenable"
LOCAL_UI = f"{BASE}_policies_localuienabled"
_TYPE = "#microsoft.graph.deviceManagementConfiguration"
_INSTANCE_OF = {
    f"{_TYPE}SettingGroupCollectionDefinition": f"{_TYPE}GroupSettingCollectionInstance",
    f"{_TYPE}SimpleSettingDefinition": f"{_TYPE}SimpleSettingInstance",
    f"{_TYPE}ChoiceSettingDefinition": f"{_TYPE}ChoiceSettingInstance",
}
_ODATA_USER = re.compile(
    r"^https://graph\.microsoft\.com/v1\.0/(users|servicePrincipals|directoryObjects)/([0-9a-f-]{36})$"
)
_FILTER_NAME = re.compile(r"^displayName eq '((?:[^']|'')*)'$")
_POLICY = re.compile(
    r"^/beta/deviceManagement/configurationPolicies/([^/]+)(/assign|/assignments)?$"
)

# (method, path pattern) → the application permissions any one of which allows the call.
_READ_CONFIG = (
    "DeviceManagementConfiguration.Read.All",
    "DeviceManagementConfiguration.ReadWrite.All",
)
_WRITE_CONFIG = ("DeviceManagementConfiguration.ReadWrite.All",)
_READ_GROUPS = ("Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All")
PERMISSIONS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    (
        "GET",
        re.compile(r"^/deviceManagement/managedDevices"),
        ("DeviceManagementManagedDevices.Read.All", "DeviceManagementManagedDevices.ReadWrite.All"),
    ),
    (
        "GET",
        re.compile(r"^/devices"),
        ("Device.Read.All", "Device.ReadWrite.All", "Directory.Read.All"),
    ),
    (
        "GET",
        re.compile(r"^/groups/[^/]+/members"),
        (
            "GroupMember.Read.All",
            "GroupMember.ReadWrite.All",
            "Group.Read.All",
            "Group.ReadWrite.All",
        ),
    ),
    (
        "POST",
        re.compile(r"^/groups/[^/]+/members"),
        ("GroupMember.ReadWrite.All", "Group.ReadWrite.All"),
    ),
    (
        "DELETE",
        re.compile(r"^/groups/[^/]+/members"),
        ("GroupMember.ReadWrite.All", "Group.ReadWrite.All"),
    ),
    ("GET", re.compile(r"^/groups"), _READ_GROUPS),
    ("POST", re.compile(r"^/groups$"), ("Group.Create", "Group.ReadWrite.All")),
    ("PATCH", re.compile(r"^/groups/"), ("Group.ReadWrite.All",)),
    ("GET", re.compile(r"^/beta/deviceManagement/configuration"), _READ_CONFIG),
    ("POST", re.compile(r"^/beta/deviceManagement/configurationPolicies"), _WRITE_CONFIG),
    ("PUT", re.compile(r"^/beta/deviceManagement/configurationPolicies"), _WRITE_CONFIG),
)


# -- report export jobs of the eSIM policy (wt-profile) ----------------------------------
# ``POST /beta/deviceManagement/reports/exportJobs`` (served by ``tests/graph_emulator.py``)
# also answers DeviceStatusesByConfigurationProfile and DeviceAssignmentStatusByConfigurationPolicy
# from ``IntuneTenant.profile_statuses`` (rows by column id, filtered on ``PolicyId eq '…'``),
# and DevicesWithInventory's ``EID`` column from a managed device's ``esimIdentifier`` (a
# tenant whose devices have none does not report EIDs; ``refuse_eid_column`` plays one whose
# export refuses the column).
PROFILE_REPORTS = frozenset(
    {"DeviceStatusesByConfigurationProfile", "DeviceAssignmentStatusByConfigurationPolicy"}
)
INVENTORY_EXTRA = {"EID": "esimIdentifier"}
_POLICY_FILTER = re.compile(r"^\(?PolicyId eq '((?:[^']|'')*)'\)?$")


def esim_definitions() -> dict[str, dict[str, Any]]:
    """The five eSIM setting definitions, as ``configurationSettings/{id}`` returns them."""

    def common(
        kind: str, setting_id: str, name: str, display: str, offset: str, build: str
    ) -> dict[str, Any]:
        return {
            "@odata.type": f"{_TYPE}{kind}Definition",
            "id": setting_id,
            "name": name,
            "displayName": display,
            "baseUri": "./Vendor/MSFT/eUICCs",
            "offsetUri": offset,
            "categoryId": "f8ab6b7e-0f5c-4a1e-9c8a-4bd0b1e5c2a1",
            "applicability": {
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationWindowsSettingApplicability",
                "platform": "windows10",
                "technologies": "mdm",
                "minimumSupportedVersion": build,
            },
            "dependentOn": [],
        }

    def boolean(
        setting_id: str, name: str, display: str, offset: str, build: str, default: bool
    ) -> dict[str, Any]:
        definition = common("ChoiceSetting", setting_id, name, display, offset, build)
        definition["options"] = [
            {
                "itemId": f"{setting_id}_{value}",
                "name": value,
                "displayName": value.capitalize(),
                "optionValue": {"@odata.type": f"{_TYPE}IntegerSettingValue", "value": number},
                "dependentOn": [],
            }
            for value, number in (("false", 0), ("true", 1))
        ]
        definition["defaultOptionId"] = f"{setting_id}_{str(default).lower()}"
        return definition

    base = common("SettingGroupCollection", BASE, "{eUICC}", "eSIM", "/Default", "10.0.16299")
    base |= {"childIds": [SERVERS, LOCAL_UI], "maximumCount": 1, "minimumCount": 0}
    servers = common(
        "SettingGroupCollection",
        SERVERS,
        "{ServerName}",
        "Download Servers",
        "/Default/DownloadServers/{0}",
        "10.0.22000",
    )
    servers |= {"childIds": [SERVER_NAME, AUTO_ENABLE], "maximumCount": 100, "minimumCount": 0}
    server_name = common(
        "SimpleSetting",
        SERVER_NAME,
        "ServerName",
        "Server Name",
        "/Default/DownloadServers/{0}/ServerName",
        "10.0.16299",
    )
    server_name["valueDefinition"] = {
        "@odata.type": f"{_TYPE}StringSettingValueDefinition",
        "maximumLength": 2048,
        "minimumLength": 0,
    }
    auto = boolean(
        AUTO_ENABLE,
        "AutoEnable",
        "Auto Enable",
        "/Default/DownloadServers/{0}/AutoEnable",
        "10.0.22000",
        True,
    )
    local = boolean(
        LOCAL_UI,
        "LocalUIEnabled",
        "Display Local UI",
        "/Default/Policies/LocalUIEnabled",
        "10.0.16299",
        True,
    )
    return {item["id"]: item for item in (base, servers, server_name, auto, local)}


@dataclass
class IntuneTenant:
    """Directory groups (by object), setting definitions, configuration policies."""

    directory_groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → group
    owners: dict[str, list[str]] = field(default_factory=dict)  # group id → owner ids
    definitions: dict[str, dict[str, Any]] = field(default_factory=esim_definitions)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → policy with settings
    assignments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # policy id → list
    permissions: set[str] | None = None  # the app's application permissions; None = all
    throttle_every: int = 0  # every Nth HTTP request is a 429 …
    retry_after: str = "0.01"  # … with this Retry-After
    unavailable_every: int = 0  # every Nth HTTP request is a transient 503
    faults: int = 0  # how many 429/503 were sent
    # wt-profile: rows of the per-device status reports, by column id (IntuneDeviceId,
    # DeviceName, PolicyId, PolicyStatus, PspdpuLastModifiedTimeUtc, AadDeviceId, ...)
    profile_statuses: list[dict[str, str]] = field(default_factory=list)
    refuse_eid_column: bool = False  # DevicesWithInventory answers 400 to a select of EID
    # Entra's replication lag: a group created now is not read back until replicate().
    lagging: bool = False
    unreplicated: set[str] = field(default_factory=set)

    # -- drift, as made in the portal ------------------------------------------------
    def add_group(self, display_name: str, group_id: str | None = None) -> str:
        group_id = group_id or str(uuid.uuid4())
        self.directory_groups[group_id] = _group(group_id, display_name, display_name[:20] or "g")
        return group_id

    def replicate(self) -> None:
        self.unreplicated.clear()

    def rename_group(self, group_id: str, display_name: str) -> None:
        self.directory_groups[group_id]["displayName"] = display_name

    def unassign(self, policy_id: str, group_id: str) -> None:
        self.assignments[policy_id] = [
            item
            for item in self.assignments.get(policy_id, [])
            if item["target"].get("groupId") != group_id
        ]

    def set_server(self, policy_id: str, server: str) -> None:
        for instance in _walk(self.policies[policy_id]["settings"]):
            if instance["settingDefinitionId"] == SERVER_NAME:
                instance["simpleSettingValue"]["value"] = server

    def servers(self, policy_id: str) -> list[str]:
        return [
            instance["simpleSettingValue"]["value"]
            for instance in _walk(self.policies[policy_id]["settings"])
            if instance["settingDefinitionId"] == SERVER_NAME
        ]

    def choice(self, policy_id: str, setting_id: str) -> list[str]:
        return [
            instance["choiceSettingValue"]["value"]
            for instance in _walk(self.policies[policy_id]["settings"])
            if instance["settingDefinitionId"] == setting_id
        ]

    # -- report export jobs (wt-profile) -----------------------------------------------
    def refuse_report(self, report: str, select: list[str]) -> Answer | None:
        """Graph's 400 for a report it does not know or a column it does not have."""
        if report not in PROFILE_REPORTS | {"DevicesWithInventory"}:
            return _error(400, "BadRequest", f"Unknown report {report!r}.")
        if report == "DevicesWithInventory" and self.refuse_eid_column and "EID" in select:
            return _error(400, "BadRequest", "Invalid select column 'EID'.")
        return None

    def report_rows(self, report: str, filter_: str) -> list[dict[str, str]] | None:
        """The rows of a per-device status report (``None``: not one of them)."""
        if report not in PROFILE_REPORTS:
            return None
        found = _POLICY_FILTER.match(filter_.strip())
        wanted = found.group(1).replace("''", "'") if found else None
        return [row for row in self.profile_statuses if wanted in (None, row.get("PolicyId"))]

    # -- HTTP --------------------------------------------------------------------------
    def fault(self, number: int) -> Answer | None:
        """429 or 503 for the ``number``-th HTTP request, when the knobs say so."""
        if self.throttle_every and number % self.throttle_every == 0:
            self.faults += 1
            return _error(
                429, "TooManyRequests", "Too many requests.", {"Retry-After": self.retry_after}
            )
        if self.unavailable_every and number % self.unavailable_every == 0:
            self.faults += 1
            return _error(
                503,
                "ServiceUnavailable",
                "The service is temporarily unavailable.",
                {"Retry-After": self.retry_after},
            )
        return None

    def route(
        self, emulator: Any, method: str, path: str, args: dict[str, str], payload: Any
    ) -> Answer | None:
        """The answer for a call this module serves (or a 403), else ``None``."""
        denied = self._denied(method, path)
        if denied is not None:
            return denied
        if path == "/groups":
            if method == "GET":
                return self._find_groups(emulator, args)
            if method == "POST":
                return self._create_group(emulator, payload)
        found = re.fullmatch(r"/groups/([^/]+)", path)
        if found:
            return self._one_group(method, found.group(1), payload)
        if path.startswith("/beta/deviceManagement/configurationSettings/") and method == "GET":
            definition = self.definitions.get(path.rsplit("/", 1)[1])
            return (200, copy.deepcopy(definition), {}) if definition else _intune_not_found()
        if path == "/beta/deviceManagement/configurationPolicies":
            if method == "POST":
                return self._create_policy(payload)
            if method == "GET":
                listed = [_without_settings(policy) for policy in self.policies.values()]
                return emulator._page(path, listed, args)
        found = _POLICY.fullmatch(path)
        if found:
            return self._one_policy(method, found.group(1), found.group(2) or "", args, payload)
        return None

    def _denied(self, method: str, path: str) -> Answer | None:
        if self.permissions is None:
            return None
        for verb, pattern, allowed in PERMISSIONS:
            if verb == method and pattern.match(path):
                if self.permissions & set(allowed):
                    return None
                if path.startswith("/beta/"):
                    return _error(
                        403,
                        "Forbidden",
                        (
                            "Application is not authorized to perform this operation. Application must "
                            f"have one of the following scopes: {', '.join(allowed)} - Operation ID "
                            f"(for customer support): {uuid.uuid4()}"
                        ),
                    )
                return _error(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                )
        return None

    def _find_groups(self, emulator: Any, args: dict[str, str]) -> Answer:
        wanted = args.get("$filter")
        if wanted is None:
            return emulator._page("/groups", self._replicated(), args)
        found = _FILTER_NAME.fullmatch(wanted)
        if found is None:
            return _error(
                400,
                "Request_UnsupportedQuery",
                "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'Group'.",
            )
        name = found.group(1).replace("''", "'")
        # Graph compares displayName case-insensitively.
        matching = [g for g in self._replicated() if g["displayName"].lower() == name.lower()]
        return emulator._page("/groups", matching, args)

    def _create_group(self, emulator: Any, payload: Any) -> Answer:
        body = payload or {}
        nickname = str(body.get("mailNickname", ""))
        if not body.get("displayName") or not nickname:
            return _error(
                400,
                "Request_BadRequest",
                "A value is required for property 'mailNickname' of resource 'Group'.",
            )
        if (
            len(nickname) > 64
            or not re.fullmatch(r"[\x21-\x7e]+", nickname)
            or re.search(r'[@()\\\[\]";:<>,]', nickname)
        ):
            return _error(
                400,
                "Request_BadRequest",
                "Invalid value specified for property 'mailNickname' of resource 'Group'.",
            )
        if body.get("mailEnabled") is not False or body.get("securityEnabled") is not True:
            return _error(
                400,
                "Request_BadRequest",
                "A security group must have mailEnabled false and securityEnabled true.",
            )
        owners = []
        for ref in body.get("owners@odata.bind", []):
            matched = _ODATA_USER.match(str(ref))
            if matched is None:
                return _error(
                    400, "Request_BadRequest", "Invalid object identifier in owners@odata.bind."
                )
            owners.append(matched.group(2))
        group_id = str(uuid.uuid4())
        group = _group(group_id, body["displayName"], nickname) | {
            "description": body.get("description")
        }
        self.directory_groups[group_id] = group
        self.owners[group_id] = owners
        if self.lagging:
            self.unreplicated.add(group_id)
        emulator.groups.setdefault(group_id, set())  # the members the other routes serve
        return 201, copy.deepcopy(group), {}

    def _replicated(self) -> list[dict[str, Any]]:
        return [g for i, g in self.directory_groups.items() if i not in self.unreplicated]

    def _one_group(self, method: str, group_id: str, payload: Any) -> Answer:
        group = self.directory_groups.get(group_id)
        if group is None or group_id in self.unreplicated:
            return _error(
                404,
                "Request_ResourceNotFound",
                f"Resource '{group_id}' does not exist or one of its queried reference-property objects are not present.",
            )
        if method == "GET":
            return 200, copy.deepcopy(group), {}
        if method == "PATCH":
            for key in ("displayName", "description"):
                if key in (payload or {}):
                    group[key] = payload[key]
            return 204, None, {}
        return _error(405, "Request_BadRequest", "Method not allowed.")

    def _create_policy(self, payload: Any) -> Answer:
        problem = self._check_policy(payload or {})
        if problem:
            return _error(400, "BadRequest", problem)
        policy_id = str(uuid.uuid4())
        now = "2026-12-04T18:00:00Z"
        self.policies[policy_id] = {
            "id": policy_id,
            "name": payload["name"],
            "description": payload.get("description", ""),
            "platforms": payload["platforms"],
            "technologies": payload["technologies"],
            "createdDateTime": now,
            "lastModifiedDateTime": now,
            "settingCount": len(payload["settings"]),
            "roleScopeTagIds": payload.get("roleScopeTagIds", ["0"]),
            "isAssigned": False,
            "templateReference": {"templateId": "", "templateFamily": "none"},
            "settings": _numbered(payload["settings"]),
        }
        self.assignments[policy_id] = []
        return 201, _without_settings(self.policies[policy_id]), {}

    def _one_policy(
        self, method: str, policy_id: str, tail: str, args: dict[str, str], payload: Any
    ) -> Answer:
        policy = self.policies.get(policy_id)
        if policy is None:
            return _intune_not_found()
        if tail == "" and method == "GET":
            expand = args.get("$expand", "")
            return (
                200,
                copy.deepcopy(policy if expand == "settings" else _without_settings(policy)),
                {},
            )
        if tail == "" and method == "PUT":
            problem = self._check_policy(payload or {})
            if problem:
                return _error(400, "BadRequest", problem)
            policy.update(
                name=payload["name"],
                description=payload.get("description", ""),
                settings=_numbered(payload["settings"]),
                settingCount=len(payload["settings"]),
            )
            return 204, None, {}
        if tail == "/assignments" and method == "GET":
            return 200, {"value": copy.deepcopy(self.assignments[policy_id])}, {}
        if tail == "/assign" and method == "POST":
            given = (payload or {}).get("assignments")
            if not isinstance(given, list):
                return _error(400, "BadRequest", "The request body must hold 'assignments'.")
            kept = []
            for item in given:
                target = item.get("target") or {}
                if target.get(
                    "@odata.type"
                ) != "#microsoft.graph.groupAssignmentTarget" or not target.get("groupId"):
                    return _error(
                        400,
                        "BadRequest",
                        "Each assignment needs a groupAssignmentTarget with a groupId.",
                    )
                kept.append(
                    {
                        "id": f"{policy_id}_{target['groupId']}",
                        "source": "direct",
                        "sourceId": policy_id,
                        "target": {
                            "deviceAndAppManagementAssignmentFilterId": None,
                            "deviceAndAppManagementAssignmentFilterType": "none",
                            **target,
                        },
                    }
                )
            self.assignments[policy_id] = kept  # assign replaces the whole set
            policy["isAssigned"] = bool(kept)
            return 200, {"value": copy.deepcopy(kept)}, {}
        return _error(405, "BadRequest", "Method not allowed.")

    def _check_policy(self, body: dict[str, Any]) -> str:
        if (
            not body.get("name")
            or body.get("platforms") != "windows10"
            or body.get("technologies") != "mdm"
        ):
            return "A policy needs a name, platforms 'windows10' and technologies 'mdm'."
        settings = body.get("settings")
        if not isinstance(settings, list):
            return "A policy needs 'settings'."
        for setting in settings:
            problem = self._check_instance(setting.get("settingInstance") or {}, None)
            if problem:
                return problem
        return ""

    def _check_instance(self, instance: dict[str, Any], parent: dict[str, Any] | None) -> str:
        setting_id = instance.get("settingDefinitionId", "")
        definition = self.definitions.get(setting_id)
        if definition is None:
            return f"Setting definition '{setting_id}' does not exist."
        if parent is not None and setting_id not in parent.get("childIds", []):
            return f"Setting '{setting_id}' is not a child of '{parent['id']}'."
        if instance.get("@odata.type") != _INSTANCE_OF.get(definition["@odata.type"]):
            return f"Setting '{setting_id}' needs an instance of type {_INSTANCE_OF.get(definition['@odata.type'])}."
        if "groupSettingCollectionValue" in instance or definition["@odata.type"].endswith(
            "GroupCollectionDefinition"
        ):
            values = instance.get("groupSettingCollectionValue") or []
            if len(values) > definition.get("maximumCount", 1):
                return f"Setting '{setting_id}' takes at most {definition.get('maximumCount')} instances."
            for value in values:
                for child in value.get("children", []):
                    problem = self._check_instance(child, definition)
                    if problem:
                        return problem
        elif "choiceSettingValue" in instance:
            chosen = instance["choiceSettingValue"].get("value")
            if chosen not in [option["itemId"] for option in definition.get("options", [])]:
                return f"Option '{chosen}' is not valid for setting '{setting_id}'."
        elif not isinstance(instance.get("simpleSettingValue", {}).get("value"), str):
            return f"Setting '{setting_id}' needs a string value."
        return ""


def _group(group_id: str, display_name: str, nickname: str) -> dict[str, Any]:
    return {
        "id": group_id,
        "displayName": display_name,
        "description": None,
        "mailNickname": nickname,
        "mailEnabled": False,
        "securityEnabled": True,
        "groupTypes": [],
        "createdDateTime": "2026-12-04T18:00:00Z",
    }


def _numbered(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"id": str(n), "settingInstance": copy.deepcopy(s["settingInstance"])}
        for n, s in enumerate(settings)
    ]


def _without_settings(policy: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in policy.items() if key != "settings"}


def _walk(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every setting instance, depth first."""
    found: list[dict[str, Any]] = []

    def visit(instance: dict[str, Any]) -> None:
        found.append(instance)
        for value in instance.get("groupSettingCollectionValue") or []:
            for child in value.get("children", []):
                visit(child)

    for setting in settings:
        visit(setting["settingInstance"])
    return found


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Answer:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2026-12-04T18:00:00",
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }
    return status, body, headers or {}


def _intune_not_found() -> Answer:
    return _error(404, "NotFound", '{"_version": 3, "Message": "Resource not found"}')
