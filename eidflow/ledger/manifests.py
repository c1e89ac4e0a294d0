"""The manifests a run received: recorded with its claims, counted once the run is complete.

A claim names its manifest by number (``claims.manifest``). A row whose file the run did
not describe (a caller of the ledger that passes no manifests) gets a line of its own,
outcome ``source``, which never counts as processed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from eidflow.ledger import states as s
from eidflow.ledger.db import Connection

SOURCE_ONLY = "source"


def record_manifests(
    connection: Connection, run_id: str, manifests: list[dict[str, Any]], now: Any
) -> dict[str, int]:
    """Record each manifest of the run once (by name); returns their numbers by name."""
    ids = _recorded(connection, run_id)
    for manifest in manifests:
        name = str(manifest.get("name") or manifest.get("path") or "")
        error = str(manifest.get("error") or "")
        values = {
            "sha256": str(manifest.get("sha256") or ""),
            "name": name,
            "run_id": run_id,
            "now": now,
            "rows": int(manifest.get("rows") or 0),
            "outcome": s.UNREADABLE
            if error
            else (s.HELD if manifest.get("claimed_by_running_runs") else s.PROCESSED),
            "error": error,
        }
        if name in ids:
            connection.execute(
                "UPDATE manifests SET sha256 = :sha256, rows = :rows, outcome = :outcome,"
                " error = :error WHERE id = :id AND outcome = :source",
                values | {"id": ids[name], "source": SOURCE_ONLY},
            )
            continue
        ids[name] = _insert(connection, values)
    return ids


def manifest_ids(
    connection: Connection,
    run_id: str,
    manifests: list[dict[str, Any]],
    sources: pd.Series | None,
    now: Any,
) -> dict[str, int]:
    """The numbers of the run's manifests by name, the files its rows name included."""
    ids = record_manifests(connection, run_id, manifests, now)
    if sources is None:
        return ids
    for name in sources.astype("str").unique().tolist():
        if name not in ids:
            ids[name] = _insert(
                connection,
                {
                    "sha256": "",
                    "name": name,
                    "run_id": run_id,
                    "now": now,
                    "rows": 0,
                    "outcome": SOURCE_ONLY,
                    "error": "",
                },
            )
    return ids


def _recorded(connection: Connection, run_id: str) -> dict[str, int]:
    found = connection.all("SELECT name, id FROM manifests WHERE run_id = :id", {"id": run_id})
    return {str(name): int(number) for name, number in found}


def _insert(connection: Connection, values: dict[str, Any]) -> int:
    number = connection.scalar(
        "INSERT INTO manifests (sha256, name, run_id, received_at, rows, outcome, error)"
        " VALUES (:sha256, :name, :run_id, :now, :rows, :outcome, :error) RETURNING id",
        values,
    )
    return int(number)
