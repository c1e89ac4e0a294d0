"""The ingest pipeline as a Prefect flow: the same steps as the CLI, each a task.

Parameters are a pydantic model, validated before the flow body runs. The flow loads
its own settings (eidflow.toml and environment) so that no secret travels as a
parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from eidflow.pipeline import IngestRequest, RunResult, run_ingest
from eidflow.settings import load_settings

T = TypeVar("T")

IO_RETRIES: dict[str, Any] = {"retries": 3, "retry_delay_seconds": [2, 5, 15]}


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


def run_as_task(name: str, fn: Callable[..., T], *args: Any, io: bool = False) -> T:
    """Step runner: one coarse task per step; retries only on steps that do I/O.

    Frames are passed in memory and never hashed (``NO_CACHE``).
    """
    options: dict[str, Any] = {"name": name, "cache_policy": NO_CACHE} | (IO_RETRIES if io else {})
    return task(fn, **options)(*args)


@flow(name="ingest-manifests", log_prints=False)
def ingest_manifests(parameters: IngestParameters) -> RunResult:
    """Validate, deduplicate and reconcile manifests; write and deliver the run folder."""
    overrides: dict[str, Any] = (
        {"ledger": {"url": parameters.ledger_url}} if parameters.ledger_url else {}
    )
    settings = load_settings(
        Path(parameters.config_file) if parameters.config_file else None, **overrides
    )
    request = IngestRequest(
        manifests=parameters.manifests,
        inventory=parameters.inventory,
        entra_devices=parameters.entra_devices,
        out_dir=Path(parameters.out_dir) if parameters.out_dir else None,
        oem_profile=parameters.oem_profile,
    )
    result = run_ingest(request, settings, steps=run_as_task)
    publish_summary(result.summary)
    return result


def publish_summary(summary: dict[str, Any]) -> None:
    """A table artifact of the run's counts, for the Prefect UI."""
    counts = summary["counts"]
    table = [
        {"measure": f"{group.removeprefix('by_')}", "value": key, "rows": number}
        for group in ("by_status", "by_reason", "by_intune_state")
        for key, number in counts[group].items()
    ]
    create_table_artifact(
        key="eidflow-run-summary",
        table=table,
        description=f"eidflow run {summary['run_id']}: {counts['rows']} rows",
    )
