"""Settings for the scheduled flows: ``[flows]`` in eidflow.toml, ``EIDFLOW_FLOWS__*`` in the environment.

The Graph connection is ``[graph]`` (``eidflow.graph.config``); the group is ``[entra] group_id``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SecretBlocks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ledger_url: str = ""  # e.g. "eidflow-ledger-url"; "" reads [ledger] url / EIDFLOW_LEDGER__URL
    graph_client_secret: str = ""  # e.g. "eidflow-graph-client-secret"


class FlowSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Where new manifests arrive: a folder, or an S3 prefix (s3://bucket/inbox/).
    # Processed files move to archive/ beside them, unreadable ones to quarantine/.
    inbox: str = "inbox"
    inbox_interval_seconds: int = Field(default=300, ge=1)
    inbox_cron: str = ""  # when set, replaces the interval (e.g. "*/10 7-19 * * 1-5")
    # Where operators' answer files arrive, one folder per [[operators]] name
    # (<answers_inbox>/<operator>/<file>): a folder or an S3 prefix, read by the daily
    # reconcile-pending run. "" for none.
    answers_inbox: str = ""
    # Devices handed off but not yet group members, checked once a day by default.
    reconcile_cron: str = "0 6 * * *"
    timezone: str = "UTC"  # of the cron schedules
    # The inventory the flows reconcile against: Intune/Entra export files, or Graph.
    inventory_source: Literal["file", "graph"] = "file"
    inventory: str = ""  # Intune "All devices" export (path or s3://), for inventory_source=file
    entra_devices: str = ""  # Entra "Download devices" export, for inventory_source=file
    # Windows Autopilot identities: an Autopilot devices export, "graph", or "none"; when
    # empty, Graph if inventory_source is graph.
    autopilot: str = ""
    work_pool: str = "eidflow"  # the process work pool of prefect.yaml
    # Flow runs send a heartbeat this often (Prefect's minimum is 30 s); a run that misses
    # two is marked Crashed by the automation of `eidflow automations apply`, which frees
    # its deployment's concurrency slot. Workers and `eidflow serve` run flows with it.
    heartbeat_seconds: int = Field(default=60, ge=30, le=3600)
    # A manual ingest run that crashed is run again this many times (by an automation);
    # one that crashed more often ends Failed and waits for a person.
    crash_retries: int = Field(default=2, ge=0, le=10)
    # The Prefect notification block told of every Failed or Crashed eidflow run,
    # as "<block type>/<name>", e.g. "ms-teams-webhook/eidflow-alerts"; "" for none.
    notify_block: str = ""
    # A flow run whose ledger cannot be reached (the server down or restarting, a connection
    # reset, a serialization failure) tries again after each of these delays; a
    # configuration error is never retried.
    ledger_retry_seconds: list[float] = Field(default=[10, 30, 90], max_length=10)
    # Prefect Secret blocks the flow runs read their credentials from, on the worker:
    # ledger_url (the whole URL, password included), graph_client_secret.
    secret_blocks: SecretBlocks = Field(default_factory=lambda: SecretBlocks())
