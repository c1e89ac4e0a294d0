"""The emulator's Intune routes answer in Graph's shapes, errors included."""

from __future__ import annotations

import httpx
import pytest

from tests.graph_emulator import GraphEmulator
from tests.graph_emulator_intune import LOCAL_UI

POLICIES = "/beta/deviceManagement/configurationPolicies"


def call(emulator: GraphEmulator, method: str, path: str, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {emulator.token}"}
    return httpx.request(method, emulator.base_url + path, headers=headers, **kwargs)  # type: ignore[arg-type]


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "innerError"} <= set(body["error"])
    return body["error"]


def test_groups_found_by_display_name_and_created_with_owners(
    graph_emulator: GraphEmulator,
) -> None:
    owner = "https://graph.microsoft.com/v1.0/users/7c1e0f52-3b9a-4d61-8e2f-5a0b9c7d1e34"
    created = call(
        graph_emulator,
        "POST",
        "/v1.0/groups",
        json={
            "displayName": "eSIM PCs",
            "mailNickname": "eSIM-PCs",
            "mailEnabled": False,
            "securityEnabled": True,
            "groupTypes": [],
            "owners@odata.bind": [owner],
        },
    )
    assert created.status_code == 201 and created.json()["displayName"] == "eSIM PCs"
    found = call(
        graph_emulator, "GET", "/v1.0/groups", params={"$filter": "displayName eq 'esim pcs'"}
    )
    assert [g["id"] for g in found.json()["value"]] == [created.json()["id"]]
    assert created.json()["id"] in graph_emulator.groups  # members can be added to it


@pytest.mark.parametrize(
    "body",
    [
        {"displayName": "x", "mailEnabled": False, "securityEnabled": True},
        {"displayName": "x", "mailNickname": "a b", "mailEnabled": False, "securityEnabled": True},
        {"displayName": "x", "mailNickname": "x", "mailEnabled": True, "securityEnabled": True},
    ],
)
def test_a_group_body_graph_refuses_is_400(
    graph_emulator: GraphEmulator, body: dict[str, object]
) -> None:
    answer = call(graph_emulator, "POST", "/v1.0/groups", json=body)
    assert answer.status_code == 400 and error_of(answer)["code"] == "Request_BadRequest"


def test_missing_objects_are_404(graph_emulator: GraphEmulator) -> None:
    missing = "0b0e3c1a-0000-4000-8000-000000000000"
    assert (
        error_of(call(graph_emulator, "GET", f"/v1.0/groups/{missing}"))["code"]
        == "Request_ResourceNotFound"
    )
    for path in (
        f"{POLICIES}/{missing}",
        f"{POLICIES}/{missing}/assignments",
        "/beta/deviceManagement/configurationSettings/no_such_setting",
    ):
        answer = call(graph_emulator, "GET", path)
        assert answer.status_code == 404 and error_of(answer)["code"] == "NotFound"


def test_a_policy_with_an_option_the_definition_lacks_is_400(graph_emulator: GraphEmulator) -> None:
    body = {
        "name": "p",
        "platforms": "windows10",
        "technologies": "mdm",
        "settings": [
            {
                "settingInstance": {
                    "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
                    "settingDefinitionId": LOCAL_UI,
                    "choiceSettingValue": {"value": f"{LOCAL_UI}_maybe"},
                }
            }
        ],
    }
    answer = call(graph_emulator, "POST", POLICIES, json=body)
    assert answer.status_code == 400 and "_maybe" in str(error_of(answer)["message"])


def test_permissions_refuse_with_graph_and_intune_bodies(graph_emulator: GraphEmulator) -> None:
    graph_emulator.intune.permissions = {"Device.Read.All"}
    assert call(graph_emulator, "GET", "/v1.0/devices").status_code == 200
    groups = call(graph_emulator, "GET", "/v1.0/groups")
    assert groups.status_code == 403 and error_of(groups)["code"] == "Authorization_RequestDenied"
    policies = call(graph_emulator, "GET", POLICIES)
    assert policies.status_code == 403 and "DeviceManagementConfiguration.Read.All" in str(
        error_of(policies)["message"]
    )


def test_steady_throttling_and_unavailability(graph_emulator: GraphEmulator) -> None:
    graph_emulator.intune.throttle_every = 2
    graph_emulator.intune.unavailable_every = 3
    statuses = [call(graph_emulator, "GET", "/v1.0/devices") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 429, 503, 429]
    assert statuses[1].headers["Retry-After"] == graph_emulator.intune.retry_after
    assert error_of(statuses[2])["code"] == "ServiceUnavailable"
