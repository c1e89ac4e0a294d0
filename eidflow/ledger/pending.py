"""``eidflow pending``: the PCs waiting at each step, from the funnel's next actions
(``funnel.pcs``) and, before them, the rows held back before the hand-off (``row_outcomes``).

A PC nobody has to act on (in the group and waiting for Intune's profile, its profile
pending or applied, its EID confirmed: ``funnel.WAITING_ONLY``) is listed when asked for by
its step, not by default, as ``eidflow status`` counts it without listing it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eidflow.ledger import funnel, outcome_queries
from eidflow.ledger.db import Connection

HELD_STEPS = tuple(outcome_queries.STEP.values())
STEPS = (*HELD_STEPS, *funnel.TODO)
TODO = {
    **{outcome_queries.STEP[status]: todo for status, todo in outcome_queries.TODO.items()},
    **funnel.TODO,
}
KEYS = ("manifest", "eid", "serial_number", "operator", "where", "reason", "todo")


def waiting(
    connection: Connection,
    group_id: str,
    *,
    step: str = "",
    operator: str = "",
    po: str = "",
    manifest: str = "",
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Each step with PCs waiting at it (only ``step``, if given), in funnel order: the step,
    what to do there, and its PCs (``KEYS``)."""
    filters: dict[str, Any] = {"operator": operator, "po": po, "manifest": manifest}
    found: dict[str, list[dict[str, str]]] = {name: [] for name in STEPS}
    if not step or step in HELD_STEPS:
        for row in outcome_queries.waiting(connection, since=since, **filters):
            found[row["step"]].append(_held(row))
    if not step or step in funnel.TODO:
        pcs = funnel.pcs(connection, group_id, since=since, **filters)
        for pc in pcs.itertuples(index=False):
            found[pc.action].append(_handed_off(pc))
    chosen = [step] if step else [name for name in STEPS if name not in funnel.WAITING_ONLY]
    return [
        {"step": name, "todo": TODO[name], "pcs": found[name]} for name in chosen if found[name]
    ]


def _held(row: dict[str, Any]) -> dict[str, str]:
    sheet = f" sheet {row['sheet']}" if row["sheet"] else ""
    return {
        "manifest": row["source_file"],
        "eid": row["eid_raw"],
        "serial_number": row["serial_number"],
        "operator": row["operator"],
        "where": f"row {row['row']}{sheet}, run {row['run_id']}",
        "reason": row["reason"],
        "todo": f"{row['todo']} ({row['detail']})" if row["detail"] else row["todo"],
    }


def _handed_off(pc: Any) -> dict[str, str]:
    return {
        "manifest": pc.manifest,
        "eid": pc.eid,
        "serial_number": pc.serial_number,
        "operator": pc.operator,
        "where": f"handed off, received {str(pc.received_at)[:16]}",
        "reason": pc.reason,
        "todo": funnel.todo(pc.action, pc.reason),
    }
