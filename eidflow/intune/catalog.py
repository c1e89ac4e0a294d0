"""The eSIM settings of the Settings Catalog, read from the tenant, never guessed.

The five definition ids are public (the Intune team's settings exports); the option ids of the
two booleans and the nesting are not, so they are read at run time from
``GET /beta/deviceManagement/configurationSettings/{id}`` (``options[].itemId``, ``childIds``,
``maximumCount``). A tenant whose definitions differ from the expected shape stops the command
with a message naming the difference. :func:`policy_settings` builds a policy's ``settings``
from them; :func:`read_settings` reads back what a policy holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eidflow.errors import EidflowError
from eidflow.graph.client import GraphClient, GraphError

ESIM = "device_vendor_msft_euiccs_{euicc}"
DOWNLOAD_SERVERS = f"{ESIM}_downloadservers_{{servername}}"
SERVER_NAME = f"{DOWNLOAD_SERVERS}_servername"
AUTO_ENABLE = f"{DOWNLOAD_SERVERS}_autoenable"
LOCAL_UI = f"{ESIM}_policies_localuienabled"
DEFINITION_IDS = (ESIM, DOWNLOAD_SERVERS, SERVER_NAME, AUTO_ENABLE, LOCAL_UI)

_T = "#microsoft.graph.deviceManagementConfiguration"
GROUP_COLLECTION = f"{_T}SettingGroupCollectionDefinition"
SIMPLE = f"{_T}SimpleSettingDefinition"
CHOICE = f"{_T}ChoiceSettingDefinition"
_EXPECTED_KIND = {
    ESIM: GROUP_COLLECTION,
    DOWNLOAD_SERVERS: GROUP_COLLECTION,
    SERVER_NAME: SIMPLE,
    AUTO_ENABLE: CHOICE,
    LOCAL_UI: CHOICE,
}
_PARENT = {
    DOWNLOAD_SERVERS: ESIM,
    LOCAL_UI: ESIM,
    SERVER_NAME: DOWNLOAD_SERVERS,
    AUTO_ENABLE: DOWNLOAD_SERVERS,
}
_TRUE_WORDS = {"true", "enabled", "enable", "yes", "1"}
_FALSE_WORDS = {"false", "disabled", "disable", "no", "0"}


class CatalogMismatch(EidflowError):
    """The tenant's eSIM setting definitions are not shaped as eidflow builds the policy."""


@dataclass(frozen=True)
class EsimCatalog:
    """What the tenant says about the eSIM settings: the boolean option ids, child order."""

    options: dict[str, dict[bool, str]]  # AUTO_ENABLE / LOCAL_UI → {True: itemId, False: itemId}
    children: dict[str, tuple[str, ...]]  # ESIM / DOWNLOAD_SERVERS → the childIds used, in order

    def option(self, setting_id: str, value: bool) -> str:
        return self.options[setting_id][value]

    def value_of(self, setting_id: str, item_id: str) -> bool | None:
        """The boolean an option id stands for; ``None`` for an id the tenant does not list."""
        return next(
            (flag for flag, item in self.options[setting_id].items() if item == item_id), None
        )


@dataclass(frozen=True)
class EsimSettings:
    """The eSIM settings a policy holds (or should hold)."""

    servers: tuple[str, ...]
    auto_enable: bool | None
    local_ui: bool | None
    other: tuple[str, ...] = ()  # setting ids outside the eSIM category

    def as_dict(self) -> dict[str, Any]:
        return {
            "servers": list(self.servers),
            "auto_enable": self.auto_enable,
            "display_local_ui": self.local_ui,
            "other_settings": list(self.other),
        }


def read_catalog(client: GraphClient) -> EsimCatalog:
    """The five definitions from the tenant, checked against the shape the policy needs."""
    definitions = {setting_id: _definition(client, setting_id) for setting_id in DEFINITION_IDS}
    for setting_id, definition in definitions.items():
        kind = definition.get("@odata.type")
        if kind != _EXPECTED_KIND[setting_id]:
            raise _mismatch(f"{setting_id} is {kind!r}, expected {_EXPECTED_KIND[setting_id]!r}")
    for child, parent in _PARENT.items():
        if child not in definitions[parent].get("childIds", []):
            raise _mismatch(f"{child} is not among the children of {parent}")
    if int(definitions[DOWNLOAD_SERVERS].get("maximumCount", 1) or 1) < 1:
        raise _mismatch(f"{DOWNLOAD_SERVERS} takes no instance")
    options = {
        setting_id: _boolean_options(definitions[setting_id])
        for setting_id in (AUTO_ENABLE, LOCAL_UI)
    }
    children = {
        parent: tuple(c for c in definitions[parent]["childIds"] if _PARENT.get(c) == parent)
        for parent in (ESIM, DOWNLOAD_SERVERS)
    }
    return EsimCatalog(options=options, children=children)


def policy_settings(catalog: EsimCatalog, wanted: EsimSettings) -> list[dict[str, Any]]:
    """The ``settings`` of a configuration policy that holds exactly ``wanted``."""
    assert (
        len(wanted.servers) == 1 and wanted.auto_enable is not None and wanted.local_ui is not None
    )
    leaves = {
        SERVER_NAME: {
            "@odata.type": f"{_T}SimpleSettingInstance",
            "settingDefinitionId": SERVER_NAME,
            "simpleSettingValue": {
                "@odata.type": f"{_T}StringSettingValue",
                "value": wanted.servers[0],
            },
        },
        AUTO_ENABLE: _choice(AUTO_ENABLE, catalog.option(AUTO_ENABLE, wanted.auto_enable)),
        LOCAL_UI: _choice(LOCAL_UI, catalog.option(LOCAL_UI, wanted.local_ui)),
    }
    servers = _collection(DOWNLOAD_SERVERS, [leaves[c] for c in catalog.children[DOWNLOAD_SERVERS]])
    leaves[DOWNLOAD_SERVERS] = servers
    esim = _collection(ESIM, [leaves[c] for c in catalog.children[ESIM]])
    return [{"@odata.type": f"{_T}Setting", "settingInstance": esim}]


def read_settings(catalog: EsimCatalog, settings: list[dict[str, Any]]) -> EsimSettings:
    """What a policy read with ``$expand=settings`` holds, as :class:`EsimSettings`."""
    servers: list[str] = []
    flags: dict[str, list[bool | None]] = {AUTO_ENABLE: [], LOCAL_UI: []}
    other: list[str] = []
    for instance in _instances(settings):
        setting_id = str(instance.get("settingDefinitionId", ""))
        if setting_id == SERVER_NAME:
            servers.append(str((instance.get("simpleSettingValue") or {}).get("value", "")))
        elif setting_id in flags:
            item = str((instance.get("choiceSettingValue") or {}).get("value", ""))
            flags[setting_id].append(catalog.value_of(setting_id, item))
        elif setting_id not in DEFINITION_IDS:
            other.append(setting_id)
    auto, local = flags[AUTO_ENABLE], flags[LOCAL_UI]
    return EsimSettings(
        servers=tuple(servers),
        auto_enable=auto[0] if len(auto) == 1 else None,
        local_ui=local[0] if len(local) == 1 else None,
        other=tuple(other),
    )


def _definition(client: GraphClient, setting_id: str) -> dict[str, Any]:
    try:
        answer: dict[str, Any] = client.request(
            "GET", f"/beta/deviceManagement/configurationSettings/{setting_id}"
        ).json()
    except GraphError as error:
        if error.status == 404:
            raise _mismatch(f"the tenant has no setting definition {setting_id}") from None
        raise
    return answer


def _boolean_options(definition: dict[str, Any]) -> dict[bool, str]:
    """``{True: itemId, False: itemId}`` from a choice definition's two options."""
    found: dict[bool, list[str]] = {True: [], False: []}
    options = definition.get("options") or []
    for option in options:
        flag = _flag_of(option)
        if flag is not None:
            found[flag].append(str(option["itemId"]))
    if len(options) != 2 or len(found[True]) != 1 or len(found[False]) != 1:
        shown = ", ".join(str(option.get("itemId")) for option in options) or "none"
        raise _mismatch(
            f"{definition.get('id')} does not offer one true and one false option ({shown})"
        )
    return {True: found[True][0], False: found[False][0]}


def _flag_of(option: dict[str, Any]) -> bool | None:
    """The boolean an option stands for: by its value, else its id's suffix, else its name."""
    value = (option.get("optionValue") or {}).get("value")
    if isinstance(value, bool | int) and value in (0, 1):
        return bool(value)
    words = [
        str(value),
        str(option.get("itemId", "")).rsplit("_", 1)[-1],
        str(option.get("displayName", "")),
    ]
    for word in (w.strip().lower() for w in words):
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    return None


def _choice(setting_id: str, item_id: str) -> dict[str, Any]:
    return {
        "@odata.type": f"{_T}ChoiceSettingInstance",
        "settingDefinitionId": setting_id,
        "choiceSettingValue": {"value": item_id, "children": []},
    }


def _collection(setting_id: str, children: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@odata.type": f"{_T}GroupSettingCollectionInstance",
        "settingDefinitionId": setting_id,
        "groupSettingCollectionValue": [{"children": children}],
    }


def _instances(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def visit(instance: dict[str, Any]) -> None:
        found.append(instance)
        for value in instance.get("groupSettingCollectionValue") or []:
            for child in value.get("children") or []:
                visit(child)
        for child in (instance.get("choiceSettingValue") or {}).get("children") or []:
            visit(child)

    for setting in settings:
        visit(setting.get("settingInstance") or {})
    return found


def _mismatch(what: str) -> CatalogMismatch:
    return CatalogMismatch(
        f"the tenant's eSIM setting definitions differ from what eidflow expects: {what}.",
        todo="Nothing was changed. Create the profile by hand (docs/graph.md 'Connecting to "
        "Microsoft Graph') and report the difference.",
    )
