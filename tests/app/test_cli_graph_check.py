"""``eidflow graph check`` as a user runs it, against the Graph emulator."""

from __future__ import annotations

import json
from pathlib import Path

from eidflow.graph.permissions import COMMANDS
from tests.cli import eidflow
from tests.graph.test_permissions import jwt
from tests.graph_emulator import GraphEmulator, graph_emulator

__all__ = ["graph_emulator"]

EVERY = {name for _, needs in COMMANDS for name in needs}


def check(folder: Path, emulator: GraphEmulator, *args: str) -> tuple[int, str, str]:
    (folder / "eidflow.toml").write_text(f'[graph]\nbase_url = "{emulator.base_url}"\n')
    done = eidflow(
        "graph", "check", *args, cwd=folder, env={"EIDFLOW_GRAPH__ACCESS_TOKEN": emulator.token}
    )
    assert emulator.token not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout, done.stderr


def test_names_the_missing_permission_and_the_readme_step(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    granted = EVERY - {"DeviceManagementConfiguration.ReadWrite.All"}
    graph_emulator.intune.permissions = granted
    graph_emulator.intune.throttle_every = 4
    graph_emulator.token = jwt(
        {"roles": sorted(granted), "appid": "11111111-2222-3333-4444-555555555555"}
    )
    code, out, err = check(tmp_path, graph_emulator)
    assert code == 2
    assert "intune setup --apply" in out
    assert "missing DeviceManagementConfiguration.ReadWrite.All" in out
    assert "lacks 1 Graph permission(s): DeviceManagementConfiguration.ReadWrite.All" in err
    assert "Connecting to Microsoft Graph" in err
    assert len(err.strip().splitlines()) == 1


def test_every_permission_there_is_exit_0(tmp_path: Path, graph_emulator: GraphEmulator) -> None:
    graph_emulator.intune.permissions = set(EVERY)
    graph_emulator.token = jwt({"roles": sorted(EVERY)})
    code, out, _ = check(tmp_path, graph_emulator, "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["missing"] == [] and all(c["ok"] for c in answer["commands"])


def test_a_token_graph_refuses_is_one_line(tmp_path: Path, graph_emulator: GraphEmulator) -> None:
    (tmp_path / "eidflow.toml").write_text(f'[graph]\nbase_url = "{graph_emulator.base_url}"\n')
    done = eidflow(
        "graph", "check", cwd=tmp_path, env={"EIDFLOW_GRAPH__ACCESS_TOKEN": "expired-secret"}
    )
    assert done.returncode == 2
    assert "HTTP 401" in done.stderr and "expired-secret" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
