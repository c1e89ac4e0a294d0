"""``intune setup`` against the Graph emulator, throttled: plan, apply, apply again, drift."""

from __future__ import annotations

import dataclasses
import json

import pytest

from eidflow.errors import ConfigError
from eidflow.graph import GraphClient, static_token
from eidflow.intune import catalog
from eidflow.intune.catalog import CatalogMismatch
from eidflow.intune.objects import AmbiguousName
from eidflow.intune.setup import Wanted, apply_plan, make_plan
from tests.graph_emulator import GraphEmulator
from tests.graph_emulator_intune import AUTO_ENABLE, LOCAL_UI

OWNER = "https://graph.microsoft.com/v1.0/users/7c1e0f52-3b9a-4d61-8e2f-5a0b9c7d1e34"
WANTED = Wanted(
    operator="contoso-mobile",
    server="smdp.contoso-mobile.example",
    group_name="eSIM PCs - contoso-mobile",
    policy_name="eSIM download server - contoso-mobile",
    auto_enable=True,
    local_ui=False,
    owner_refs=(OWNER,),
)


@pytest.fixture
def client(graph_emulator: GraphEmulator) -> GraphClient:
    graph_emulator.intune.throttle_every = 4  # 429 with Retry-After
    graph_emulator.intune.unavailable_every = 7  # 503
    graph_emulator.intune.retry_after = "0.5"
    return GraphClient(
        static_token(graph_emulator.token), base_url=graph_emulator.base_url, sleep=lambda _: None
    )


def test_plan_on_an_empty_tenant_creates_all_three_and_changes_nothing(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    plan = make_plan(client, WANTED)
    assert [(c.target, c.action) for c in plan.changes] == [
        ("group", "create"),
        ("policy", "create"),
        ("assignment", "assign"),
    ]
    tenant = graph_emulator.intune
    assert tenant.directory_groups == {} and tenant.policies == {}
    assert not [m for m, _ in graph_emulator.log if m in ("POST", "PUT", "PATCH", "DELETE")]


def test_apply_twice_leaves_one_group_one_policy_one_assignment(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    tenant = graph_emulator.intune
    tenant.add_group("Finance laptops")  # another group, untouched
    after = apply_plan(client, make_plan(client, WANTED))
    assert after.changes == []
    writes = sum(1 for method, _ in graph_emulator.log if method != "GET")

    again = make_plan(client, WANTED)  # found by name this time: nothing recorded
    assert again.changes == []
    assert apply_plan(client, again).changes == []
    assert sum(1 for method, _ in graph_emulator.log if method != "GET") == writes

    [group_id] = [
        g for g, v in tenant.directory_groups.items() if v["displayName"] == WANTED.group_name
    ]
    assert tenant.owners[group_id] == ["7c1e0f52-3b9a-4d61-8e2f-5a0b9c7d1e34"]
    [policy_id] = tenant.policies
    assert tenant.servers(policy_id) == ["smdp.contoso-mobile.example"]
    assert tenant.choice(policy_id, AUTO_ENABLE) == [f"{AUTO_ENABLE}_true"]
    assert tenant.choice(policy_id, LOCAL_UI) == [f"{LOCAL_UI}_false"]
    assert [a["target"]["groupId"] for a in tenant.assignments[policy_id]] == [group_id]
    assert tenant.faults > 0  # it was throttled, and got through


def test_drift_shows_in_the_plan_and_only_apply_mends_it(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    tenant = graph_emulator.intune
    done = apply_plan(client, make_plan(client, WANTED))
    group_id, policy_id = done.group_id, done.policy_id
    other = tenant.add_group("Pilot PCs")
    client.request(  # an admin assigned it to another group too
        "POST",
        f"/beta/deviceManagement/configurationPolicies/{policy_id}/assign",
        json={
            "assignments": [
                {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": g}}
                for g in (group_id, other)
            ]
        },
    )
    tenant.set_server(policy_id, "smdp.old-operator.example")
    tenant.unassign(policy_id, group_id)
    tenant.rename_group(group_id, "eSIM PCs (old)")
    known = dataclasses.replace(WANTED, recorded_group_id=group_id, recorded_policy_id=policy_id)

    plan = make_plan(client, known)
    shown = {(c.target, c.action): c for c in plan.changes}
    assert set(shown) == {("group", "rename"), ("policy", "update"), ("assignment", "assign")}
    assert shown[("group", "rename")].before == "eSIM PCs (old)"
    assert "smdp.old-operator.example" in shown[("policy", "update")].detail
    assert make_plan(client, known).changes  # planning twice mends nothing
    assert tenant.servers(policy_id) == ["smdp.old-operator.example"]

    assert apply_plan(client, plan).changes == []
    assert tenant.directory_groups[group_id]["displayName"] == WANTED.group_name
    assert tenant.servers(policy_id) == ["smdp.contoso-mobile.example"]
    targets = sorted(a["target"]["groupId"] for a in tenant.assignments[policy_id])
    assert targets == sorted([group_id, other])  # merged: the other assignment kept
    assert len(tenant.policies) == 1
    assert len(tenant.directory_groups) == 2


def test_a_group_found_by_config_id_is_that_group(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    group_id = graph_emulator.intune.add_group("Named otherwise")
    plan = make_plan(client, dataclasses.replace(WANTED, group_id=group_id))
    assert plan.group_found_by == "[entra] group_id"
    assert ("group", "rename") in [(c.target, c.action) for c in plan.changes]


def test_a_config_id_naming_no_group_is_one_clear_error(client: GraphClient) -> None:
    missing = "3f1c7a52-8d4e-4b2a-9c61-0e5d7b8a4f20"
    with pytest.raises(ConfigError, match=f"group_id {missing} names no group"):
        make_plan(client, dataclasses.replace(WANTED, group_id=missing))


def test_two_groups_of_one_name_is_an_error_naming_both(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    first = graph_emulator.intune.add_group(WANTED.group_name)
    second = graph_emulator.intune.add_group(WANTED.group_name.upper())
    with pytest.raises(AmbiguousName) as caught:
        make_plan(client, WANTED)
    assert first in str(caught.value) and second in str(caught.value)


def test_a_name_with_a_quote_is_found(client: GraphClient, graph_emulator: GraphEmulator) -> None:
    wanted = dataclasses.replace(WANTED, group_name="O'Brien's eSIM PCs")
    group_id = graph_emulator.intune.add_group("O'Brien's eSIM PCs")
    assert make_plan(client, wanted).group_id == group_id


def test_creating_a_group_without_an_owner_stops_before_any_change(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    wanted = dataclasses.replace(WANTED, owner_refs=())
    with pytest.raises(ConfigError, match="group_owners"):
        apply_plan(client, make_plan(client, wanted))
    assert graph_emulator.intune.directory_groups == {} and graph_emulator.intune.policies == {}


def test_the_option_ids_come_from_the_tenant(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    definition = graph_emulator.intune.definitions[AUTO_ENABLE]
    for option in definition["options"]:
        option["itemId"] = option["itemId"].replace("autoenable_", "autoenable_v2_")
    apply_plan(client, make_plan(client, WANTED))
    [policy_id] = graph_emulator.intune.policies
    assert graph_emulator.intune.choice(policy_id, AUTO_ENABLE) == [f"{AUTO_ENABLE}_v2_true"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            lambda d: d[AUTO_ENABLE].update(options=d[AUTO_ENABLE]["options"][:1]),
            "one true and one false",
        ),
        (lambda d: d.pop(LOCAL_UI), "no setting definition"),
        (
            lambda d: d[catalog.ESIM].update(childIds=[catalog.DOWNLOAD_SERVERS]),
            "not among the children",
        ),
        (lambda d: d[catalog.SERVER_NAME].update({"@odata.type": "#x.y"}), "expected"),
    ],
)
def test_definitions_that_differ_stop_with_a_message(
    client: GraphClient, graph_emulator: GraphEmulator, change: object, says: str
) -> None:
    change(graph_emulator.intune.definitions)  # type: ignore[operator]
    with pytest.raises(CatalogMismatch, match=says):
        make_plan(client, WANTED)
    assert graph_emulator.intune.policies == {}


def test_a_second_server_added_in_the_portal_is_drift(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    done = apply_plan(client, make_plan(client, WANTED))
    policy = graph_emulator.intune.policies[done.policy_id]
    servers = policy["settings"][0]["settingInstance"]["groupSettingCollectionValue"][0][
        "children"
    ][0]
    values = servers["groupSettingCollectionValue"]
    values.append(json.loads(json.dumps(values[0])))
    values[1]["children"][0]["simpleSettingValue"]["value"] = "smdp.second.example"
    plan = make_plan(client, dataclasses.replace(WANTED, recorded_policy_id=done.policy_id))
    [change] = plan.changes
    assert change.target == "policy" and "smdp.second.example" in change.detail
    assert apply_plan(client, plan).changes == []
    assert graph_emulator.intune.servers(done.policy_id) == ["smdp.contoso-mobile.example"]


def test_a_group_not_yet_replicated_is_not_created_twice(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    tenant = graph_emulator.intune
    tenant.lagging = True  # Entra does not read a new group back at once
    after = apply_plan(client, make_plan(client, WANTED))
    assert after.changes == [] and after.group_found_by == "just created"
    [group_id] = tenant.directory_groups
    assert after.group_id == group_id
    tenant.replicate()
    assert make_plan(client, dataclasses.replace(WANTED, recorded_group_id=group_id)).changes == []
    assert len(tenant.directory_groups) == 1


def test_a_recorded_group_deleted_in_the_portal_is_created_again_on_apply(
    client: GraphClient, graph_emulator: GraphEmulator
) -> None:
    done = apply_plan(client, make_plan(client, WANTED))
    del graph_emulator.intune.directory_groups[done.group_id]
    known = dataclasses.replace(
        WANTED, recorded_group_id=done.group_id, recorded_policy_id=done.policy_id
    )
    plan = make_plan(client, known)
    assert [(c.target, c.action) for c in plan.changes] == [
        ("group", "create"),
        ("assignment", "assign"),
    ]
    assert f"recorded id {done.group_id} not found" in plan.changes[0].detail
    after = apply_plan(client, plan)
    assert after.changes == [] and after.group_id != done.group_id
    targets = [a["target"]["groupId"] for a in graph_emulator.intune.assignments[done.policy_id]]
    assert targets == [done.group_id, after.group_id]  # the old target kept: merged, not replaced
