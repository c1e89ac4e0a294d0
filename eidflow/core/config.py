"""``[reconcile]``: what a device needs to take an eSIM profile through Intune."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator


class ReconcileSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # eSIM provisioning through Intune needs Windows 11 22H2 (build 22621) or later.
    min_os_version: str = "10.0.22621"

    @field_validator("min_os_version")
    @classmethod
    def _windows_version(cls, value: str) -> str:
        # Compared part by part as at most four numbers (core/reconcile.py version_key).
        if not re.fullmatch(r"\d+(\.\d+){1,3}", value.strip()):
            raise ValueError(
                f"{value!r} is not a Windows version; write dotted numbers, e.g. 10.0.22621"
            )
        return value.strip()
