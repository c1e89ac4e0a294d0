"""One source of schedules: prefect.yaml gives none, ``eidflow schedules apply`` sets
eidflow.toml's on the deployed deployments, and a redeploy keeps them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.flows.prefect_server import clean_env, running_prefect_server
from tests.flows.tenant import write_config

REPO = Path(__file__).resolve().parents[2]


def test_prefect_yaml_has_no_schedules_of_its_own() -> None:
    deployments = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]
    assert {d["name"]: d.get("schedules") for d in deployments} == {
        "inbox": None,
        "daily": None,
        "manual": [],
    }


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_prefect_server(tmp_path_factory.mktemp("schedules-server")) as api_url:
        yield api_url


def test_the_deployed_deployments_get_eidflow_toml_s_schedules(
    tmp_path: Path, prefect_api: str
) -> None:
    env = clean_env(PREFECT_HOME=str(tmp_path / "admin"), PREFECT_API_URL=prefect_api)

    def run(*command: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", *command],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout

    def schedules(deployment: str) -> list[dict[str, object]]:
        found = httpx.get(f"{prefect_api}/deployments/name/{deployment}", timeout=15).json()
        return [item["schedule"] for item in found["schedules"]]

    run("prefect", "--no-prompt", "work-pool", "create", "eidflow", "--type", "process")
    run("prefect", "--no-prompt", "deploy", "--all")
    assert schedules("watch-inbox/inbox") == schedules("reconcile-pending/daily") == []

    flows = {"inbox_cron": "*/10 7-19 * * 1-5", "reconcile_cron": "30 5 * * *"}
    config = write_config(tmp_path, flows={**flows, "timezone": "Europe/Paris"})
    applied = run("eidflow", "schedules", "apply", "--config", str(config))
    assert "set        watch-inbox/inbox: cron '*/10 7-19 * * 1-5' (Europe/Paris)" in applied

    def as_configured() -> None:
        [inbox] = schedules("watch-inbox/inbox")
        [daily] = schedules("reconcile-pending/daily")
        assert (inbox["cron"], inbox["timezone"]) == (flows["inbox_cron"], "Europe/Paris")
        assert (daily["cron"], daily["timezone"]) == (flows["reconcile_cron"], "Europe/Paris")

    as_configured()
    run("prefect", "--no-prompt", "deploy", "--all")  # a redeploy keeps them
    as_configured()
    again = run("eidflow", "schedules", "apply", "--config", str(config))
    assert again.count("unchanged") == 2

    (tmp_path / "every-2-min").mkdir()
    interval = write_config(tmp_path / "every-2-min", flows={"inbox_interval_seconds": 120})
    run("eidflow", "schedules", "apply", "--config", str(interval))
    [inbox] = schedules("watch-inbox/inbox")
    assert inbox["interval"] == 120.0 and inbox["timezone"] == "UTC"
