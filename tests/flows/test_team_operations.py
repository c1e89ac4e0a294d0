"""eidflow run for a team as the manual says (docs/team.md, "For a team"): a Prefect server,
a process work pool, workers, the deployments of prefect.yaml, the automations of
``eidflow automations apply``, a PostgreSQL ledger. A worker host dies mid-run; the runs are
Crashed, the slot is freed, the manual run is retried, and a person is told, once per run."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from eidflow.ledger import open_ledger
from tests.flows.prefect_server import clean_env, kill_tree, running_prefect_server, stop
from tests.flows.tenant import Device, manifest_csv, write_config

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
HEARTBEAT = 30  # Prefect's least heartbeat period


class Receiver(ThreadingHTTPServer):
    """A webhook on loopback that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                outer.bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def about(self, flow_run_id: str) -> list[dict[str, Any]]:
        return [body for body in self.bodies if flow_run_id in json.dumps(body)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("team-server")
    with running_prefect_server(folder, PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2") as url:
        yield url


class Team:
    """The commands of docs/team.md's "For a team", run in subprocesses as a person would."""

    def __init__(self, tmp_path: Path, api_url: str, ledger_url: str) -> None:
        self.tmp_path, self.api_url = tmp_path, api_url
        self.inbox = tmp_path / "inbox"
        self.runs = tmp_path / "runs"
        self.inbox.mkdir()
        self.client_env = clean_env(PREFECT_HOME=str(tmp_path / "admin"), PREFECT_API_URL=api_url)
        self.worker_env = clean_env(
            PREFECT_HOME=str(tmp_path / "worker"),
            PREFECT_API_URL=api_url,
            PREFECT_WORKER_QUERY_SECONDS="1",
            EIDFLOW_LEDGER__URL=ledger_url,
            EIDFLOW_FLOWS__INBOX=str(self.inbox),
            EIDFLOW_OUTPUT__RUNS_DIR=str(self.runs),
        )
        self.workers: list[subprocess.Popen[bytes]] = []

    def run(self, *command: str, check: bool = True) -> str:
        done = subprocess.run(
            command,
            cwd=REPO,
            env=self.client_env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if check:
            assert done.returncode == 0, f"{command}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
        elif done.returncode == 0:
            return ""
        return done.stdout + done.stderr

    def prefect(self, *args: str, check: bool = True) -> str:
        return self.run(sys.executable, "-m", "prefect", "--no-prompt", *args, check=check)

    def eidflow(self, *args: str, check: bool = True) -> str:
        return self.run(sys.executable, "-m", "eidflow", *args, check=check)

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"worker-{len(self.workers)}.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", "eidflow"],
            cwd=self.tmp_path,  # the pull step finds the checkout
            env=self.worker_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        return "".join(
            path.read_text(errors="replace")[-4000:]
            for path in sorted(self.tmp_path.glob("worker-*.log"))
        )

    def api(self, method: str, path: str, **body: Any) -> Any:
        response = httpx.request(method, f"{self.api_url}{path}", json=body or None, timeout=15)
        response.raise_for_status()
        return response.json()

    def flow_runs(self, deployment: str) -> list[dict[str, Any]]:
        """The runs of ``flow/deployment``, oldest first."""
        flow_name, name = deployment.split("/")
        found = self.api("GET", f"/deployments/name/{flow_name}/{name}")
        runs = self.api(
            "POST",
            "/flow_runs/filter",
            flow_runs={"deployment_id": {"any_": [found["id"]]}},
            sort="EXPECTED_START_TIME_ASC",
        )
        return list(runs)

    def wait(self, what: str, until: Callable[[], Any], seconds: float, fail: bool = True) -> Any:
        deadline = time.monotonic() + seconds
        while True:
            value = until()
            if value:
                return value
            if time.monotonic() > deadline:
                if not fail:
                    return None
                pytest.fail(f"{what}: not within {seconds} s.\n{self.logs()}")
            time.sleep(1)

    def handed_off(self) -> list[str]:
        """Every EID in the operator files of the complete runs (summary.json written)."""
        eids: list[str] = []
        for summary in self.runs.glob("*/summary.json"):
            for path in (summary.parent / "operator").rglob("*.csv"):
                with path.open(newline="", encoding="utf-8-sig") as handle:
                    eids += [row["EID"] for row in csv.DictReader(handle)]
        return eids

    def stop(self) -> None:
        for worker in self.workers:
            stop(worker)


def state_of(run: dict[str, Any]) -> str:
    return str(run["state"]["name"]) if run.get("state") else ""


@pytest.fixture
def team(tmp_path: Path, prefect_api: str, pg_url: str) -> Iterator[Team]:
    team = Team(tmp_path, prefect_api, pg_url)
    yield team
    team.stop()


def test_a_dead_worker_host_is_recovered_from_without_a_person(
    team: Team, receiver: Receiver, pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # The manual's setup (docs/team.md): the pool, the deployments (heartbeat 30 s for this
    # test), the notification block and the automations.
    team.prefect("work-pool", "create", "eidflow", "--type", "process", "--overwrite")
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text(
        (REPO / "prefect.yaml")
        .read_text()
        .replace(
            'PREFECT_FLOWS_HEARTBEAT_FREQUENCY: "60"',
            f'PREFECT_FLOWS_HEARTBEAT_FREQUENCY: "{HEARTBEAT}"',
        )
    )
    team.prefect("deploy", "--all", "--prefect-file", str(prefect_file))
    team.prefect(
        "deployment",
        "schedule",
        "create",
        "watch-inbox/inbox",
        "--interval",
        "5",
        "--replace",
        "-y",
    )
    team.eidflow("automations", "notify-via", "webhook", "--url", receiver.url)
    (tmp_path / "admin").mkdir(exist_ok=True)
    (tmp_path / "admin-slow").mkdir(exist_ok=True)
    config = write_config(
        tmp_path / "admin",
        flows={"heartbeat_seconds": HEARTBEAT, "notify_block": "custom-webhook/eidflow-alerts"},
    )
    slower = write_config(tmp_path / "admin-slow", flows={"heartbeat_seconds": 2 * HEARTBEAT})
    refused = team.eidflow("automations", "apply", "--config", str(slower), check=False)
    assert "send a heartbeat at another pace" in refused and f"({HEARTBEAT} s)" in refused
    applied = team.eidflow("automations", "apply", "--config", str(config))
    assert "create    eidflow: crash unresponsive runs" in applied
    assert "unchanged" in team.eidflow("automations", "apply", "--config", str(config))

    # A password in a parameter is refused by the server itself: never stored, never shown.
    secret = {"manifests": ["x.csv"], "ledger_url": "postgresql://eidflow:hunter2@db/eidflow"}
    refused = team.prefect(
        "deployment",
        "run",
        "ingest-manifests/manual",
        "--params",
        json.dumps({"parameters": secret}),
        check=False,
    )
    assert "ledger_url" in refused
    assert team.flow_runs("ingest-manifests/manual") == []

    # A ledger that answers nothing about claims for now: the runs wait inside their claim.
    open_ledger(pg_url).close()
    blocker = psycopg.connect(pg_url)
    request.addfinalizer(blocker.close)  # whatever happens, the schema can be dropped
    blocker.execute("LOCK TABLE claims IN ACCESS EXCLUSIVE MODE")

    inbox_devices = [Device(n) for n in range(1, 6)]
    bulk_devices = [Device(n) for n in range(11, 31)]
    (team.inbox / "po-1187.csv").write_bytes(manifest_csv(inbox_devices))
    bulk = tmp_path / "bulk-po-2001.csv"
    bulk.write_bytes(manifest_csv(bulk_devices))
    worker = team.start_worker()
    parameters = json.dumps({"parameters": {"manifests": [str(bulk)]}})
    team.prefect("deployment", "run", "ingest-manifests/manual", "--params", parameters)

    def running() -> Any:
        inbox = [run for run in team.flow_runs("watch-inbox/inbox") if state_of(run) == "Running"]
        manual = [
            run for run in team.flow_runs("ingest-manifests/manual") if state_of(run) == "Running"
        ]
        return (inbox[0], manual[0]) if inbox and manual else None

    inbox_run, manual_run = team.wait("an inbox run and a manual run running", running, 90)
    time.sleep(3)  # their first heartbeats
    kill_tree(worker)  # the worker host dies with its flow runs
    killed_at = time.monotonic()
    blocker.rollback()
    blocker.close()

    def crashed() -> Any:
        runs = [team.api("GET", f"/flow_runs/{run['id']}") for run in (inbox_run, manual_run)]
        return runs if all(state_of(run) != "Running" for run in runs) else None

    ended = team.wait("the dead runs marked", crashed, 2 * HEARTBEAT + 30)
    assert ended[0]["name"].endswith(" po-1187.csv")  # named after the eidflow run and file
    assert any(tag.startswith("run:") for tag in ended[0]["tags"])
    assert time.monotonic() - killed_at <= 2 * HEARTBEAT
    assert state_of(ended[0]) == "Crashed"
    assert state_of(ended[1]) in ("Crashed", "AwaitingRetry")  # the retry may already be set

    # Another worker: the manual run is retried, the inbox schedule goes on.
    team.start_worker()

    def manual_completed() -> bool:
        return state_of(team.api("GET", f"/flow_runs/{manual_run['id']}")) == "Completed"

    team.wait("the crashed manual run retried", manual_completed, 90)
    team.wait(
        "the next scheduled inbox run completed",
        lambda: (
            (team.inbox / "archive" / "po-1187.csv").exists()
            and any(state_of(r) == "Completed" for r in team.flow_runs("watch-inbox/inbox"))
        ),
        90,
    )
    handed = team.handed_off()
    assert sorted(handed) == sorted(d.eid for d in inbox_devices + bulk_devices)  # each once

    # A file that is no manifest: the run ends Failed and a person is told, once. (Through a
    # manual run: the inbox ending Failed for a quarantined file is tests/flows/test_watch_inbox;
    # Prefect holds the events of a scheduled run created less than 5 minutes before it
    # started for up to 15 minutes, waiting for the Scheduled state's event it never emits,
    # and this test's schedule creates its runs seconds ahead.)
    scan = tmp_path / "scan.xlsx"
    scan.write_bytes(b"%PDF-1.7 not a workbook\n")
    parameters = json.dumps({"parameters": {"manifests": [str(scan)]}})
    created = team.prefect("deployment", "run", "ingest-manifests/manual", "--params", parameters)
    failed_id = created.split("UUID:")[1].split()[0]

    def ended() -> Any:
        run = team.api("GET", f"/flow_runs/{failed_id}")
        return run if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

    failed_run = team.wait("the run of a PDF named .xlsx", ended, 180)
    assert state_of(failed_run) == "Failed", failed_run["state"]
    assert "1 of 1 manifest(s) unreadable or missing" in failed_run["state"]["message"]
    team.wait("its notification", lambda: receiver.about(failed_id), 60)
    time.sleep(5)  # a second notification would come now
    assert len(receiver.about(failed_id)) == 1
    assert "is Failed" in receiver.about(failed_id)[0]["subject"]
    assert len(receiver.about(manual_run["id"])) == 1  # its crash, told once
    assert "Crashed" in receiver.about(manual_run["id"])[0]["subject"]
    assert handed == team.handed_off()  # nothing went twice meanwhile
