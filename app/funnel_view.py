"""The funnel of some shipments, read from the ledger and put in the exporters' terms.

``eidflow status`` (all filters), the ingest run's report (the manifests it read, its own
PCs counted before it finishes) and the daily reconcile flow's artifacts read it here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from app.settings import Settings
from eidflow.ledger import funnel, funnel_rows
from eidflow.ledger.db import Connection
from eidflow.ledger.sql import SqlLedger
from exporters.funnel import FunnelTables


def read_shipments(connection: Connection, group_id: str, **filters: Any) -> list[funnel.Shipment]:
    """The funnel of each shipment whose PCs match ``filters`` (``funnel.pcs``'s)."""
    return funnel.shipments(connection, funnel.pcs(connection, group_id, **filters))


def tables_of(shipments: list[funnel.Shipment], title: str) -> FunnelTables:
    """The rows the Funnel sheet shows."""
    return FunnelTables(
        title=title,
        steps=funnel_rows.step_rows(shipments),
        waiting=funnel_rows.waiting_rows(shipments),
        shipments=funnel_rows.shipment_rows(shipments),
    )


def run_funnel(
    ledger: SqlLedger, group_id: str, run_id: str, manifests: list[str]
) -> list[funnel.Shipment]:
    """The funnel of the manifests (sha256) a run read, its own hand-offs counted."""
    if not manifests:
        return []
    with ledger.read() as connection:
        frames = [
            funnel.pcs(connection, group_id, manifest=sha256, run_id=run_id)
            for sha256 in dict.fromkeys(manifests)
        ]
        return funnel.shipments(connection, pd.concat(frames, ignore_index=True))


def run_tables(
    ledger: SqlLedger, settings: Settings, run_id: str, manifests: list[str], handed_off: int
) -> FunnelTables:
    """The Funnel sheet of a run's report: its shipments' funnel, unless the run handed off
    more PCs than ``[report] funnel_max_pcs`` (reading them back would take long)."""
    title = f"Funnel: the shipments of run {run_id}"
    most = settings.report.funnel_max_pcs
    if handed_off > most:
        return FunnelTables(
            title,
            steps=[],
            note=f"This run handed off {handed_off:,} PCs, more than [report] funnel_max_pcs"
            f" ({most:,}): eidflow status --manifest SHA256 --xlsx FILE writes this sheet.",
        )
    shipments = run_funnel(ledger, settings.entra.group_id, run_id, manifests)
    return tables_of(shipments, title)


def as_of(selection: str) -> str:
    """A funnel's title: what it counts, and when (``eidflow status --xlsx``, the flow)."""
    return f"Funnel of {selection}, as of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"


def all_shipments(ledger_url: str, group_id: str) -> list[funnel.Shipment]:
    """Every shipment's funnel, as the ledger has it now (the daily reconcile's artifacts)."""
    from eidflow.ledger import open_ledger

    ledger = open_ledger(ledger_url)
    try:
        with ledger.read() as connection:
            return read_shipments(connection, group_id)
    finally:
        ledger.close()
