"""What ``eidflow intune setup --apply`` left in the tenant, per operator: the ids of the static
group and the eSIM policy, so that the next plan finds them by id, on any host (a group
renamed in the portal is drift, not a group to create a second time)."""

from __future__ import annotations

from typing import Any

from eidflow.ledger.db import Connection

FIELDS = ("server", "group_id", "group_name", "policy_id", "policy_name")


def recorded(connection: Connection, operator: str) -> dict[str, str]:
    """The ids recorded for ``operator`` ({} if none): FIELDS and ``applied_at``."""
    found = connection.rows(
        f"SELECT {', '.join(FIELDS)}, applied_at FROM intune_setups WHERE operator = :operator",
        {"operator": operator},
    )
    return {name: str(value or "") for name, value in found[0].items()} if found else {}


def record(connection: Connection, operator: str, values: dict[str, Any], now: Any) -> None:
    """Replace what is recorded for ``operator`` (in the caller's write transaction)."""
    connection.execute(
        "DELETE FROM intune_setups WHERE operator = :operator", {"operator": operator}
    )
    connection.execute(
        f"INSERT INTO intune_setups (operator, {', '.join(FIELDS)}, applied_at)"
        f" VALUES (:operator, {', '.join(':' + name for name in FIELDS)}, :now)",
        {
            "operator": operator,
            "now": now,
            **{name: str(values.get(name) or "") for name in FIELDS},
        },
    )
