"""eidflow serve: refuses clearly without a server; with one, scheduled inbox runs happen."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from prefect.settings import PREFECT_API_URL, temporary_settings

from app.settings import load_settings
from flows.serve import build_deployments, serve, server_problem
from tests.flows.prefect_server import clean_env, running_prefect_server, stop
from tests.flows.tenant import Device, manifest_csv, write_config

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("api_url", "says"),
    [(None, "PREFECT_API_URL is not set"), ("http://127.0.0.1:9/api", "no Prefect server answers")],
)
def test_without_a_server_serve_says_what_to_do_and_exits_2(api_url: str | None, says: str) -> None:
    assert says in str(server_problem(api_url, timeout=2))
    with temporary_settings({PREFECT_API_URL: api_url}):
        result = CliRunner().invoke(serve, [])
    assert result.exit_code == 2
    assert says in result.output
    assert "prefect server start" in result.output and "export PREFECT_API_URL=" in result.output


@pytest.mark.parametrize(
    ("flows", "inbox_schedule"),
    [
        ({"inbox_interval_seconds": 120}, ("interval", 120.0)),
        (
            {"inbox_cron": "*/10 7-19 * * 1-5", "timezone": "Europe/Paris"},
            ("cron", "*/10 7-19 * * 1-5"),
        ),
    ],
)
def test_deployments_take_their_schedules_from_the_config(
    tmp_path: Path, flows: dict[str, Any], inbox_schedule: tuple[str, Any]
) -> None:
    config = write_config(tmp_path, flows={"reconcile_cron": "30 5 * * *", **flows})
    deployments = build_deployments(load_settings(config), str(config))
    by_name = {f"{d.flow_name}/{d.name}": d for d in deployments}
    assert sorted(by_name) == [
        "ingest-manifests/manual",
        "reconcile-pending/daily",
        "watch-inbox/inbox",
    ]
    inbox = by_name["watch-inbox/inbox"]
    kind, value = inbox_schedule
    schedule = inbox.schedules[0].schedule
    if kind == "interval":
        assert schedule.interval.total_seconds() == value
    else:
        assert (schedule.cron, schedule.timezone) == (value, flows["timezone"])
    assert inbox.concurrency_limit == 1
    assert inbox.parameters == {"parameters": {"config_file": str(config)}}
    assert by_name["reconcile-pending/daily"].schedules[0].schedule.cron == "30 5 * * *"
    assert by_name["ingest-manifests/manual"].schedules in (None, [])


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_prefect_server(tmp_path_factory.mktemp("prefect-server")) as api_url:
        yield api_url


@pytest.mark.slow
def test_served_inbox_schedule_picks_up_a_dropped_manifest(
    tmp_path: Path, prefect_server: str
) -> None:
    work = tmp_path / "work"
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "shipment.csv").write_bytes(manifest_csv([Device(n) for n in range(41, 44)]))
    config = write_config(work, flows={"inbox": str(inbox), "inbox_interval_seconds": 2})
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "eidflow", "serve", "--config", str(config)],
        cwd=work,
        env=clean_env(
            PREFECT_HOME=str(tmp_path / "client-home"),
            PREFECT_API_URL=prefect_server,
            PREFECT_RUNNER_POLL_FREQUENCY="1",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 50
        while not (inbox / "archive" / "shipment.csv").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"no inbox run happened: {(tmp_path / 'serve.log').read_text()[-3000:]}"
                )
            time.sleep(0.5)
        # The file is archived inside the run; the run is marked COMPLETED a moment later.
        runs: list[dict[str, object]] = []
        while not any(run["auto_scheduled"] for run in runs):
            assert time.monotonic() < deadline, f"no scheduled run completed: {runs}"
            time.sleep(0.5)
            runs = httpx.post(
                f"{prefect_server}/flow_runs/filter",
                json={"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}},
                timeout=10,
            ).json()
        [run_dir] = list((work / "runs").iterdir())
        assert (run_dir / "summary.json").is_file()

        # A bulk purchase, run by hand through the served manual deployment.
        bulk = work / "bulk-po-1187.csv"
        bulk.write_bytes(manifest_csv([Device(n) for n in range(51, 56)]))
        parameters = json.dumps(
            {"parameters": {"manifests": [str(bulk)], "config_file": str(config)}}
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "prefect",
                "deployment",
                "run",
                "ingest-manifests/manual",
                "--params",
                parameters,
            ],
            env=clean_env(
                PREFECT_HOME=str(tmp_path / "client-home"), PREFECT_API_URL=prefect_server
            ),
            check=True,
            capture_output=True,
            timeout=60,
        )
        while len(list((work / "runs").glob("*/summary.json"))) < 2:
            if server.poll() is not None or time.monotonic() > deadline + 25:
                pytest.fail(
                    f"the manual run did not happen: {(tmp_path / 'serve.log').read_text()[-3000:]}"
                )
            time.sleep(0.5)
        [manual] = [p.parent for p in (work / "runs").glob("*/summary.json") if p.parent != run_dir]
        summary = json.loads((manual / "summary.json").read_text())
        assert summary["counts"]["by_status"] == {"accepted": 5}
    finally:
        stop(server)
        log.close()


@pytest.mark.slow
def test_prefect_yaml_deploys_the_flows_to_a_process_work_pool(
    tmp_path: Path, prefect_server: str
) -> None:
    env = clean_env(
        PREFECT_HOME=str(tmp_path / "client-home"),
        PREFECT_API_URL=prefect_server,
        EIDFLOW_HOME="/home/admin/eidflow",  # the deploying shell's: never frozen for workers
    )
    prefect = [sys.executable, "-m", "prefect"]
    subprocess.run(
        [*prefect, "work-pool", "create", "eidflow", "--type", "process", "--overwrite"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    deployed = subprocess.run(
        [*prefect, "--no-prompt", "deploy", "--all"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    found = httpx.post(f"{prefect_server}/deployments/filter", json={}, timeout=10).json()
    by_name = {d["name"]: d for d in found if d["work_pool_name"] == "eidflow"}
    assert sorted(by_name) == ["daily", "inbox", "manual"]
    assert by_name["inbox"]["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    # prefect.yaml gives no schedules (eidflow.toml is their one source): set them from it
    applied = subprocess.run(
        [sys.executable, "-m", "eidflow", "schedules", "apply"],
        cwd=tmp_path,  # no eidflow.toml here: [flows]' defaults
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    found = httpx.post(f"{prefect_server}/deployments/filter", json={}, timeout=10).json()
    by_name = {d["name"]: d for d in found if d["work_pool_name"] == "eidflow"}
    assert by_name["inbox"]["schedules"][0]["schedule"]["interval"] == 300
    assert by_name["daily"]["schedules"][0]["schedule"]["cron"] == "0 6 * * *"
    assert by_name["manual"]["schedules"] == []
    # The checkout is found on each worker host, whatever the deploying shell had.
    assert by_name["inbox"]["pull_steps"] == [{"flows.steps.work_in_checkout": {}}]
    assert "/home/admin/eidflow" not in json.dumps(found)
