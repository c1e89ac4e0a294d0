"""The ledger: manifests received, claims of hand-offs, device states and group memberships
(SQLite or PostgreSQL)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eidflow.ledger.url import LedgerUrl, parse

if TYPE_CHECKING:
    from eidflow.ledger.base import Ledger, ManifestRecord
    from eidflow.ledger.settle import DeadRun, Target
    from eidflow.ledger.sql import SqlLedger

# Imported on first use (PEP 562): ``history`` and ``show`` read the ledger without pandas.
_WHERE = {
    "Ledger": "base",
    "ManifestRecord": "base",
    "DeadRun": "settle",
    "Target": "settle",
    "SqlLedger": "sql",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"eidflow.ledger.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'eidflow.ledger' has no attribute {name!r}")


__all__ = [
    "DeadRun",
    "Ledger",
    "LedgerUrl",
    "ManifestRecord",
    "SqlLedger",
    "Target",
    "open_ledger",
    "parse",
]


def open_ledger(
    url: str | LedgerUrl,
    *,
    target: Target | None = None,
    create: bool = True,
    base: Path | None = None,
) -> SqlLedger:
    """Open the ledger at ``url``, creating it (``create``) or upgrading its schema.

    ``target(run)`` says whether a dead run's files reached their target (default: a
    folder's receipt, or summary.json where the run folder is the target); it raises an
    ``EidflowError`` when it cannot tell, and that run is left to a later run to settle.
    ``create=False`` (the commands that only ask) refuses a place holding no ledger yet.
    A relative SQLite path is taken relative to ``base`` (default: the current folder).
    Raises ConfigError for a bad URL or what is not a ledger, LedgerLost for a server gone.
    """
    from eidflow.ledger.connect import open_database
    from eidflow.ledger.sql import SqlLedger

    parsed = url if isinstance(url, LedgerUrl) else parse(url, base)
    opened = open_database(parsed, create=create)
    return SqlLedger(opened.connection, parsed, target, created=opened.created)
