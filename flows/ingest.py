"""The ingest pipeline as a Prefect flow: the same steps as the CLI, each a task.

Parameters are a pydantic model, validated before the flow body runs; a ledger URL with a
password is refused there (Prefect stores parameters in clear). The flow loads its own
settings (eidflow.toml, the environment, Prefect Secret blocks) on the worker. Each run is
named after its eidflow run id and first manifest, tagged ``run:<id>``, and leaves three
artifacts: counts (table), hand-off (markdown), progress. It ends Failed, artifacts
written, when a manifest was unreadable or missing or rows were held back for another run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from app.pipeline import IngestRequest, RunResult, run_ingest
from app.runfolder import new_run_id
from app.settings import Settings
from exporters import delivery
from flows import artifacts, runs
from flows.retries import IO_RETRIES
from flows.settings_loader import load_flow_settings

T = TypeVar("T")

FLOW_NAME = "ingest-manifests"
PIPELINE_STEPS = 8  # read-references, read, validate, reconcile, dedupe, emit, deliver, finish


class IngestParameters(BaseModel):
    """What to ingest; paths on the worker, or ``s3://`` URLs."""

    model_config = ConfigDict(extra="forbid")

    manifests: list[str] = Field(min_length=1)
    inventory: str | None = None
    entra_devices: str | None = None
    autopilot: str | None = None  # an Autopilot devices export, "graph" or "none"
    out_dir: str | None = None
    config_file: str | None = None
    ledger_url: runs.LedgerUrlParameter = None
    oem_profile: str | None = None
    reprocess: bool = False
    new_ledger: bool = False  # the output root holds another ledger's runs, on purpose


def run_as_task(name: str, fn: Callable[..., T], *args: Any, io: bool = False) -> T:
    """Step runner: one coarse task per step; retries only on steps that do I/O.

    Frames are passed in memory and never hashed (``NO_CACHE``).
    """
    options: dict[str, Any] = {"name": name, "cache_policy": NO_CACHE} | (IO_RETRIES if io else {})
    return task(fn, **options)(*args)


def ingest_with_artifacts(request: IngestRequest, settings: Settings, flow_name: str) -> RunResult:
    """Run the pipeline as tasks inside the current flow, advancing a progress artifact,
    then publish the counts and hand-off artifacts. A ledger that cannot be reached is
    waited for (``[flows] ledger_retry_seconds``); each attempt is a new eidflow run."""
    log = get_run_logger()
    progress = artifacts.Progress(flow_name, steps=PIPELINE_STEPS)

    def steps(name: str, fn: Callable[..., T], *args: Any, io: bool = False) -> T:
        value = run_as_task(name, fn, *args, io=io)
        progress.step(f"{name} done")
        return value

    log.info("ingesting %d manifest(s)", len(request.manifests))
    attempts = iter([request.run_id])

    def attempt() -> RunResult:
        run_id = next(attempts, None) or new_run_id()
        runs.name_run(run_id, request.manifests)
        return run_ingest(replace(request, run_id=run_id), settings, steps=steps)

    result = runs.retry_ledger_outages(attempt, settings.flows.ledger_retry_seconds)
    progress.finish()
    destination = delivery.destination_of(settings.delivery, result.run_dir, result.run_id)
    artifacts.publish_run_artifacts(result.summary, destination, flow_name)
    counts = result.summary["counts"]
    log.info(
        "[run %s] %d rows %s; run folder %s; exit status %d",
        result.run_id,
        counts["rows"],
        counts["by_status"],
        result.run_dir,
        result.exit_code,
    )
    for record in result.unreadable:
        log.warning("[run %s] unreadable: %s", result.run_id, record.error)
    return result


def left_undone(result: RunResult) -> list[str]:
    """What this run could not do, one phrase each: why its flow run ends Failed."""
    manifests = [record for record in result.inputs if record.kind == "manifest"]
    unreadable = [record for record in manifests if record.error]
    held = sum(record.claimed_by_running_runs for record in manifests)
    unusable = [record for record in manifests if record.nothing_usable]
    undone = []
    if unreadable:
        undone.append(f"{len(unreadable)} of {len(manifests)} manifest(s) unreadable or missing")
    if unusable:
        undone.append(f"{len(unusable)} manifest(s) with every row rejected")
    if held:
        undone.append(
            f"{held} row(s) held back: a run not finished yet had claimed them (the next run"
            " reads them again)"
        )
    return undone


def end_state(result: RunResult, undone: list[str]) -> Any:
    """The run's result, or a Failed state carrying it when something was left undone."""
    if not undone:
        return result
    counts = result.summary["counts"]
    accepted = counts["by_status"].get("accepted", 0)
    return runs.failed_state(
        f"run {result.run_id}: {'; '.join(undone)}. {counts['rows']} row(s) read,"
        f" {accepted} accepted; see the run's artifacts and {result.run_dir}.",
        result,
    )


@flow(name=FLOW_NAME, log_prints=False)
def ingest_manifests(parameters: IngestParameters) -> Any:
    """Validate, deduplicate and reconcile manifests; write and deliver the run folder."""
    settings = load_flow_settings(parameters.config_file, parameters.ledger_url)
    refused = runs.heartbeat_refusal(settings.flows.heartbeat_seconds) or runs.crashes_before(
        settings.flows.crash_retries
    )
    if refused:
        return runs.failed_state(refused, None)
    request = IngestRequest(
        manifests=parameters.manifests,
        inventory=parameters.inventory,
        entra_devices=parameters.entra_devices,
        autopilot=parameters.autopilot,
        out_dir=Path(parameters.out_dir) if parameters.out_dir else None,
        oem_profile=parameters.oem_profile,
        reprocess=parameters.reprocess,
        new_ledger=parameters.new_ledger,
    )
    with runs.logs_in_run():
        result = ingest_with_artifacts(request, settings, FLOW_NAME)
    return end_state(result, left_undone(result))
