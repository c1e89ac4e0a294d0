"""``eidflow intune setup`` as a user runs it, against the Graph emulator with throttling on."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli import eidflow
from tests.entra_emulator import EntraEmulator, entra_emulator
from tests.graph_emulator import GraphEmulator, graph_emulator
from tests.graph_emulator_intune import AUTO_ENABLE, LOCAL_UI

__all__ = ["entra_emulator", "graph_emulator"]

OWNER = "7c1e0f52-3b9a-4d61-8e2f-5a0b9c7d1e34"
SERVER = "smdp.contoso-mobile.example"
GROUP = "eSIM PCs - contoso-mobile"
TOKEN = "eyJ0eXAiOiJKV1QifQ.secret-bearer-token-value.sig"


@pytest.fixture
def tenant(graph_emulator: GraphEmulator) -> GraphEmulator:
    graph_emulator.token = TOKEN
    graph_emulator.intune.throttle_every = 5
    graph_emulator.intune.unavailable_every = 9
    return graph_emulator


def write_config(
    folder: Path, emulator: GraphEmulator, server: str = SERVER, extra: str = ""
) -> Path:
    config = folder / "eidflow.toml"
    config.write_text(
        f"""
[graph]
base_url = "{emulator.base_url}"
max_retry_wait_seconds = 1
{extra}
[intune]
group_owners = ["{OWNER}"]
display_local_ui = false

[[operators]]
name = "contoso-mobile"
smdp_server = "{server}"
""",
        encoding="utf-8",
    )
    return config


def run(folder: Path, *args: str, token: str = TOKEN) -> tuple[int, str, str]:
    done = eidflow(
        "intune",
        "setup",
        "--operator",
        "contoso-mobile",
        *args,
        cwd=folder,
        env={"EIDFLOW_GRAPH__ACCESS_TOKEN": token},
    )
    assert token not in done.stdout + done.stderr  # no token, ever
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout, done.stderr


def writes(emulator: GraphEmulator) -> int:
    return sum(1 for method, _ in emulator.log if method != "GET")


def test_apply_twice_leaves_one_group_one_policy_one_assignment(
    tmp_path: Path, tenant: GraphEmulator, user_data_folder: Path
) -> None:
    write_config(tmp_path, tenant)
    code, out, _ = run(tmp_path)
    assert code == 0
    assert "+ group: create the static group" in out and "--apply" in out
    assert writes(tenant) == 0 and tenant.intune.policies == {}

    code, out, err = run(tmp_path, "--apply")
    assert code == 0, err
    assert "applied 3 change(s)" in out
    [group_id] = tenant.intune.directory_groups
    assert f'[entra] group_id = "{group_id}"' in out
    with sqlite3.connect(user_data_folder / "ledger.db") as ledger:  # the per-user ledger
        recorded = ledger.execute(
            "SELECT group_id, policy_id FROM intune_setups WHERE operator = 'contoso-mobile'"
        ).fetchall()
    assert recorded == [(group_id, next(iter(tenant.intune.policies)))]
    assert not (tmp_path / "runs").exists()  # nothing kept in a host's folder

    after_first = writes(tenant)
    code, out, _ = run(tmp_path, "--apply")
    assert code == 0 and "already holds" in out
    assert writes(tenant) == after_first

    [policy_id] = tenant.intune.policies
    assert tenant.intune.servers(policy_id) == [SERVER]
    assert tenant.intune.choice(policy_id, AUTO_ENABLE) == [f"{AUTO_ENABLE}_true"]
    assert tenant.intune.choice(policy_id, LOCAL_UI) == [f"{LOCAL_UI}_false"]
    assert [a["target"]["groupId"] for a in tenant.intune.assignments[policy_id]] == [group_id]
    assert tenant.intune.owners[group_id] == [OWNER]
    assert tenant.intune.faults > 0


def test_drift_shows_in_the_plan_and_apply_mends_it(tmp_path: Path, tenant: GraphEmulator) -> None:
    write_config(tmp_path, tenant)
    assert run(tmp_path, "--apply")[0] == 0
    [group_id] = tenant.intune.directory_groups
    [policy_id] = tenant.intune.policies
    tenant.intune.set_server(policy_id, "smdp.renamed-in-portal.example")
    tenant.intune.unassign(policy_id, group_id)
    tenant.intune.rename_group(group_id, "eSIM PCs (renamed)")

    elsewhere = tmp_path / "another-folder"  # what the apply recorded is in the ledger
    elsewhere.mkdir()
    write_config(elsewhere, tenant)
    code, out, _ = run(elsewhere, "--json")
    assert code == 0
    plan = json.loads(out)
    assert {(c["target"], c["action"]) for c in plan["changes"]} == {
        ("group", "rename"),
        ("policy", "update"),
        ("assignment", "assign"),
    }
    assert plan["policy"]["settings"]["servers"] == ["smdp.renamed-in-portal.example"]
    assert plan["group"] == {
        "id": group_id,
        "display_name": "eSIM PCs (renamed)",
        "found_by": "recorded id",
    }
    assert tenant.intune.servers(policy_id) == [
        "smdp.renamed-in-portal.example"
    ]  # a plan mends nothing

    code, out, _ = run(tmp_path, "--apply")
    assert code == 0 and "applied 3 change(s)" in out
    assert tenant.intune.servers(policy_id) == [SERVER]
    assert tenant.intune.directory_groups[group_id]["displayName"] == GROUP
    assert [a["target"]["groupId"] for a in tenant.intune.assignments[policy_id]] == [group_id]
    assert len(tenant.intune.directory_groups) == 1 and len(tenant.intune.policies) == 1


def test_export_writes_the_policy_body_and_the_plan(tmp_path: Path, tenant: GraphEmulator) -> None:
    write_config(tmp_path, tenant)
    code, _, _ = run(tmp_path, "--export", str(tmp_path / "review"))
    assert code == 0
    body = json.loads((tmp_path / "review" / "intune-contoso-mobile-policy.json").read_text())
    assert body["platforms"] == "windows10" and body["technologies"] == "mdm"
    assert SERVER in json.dumps(body["settings"])
    plan = json.loads((tmp_path / "review" / "intune-contoso-mobile-plan.json").read_text())
    assert len(plan["changes"]) == 3
    assert writes(tenant) == 0


@pytest.mark.parametrize(
    ("server", "says"),
    [
        ("https://smdp.contoso-mobile.example", "no scheme"),
        ("smdp.contoso-mobile.example:443", "no port"),
        ("smdp.contoso-mobile.example/es9", "no path"),
        ("a.example, b.example", "exactly one server"),
        ("", "no server name"),
    ],
)
def test_a_wrong_server_is_one_line_before_any_call(
    tmp_path: Path, tenant: GraphEmulator, server: str, says: str
) -> None:
    write_config(tmp_path, tenant, server=server)
    code, _, err = run(tmp_path, "--apply")
    assert code == 2
    assert says in err and "smdp_server" in err
    assert len(err.strip().splitlines()) == 1
    assert tenant.log == []


def test_an_unknown_operator_is_one_line(tmp_path: Path, tenant: GraphEmulator) -> None:
    write_config(tmp_path, tenant)
    done = eidflow("intune", "setup", "--operator", "fabrikam", cwd=tmp_path)
    assert done.returncode == 2
    assert "no operator profile named 'fabrikam' (profiles: contoso-mobile)" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_without_graph_settings_it_says_where_to_look(
    tmp_path: Path, tenant: GraphEmulator
) -> None:
    write_config(tmp_path, tenant)
    done = eidflow("intune", "setup", "--operator", "contoso-mobile", cwd=tmp_path)
    assert done.returncode == 2
    assert "[graph] is not configured" in done.stderr
    assert "Connecting to Microsoft Graph" in done.stderr


def test_a_missing_permission_names_the_permissions(tmp_path: Path, tenant: GraphEmulator) -> None:
    tenant.intune.permissions = {"Group.Read.All"}
    write_config(tmp_path, tenant)
    code, _, err = run(tmp_path)
    assert code == 2
    assert "HTTP 403" in err and "DeviceManagementConfiguration.ReadWrite.All" in err
    assert "eidflow graph check" in err
    assert len(err.strip().splitlines()) == 1


def test_graph_failing_after_retries_is_exit_3(tmp_path: Path, tenant: GraphEmulator) -> None:
    tenant.intune.throttle_every = 1  # every request throttled
    write_config(tmp_path, tenant, extra="max_attempts = 2")
    code, _, err = run(tmp_path)
    assert code == 3
    assert "HTTP 429" in err and len(err.strip().splitlines()) == 1


def test_with_msal_and_a_secret_neither_secret_nor_token_is_shown(
    tmp_path: Path, tenant: GraphEmulator, entra_emulator: EntraEmulator
) -> None:
    tenant.token = entra_emulator.token
    extra = (
        f'tenant_id = "{entra_emulator.tenant}"\nclient_id = "{entra_emulator.client_id}"\n'
        f'authority_host = "{entra_emulator.url}"'
    )
    write_config(tmp_path, tenant, extra=extra)
    for secret, expected in ((entra_emulator.client_secret, 0), ("Wr0ng~secret-value-123", 2)):
        done = eidflow(
            "intune",
            "setup",
            "--operator",
            "contoso-mobile",
            "--apply",
            "--json",
            cwd=tmp_path,
            env={"EIDFLOW_GRAPH__CLIENT_SECRET": secret},
        )
        shown = done.stdout + done.stderr
        assert done.returncode == expected, shown
        assert secret not in shown and entra_emulator.token not in shown
        assert "Traceback" not in shown
    assert "invalid_client" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    for path in tmp_path.rglob("*.json"):
        assert entra_emulator.client_secret not in path.read_text()
        assert entra_emulator.token not in path.read_text()


def test_a_dynamic_group_of_that_name_is_refused(tmp_path: Path, tenant: GraphEmulator) -> None:
    group_id = tenant.intune.add_group(GROUP)
    tenant.intune.directory_groups[group_id]["groupTypes"] = ["DynamicMembership"]
    write_config(tmp_path, tenant)
    code, _, err = run(tmp_path, "--apply")
    assert code == 2 and "not a static security group" in err
    assert tenant.intune.policies == {}


def test_local_ui_off_needs_auto_enable_on(tmp_path: Path, tenant: GraphEmulator) -> None:
    config = write_config(tmp_path, tenant)
    config.write_text(config.read_text().replace("[intune]", "[intune]\nauto_enable = false"))
    code, _, err = run(tmp_path)
    assert code == 2 and "display_local_ui = false needs auto_enable = true" in err
    assert tenant.log == []


def test_apply_refuses_the_samples_placeholder_group(tmp_path: Path, tenant: GraphEmulator) -> None:
    write_config(
        tmp_path, tenant, extra='[entra]\ngroup_id = "00000000-0000-0000-0000-000000000000"'
    )
    code, _, err = run(tmp_path, "--apply")
    assert code == 2, err
    [line] = err.strip().splitlines()
    assert "the samples' placeholder" in line and "set it in eidflow.toml" in line
    assert "[entra] group_id" in line and writes(tenant) == 0
