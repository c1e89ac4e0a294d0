"""Settings for a flow run: eidflow.toml (given or ./eidflow.toml), the environment, overrides.

Flows load their own settings on the worker, so no secret ever travels as a parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.settings import Settings, load_settings


def load_flow_settings(config_file: str | None, ledger_url: str | None = None) -> Settings:
    overrides: dict[str, Any] = {"ledger": {"url": ledger_url}} if ledger_url else {}
    return load_settings(Path(config_file) if config_file else None, **overrides)
