"""The funnel of some shipments as plain rows: for a sheet, a Prefect table, a markdown table.

Pure: ``funnel.Shipment`` objects in, lists of dicts out (counts are integers, ``None``
where a step is not tracked), so that exporters and flows need no ledger to show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eidflow.ledger import funnel

ROWS_READ = "rows read"
STEP_NAMES = (ROWS_READ, *funnel.STEPS)


def step_rows(shipments: Sequence[funnel.Shipment]) -> list[dict[str, Any]]:
    """One row per step, rows read first: the PCs of all ``shipments`` at that step."""
    totals: list[dict[str, Any]] = [
        {"step": ROWS_READ, "PCs": sum(shipment.rows_read for shipment in shipments)}
    ]
    for step in funnel.STEPS:
        counts = [shipment.steps.get(step) for shipment in shipments]
        tracked = bool(shipments) and all(count is not None for count in counts)
        totals.append({"step": step, "PCs": sum(c or 0 for c in counts) if tracked else None})
    return totals


def waiting_rows(shipments: Sequence[funnel.Shipment]) -> list[dict[str, Any]]:
    """One row per next action that has PCs waiting, in the funnel's order, with what to do."""
    waiting: dict[str, int] = {}
    for shipment in shipments:
        for action, count in shipment.waiting.items():
            waiting[action] = waiting.get(action, 0) + count
    return [
        {"waiting for": action, "PCs": waiting[action], "what to do": todo}
        for action, todo in funnel.TODO.items()
        if waiting.get(action)
    ]


def shipment_rows(shipments: Sequence[funnel.Shipment]) -> list[dict[str, Any]]:
    """One row per shipment: which manifest, its PO numbers, and its PCs at each step."""
    return [
        {
            "manifest": Path(shipment.manifest).name,
            "PO numbers": ", ".join(shipment.po_numbers),
            "received (UTC)": shipment.received_at[:16],
            "sha256": shipment.sha256,
            ROWS_READ: shipment.rows_read,
            **{step: shipment.steps.get(step) for step in funnel.STEPS},
        }
        for shipment in shipments
    ]
