"""``[ledger]``: where the ledger is."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

LEDGER_FILE = "ledger.db"  # in the per-user data folder, when no setting names a ledger


def default_ledger_url() -> str:
    """The per-user ledger (``~/.local/share/eidflow/ledger.db`` on Linux): the same one
    from whichever folder eidflow runs, never a new one in the current folder."""
    import platformdirs

    folder = Path(platformdirs.user_data_dir("eidflow", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / LEDGER_FILE}"


class LedgerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A relative sqlite:/// path in eidflow.toml is relative to that file's folder.
    url: str = Field(default_factory=default_ledger_url)
