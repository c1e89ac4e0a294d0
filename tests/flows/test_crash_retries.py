"""What a deployment's run checks before it starts: its crash retries are bounded (a run the
automation has put back after more than ``[flows] crash_retries`` crashes is refused; a retry a
person starts always runs), and its heartbeats keep the pace the crash automation expects.

Each case is a real flow run of ``ingest-manifests`` on the test server: of a deployment, or
given the state history a worker's crashes and the automation leave (Running, Crashed,
AwaitingRetry …).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_engine import run_flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.states import AwaitingRetry, Crashed, Running, State

from flows.automations import RETRIED_MESSAGE
from flows.ingest import IngestParameters, ingest_manifests
from tests.flows.tenant import Device, manifest_csv, write_config

pytestmark = pytest.mark.usefixtures("prefect_harness")


def by_automation() -> State:
    return AwaitingRetry(message=RETRIED_MESSAGE)  # what the retry automation sets


def run_after(history: list[State], tmp_path: Path, *, deployed: bool = False) -> State:
    """Run ``ingest-manifests`` as a flow run (of a deployment when ``deployed``) that went
    through ``history`` first."""
    manifest = tmp_path / "ship.csv"
    manifest.write_bytes(manifest_csv([Device(1), Device(2)]))
    config = write_config(tmp_path, flows={"crash_retries": 2, "heartbeat_seconds": 60})
    parameters = IngestParameters(manifests=[str(manifest)], config_file=str(config))
    with get_client(sync_client=True) as client:
        if deployed:
            deployment = client.create_deployment(
                flow_id=client.create_flow(ingest_manifests),
                name=f"manual-{tmp_path.name}",
                entrypoint="flows/ingest.py:ingest_manifests",
            )
            flow_run = client.create_flow_run_from_deployment(
                deployment, parameters={"parameters": parameters.model_dump()}
            )
        else:
            flow_run = client.create_flow_run(
                ingest_manifests, parameters={"parameters": parameters}
            )
        for state in history:
            client.set_flow_run_state(flow_run.id, state, force=True)
        flow_run = client.read_flow_run(flow_run.id)
    final = run_flow(
        ingest_manifests,
        flow_run=flow_run,
        parameters={"parameters": parameters},
        return_type="state",
    )
    assert isinstance(final, State)
    return final


def crashes(count: int, last_retry: State) -> list[State]:
    history: list[State] = []
    for number in range(count):
        history += [Running(), Crashed(message="heartbeats stopped")]
        history.append(last_retry if number == count - 1 else by_automation())
    return history


def test_a_run_the_automation_put_back_within_the_bound_goes_on(tmp_path: Path) -> None:
    final = run_after(crashes(2, by_automation()), tmp_path)
    assert final.name == "Completed", final.message


def test_a_third_crash_is_not_run_again_by_itself(tmp_path: Path) -> None:
    final = run_after(crashes(3, by_automation()), tmp_path)
    assert final.name == "Failed"
    assert "crashed 3 times ([flows] crash_retries = 2)" in (final.message or "")
    assert not (tmp_path / "runs").exists()  # refused before a run folder or a claim


def test_a_retry_a_person_starts_always_runs(tmp_path: Path) -> None:
    final = run_after(crashes(3, AwaitingRetry(message="Retry from the UI")), tmp_path)
    assert final.name == "Completed", final.message


@pytest.mark.parametrize("pace", [30, 60, None])
def test_a_deployment_s_run_with_heartbeats_as_often_or_none_goes_on(
    tmp_path: Path, pace: int | None
) -> None:
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: pace}):
        final = run_after([], tmp_path, deployed=True)
    assert final.name == "Completed", final.message


def test_a_deployment_s_run_with_slower_heartbeats_is_refused_before_it_reads(
    tmp_path: Path,
) -> None:
    """Prefect's default pace (180 s) where the automation expects 60 s: the run would be
    marked Crashed while it works, so it stops at once, saying where the pace is set."""
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 180}):
        final = run_after([], tmp_path, deployed=True)
    assert final.name == "Failed"
    message = final.message or ""
    assert "every 180 s" in message and "heartbeat_seconds = 60" in message
    assert "PREFECT_FLOWS_HEARTBEAT_FREQUENCY" in message
    assert not (tmp_path / "runs").exists()


def test_a_run_called_in_this_process_is_no_deployment_s_and_not_checked(tmp_path: Path) -> None:
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 180}):
        final = run_after([], tmp_path)
    assert final.name == "Completed", final.message
