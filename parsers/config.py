"""Settings for reading manifests: limits and per-OEM profiles (``[parsers]`` in eidflow.toml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ParserSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_uncompressed_bytes: int = 512 * 1024 * 1024  # zip-bomb cap for workbooks
