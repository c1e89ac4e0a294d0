"""Settings for the scheduled flows (``[schedules]``, ``[inbox]``, ``[graph]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FlowSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
