"""The ingest pipeline as a Prefect flow: the same steps as the CLI, each a task.

Parameters are a pydantic model, validated before the flow body runs. The flow loads
its own settings (eidflow.toml and environment) so that no secret travels as a
parameter. Each run leaves three artifacts: counts (table), hand-off (markdown), progress.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from app.pipeline import IngestRequest, RunResult, run_ingest
from app.settings import Settings
from exporters import delivery
from flows import artifacts
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
    out_dir: str | None = None
    config_file: str | None = None
    ledger_url: str | None = None
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
    then publish the counts and hand-off artifacts."""
    log = get_run_logger()
    progress = artifacts.Progress(flow_name, steps=PIPELINE_STEPS)

    def steps(name: str, fn: Callable[..., T], *args: Any, io: bool = False) -> T:
        value = run_as_task(name, fn, *args, io=io)
        progress.step(f"{name} done")
        return value

    log.info("ingesting %d manifest(s)", len(request.manifests))
    result = run_ingest(request, settings, steps=steps)
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


@flow(name=FLOW_NAME, log_prints=False)
def ingest_manifests(parameters: IngestParameters) -> RunResult:
    """Validate, deduplicate and reconcile manifests; write and deliver the run folder."""
    settings = load_flow_settings(parameters.config_file, parameters.ledger_url)
    request = IngestRequest(
        manifests=parameters.manifests,
        inventory=parameters.inventory,
        entra_devices=parameters.entra_devices,
        out_dir=Path(parameters.out_dir) if parameters.out_dir else None,
        oem_profile=parameters.oem_profile,
        reprocess=parameters.reprocess,
        new_ledger=parameters.new_ledger,
    )
    return ingest_with_artifacts(request, settings, FLOW_NAME)
