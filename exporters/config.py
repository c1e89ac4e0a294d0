"""Settings for the hand-off: operator profiles, Entra lists, report, delivery.

Sections of eidflow.toml: ``[[operators]]``, ``[entra]``, ``[report]``, ``[delivery]``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_OPERATOR_COLUMNS = ("EID", "IMEI", "Serial Number", "Manufacturer", "Model", "PO Number")


class OperatorProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "operator"
    columns: list[str] = Field(default_factory=lambda: list(DEFAULT_OPERATOR_COLUMNS))


class EntraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_id: str = ""  # the static device group; "" writes a placeholder in the Graph bodies


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_rows_per_sheet: int = 100_000  # decisions.csv always has every row


class DeliverySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = "folder"
