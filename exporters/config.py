"""Settings for the hand-off: operator profiles, routing, delivery (``[[operators]]``, ``[delivery]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_OPERATOR_COLUMNS = ("EID", "IMEI", "Serial Number", "Manufacturer", "Model", "PO Number")


class OperatorProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "operator"
    columns: list[str] = Field(default_factory=lambda: list(DEFAULT_OPERATOR_COLUMNS))


class DeliverySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = "folder"
