"""Settings for the scheduled flows: ``[flows]`` in eidflow.toml, ``EIDFLOW_FLOWS__*`` in the environment.

The Graph connection is ``[graph]`` (``eidflow.graph.config``); the group is ``[entra] group_id``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FlowSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Where new manifests arrive: a folder, or an S3 prefix (s3://bucket/inbox/).
    # Processed files move to archive/ beside them, unreadable ones to quarantine/.
    inbox: str = "inbox"
    inbox_interval_seconds: int = Field(default=300, ge=1)
    inbox_cron: str = ""  # when set, replaces the interval (e.g. "*/10 7-19 * * 1-5")
    # Devices handed off but not yet group members, checked once a day by default.
    reconcile_cron: str = "0 6 * * *"
    timezone: str = "UTC"  # of the cron schedules
    # The inventory the flows reconcile against: Intune/Entra export files, or Graph.
    inventory_source: Literal["file", "graph"] = "file"
    inventory: str = ""  # Intune "All devices" export (path or s3://), for inventory_source=file
    entra_devices: str = ""  # Entra "Download devices" export, for inventory_source=file
    work_pool: str = "eidflow"  # the process work pool of prefect.yaml
