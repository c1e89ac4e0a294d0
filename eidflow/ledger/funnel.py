"""Every PC handed off, followed to its eSIM: one funnel per shipment, and where each PC waits.

From the ledger alone (the same answer on every host): the claims of finished runs (which
manifest each PC came from, its PO, its Intune state and Entra object id as the last
reconcile saw them), the operator's answer in force, and the static group's members as
eidflow recorded them. The steps:

1. **handed off**: in an operator's file of a complete run;
2. **accepted by the operator**: its answer in force is ``accepted`` (``operator-response``);
3. **enrolled**: Intune's state ``enrolled`` at the last reconcile;
4. **in the group**: recorded as a member of ``[entra] group_id``;
5. **profile applied** and 6. **EID confirmed**: not tracked yet (issue 16, items 2-3).

Each PC has one next action: the first thing between it and its eSIM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from eidflow.codes import IntuneState
from eidflow.ledger import answer_queries, bulk
from eidflow.ledger import states as s
from eidflow.ledger.db import Connection

FINISHED = ", ".join(f"'{state}'" for state in s.FINISHED_STATES)
STEPS = (
    "handed off",
    "accepted by the operator",
    "enrolled",
    "in the group",
    "profile applied",
    "EID confirmed",
)
NOT_TRACKED = ("profile applied", "EID confirmed")
COLUMNS = (
    "eid",
    "operator",
    "serial_number",
    "intune_state",
    "entra_object_id",
    "manifest",
    "manifest_sha256",
    "received_at",
    "po_number",
)

# The next action of a PC, in the order they are looked for.
REJECTED = "rejected by the operator"
OS_TOO_OLD = "Windows below 22H2"
IMEI_DIFFERS = "IMEI differs from Intune's"
NOT_ENROLLED = "not enrolled yet"
REGISTERED = "registered in Autopilot, not enrolled yet"
NO_OBJECT_ID = "no Entra object id"
NOT_IN_GROUP = "not in the group"
IN_GROUP_NO_ANSWER = "in the group, no answer from the operator yet"
IN_GROUP = "in the group: waits for the profile"
TODO = {
    REJECTED: "fix what the operator says, then eidflow resend EID --operator NAME",
    OS_TOO_OLD: "update Windows (eSIM profiles need Windows 11 22H2)",
    IMEI_DIFFERS: "check that the enrolled PC is the one shipped",
    NOT_ENROLLED: "wait for enrolment, or ask the user to sign in",
    REGISTERED: "wait for first sign-in: it is in the group already, or will be",
    NO_OBJECT_ID: "reconcile with --entra-devices (or Graph) once Entra lists it",
    NOT_IN_GROUP: "run eidflow groups sync --apply",
    IN_GROUP_NO_ANSWER: "load the operator's answer: eidflow operator-response FILE",
    IN_GROUP: "nothing: Intune sends the eSIM profile (its status is not tracked yet)",
}


@dataclass
class Shipment:
    """One manifest's PCs along the funnel."""

    manifest: str
    sha256: str
    received_at: str
    po_numbers: list[str]
    rows_read: int
    steps: dict[str, int | None]  # None: not tracked
    waiting: dict[str, int]  # next action -> PCs
    stuck: list[dict[str, str]] = field(default_factory=list)  # PCs not done, with the action

    def as_dict(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "sha256": self.sha256,
            "received_at": self.received_at,
            "po_numbers": self.po_numbers,
            "rows_read": self.rows_read,
            "steps": self.steps,
            "waiting": self.waiting,
            "stuck": self.stuck,
        }


def pcs(
    connection: Connection,
    group_id: str,
    *,
    operator: str = "",
    po: str = "",
    manifest: str = "",
    since: datetime | None = None,
) -> pd.DataFrame:
    """Every PC handed off by a finished run (filtered), with its step and next action."""
    where = [f"r.state IN ({FINISHED})"]
    params: dict[str, Any] = {}
    if operator:
        where.append("c.operator = :operator")
        params["operator"] = operator
    if po:
        where.append("d.po_number = :po")
        params["po"] = po
    if manifest:
        where.append("(m.name = :manifest OR m.sha256 LIKE :prefix)")
        params |= {"manifest": manifest, "prefix": f"{manifest.lower()}%"}
    if since is not None:
        where.append("m.received_at >= :since")
        params["since"] = since if connection.postgres else since.strftime("%Y-%m-%d %H:%M:%S")
    found = bulk.fetch(
        connection,
        "SELECT c.eid, c.operator, c.serial_number, c.intune_state, c.entra_object_id,"
        " COALESCE(m.name, ''), COALESCE(m.sha256, ''), COALESCE(m.received_at, r.started_at),"
        " COALESCE(d.po_number, '')"
        " FROM claims c JOIN runs r ON r.run_no = c.run_no"
        " LEFT JOIN manifests m ON m.id = c.manifest"
        " LEFT JOIN descriptions d ON d.id = c.description"
        f" WHERE {' AND '.join(where)} ORDER BY m.received_at, c.eid, c.operator",
        COLUMNS,
        params,
    )
    frame = pd.DataFrame({name: found.column(name).to_pylist() for name in COLUMNS}, dtype=object)
    if frame.empty:
        return frame.assign(answer=[], reason=[], member=[], action=[])
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    for name, eids in frame.groupby("operator")["eid"]:
        for eid, line in answer_queries.in_force(
            connection, str(name), eids, live_too=False
        ).items():
            answers[(eid, str(name))] = line
    members = {
        row[0]
        for row in connection.all(
            "SELECT DISTINCT eid FROM memberships WHERE group_id = :group_id",
            {"group_id": group_id},
        )
    }
    keys = list(zip(frame["eid"], frame["operator"], strict=True))
    frame["answer"] = [answers.get(key, {}).get("answer", "") for key in keys]
    frame["reason"] = [answers.get(key, {}).get("reason", "") for key in keys]
    frame["member"] = frame["eid"].isin(members)
    frame["action"] = [_action(row) for row in frame.itertuples(index=False)]
    return frame


def todo(action: str, reason: str) -> str:
    """What to do about a PC waiting at ``action``, with the operator's reason if it gave one."""
    return f"{TODO[action]} ({reason})" if reason else TODO[action]


def _action(pc: Any) -> str:
    if pc.answer == "rejected":
        return REJECTED
    if pc.intune_state == IntuneState.OS_UNSUPPORTED:
        return OS_TOO_OLD
    if pc.intune_state == IntuneState.IMEI_MISMATCH:
        return IMEI_DIFFERS
    if pc.intune_state != IntuneState.ENROLLED:
        return REGISTERED if pc.intune_state == IntuneState.AUTOPILOT_REGISTERED else NOT_ENROLLED
    if not pc.member and not pc.entra_object_id:
        return NO_OBJECT_ID
    if not pc.member:
        return NOT_IN_GROUP
    return IN_GROUP if pc.answer == "accepted" else IN_GROUP_NO_ANSWER


def shipments(connection: Connection, frame: pd.DataFrame) -> list[Shipment]:
    """One funnel per manifest the PCs came from, oldest first."""
    rows_read = dict(connection.all("SELECT sha256, MAX(rows) FROM manifests GROUP BY sha256"))
    found: list[Shipment] = []
    for (name, sha256, received), pcs_of in frame.groupby(
        ["manifest", "manifest_sha256", "received_at"], sort=False
    ):
        steps: dict[str, int | None] = {
            "handed off": len(pcs_of),
            "accepted by the operator": int((pcs_of["answer"] == "accepted").sum()),
            "enrolled": int((pcs_of["intune_state"] == IntuneState.ENROLLED).sum()),
            "in the group": int(pcs_of["member"].sum()),
        }
        steps |= dict.fromkeys(NOT_TRACKED)
        waiting = {action: int(count) for action, count in pcs_of["action"].value_counts().items()}
        stuck = [
            {
                "eid": pc.eid,
                "serial_number": pc.serial_number,
                "operator": pc.operator,
                "action": pc.action,
                "todo": todo(pc.action, pc.reason),
            }
            for pc in pcs_of.itertuples(index=False)
            if pc.action != IN_GROUP
        ]
        found.append(
            Shipment(
                manifest=str(name),
                sha256=str(sha256),
                received_at=str(received),
                po_numbers=sorted({str(po) for po in pcs_of["po_number"] if po}),
                rows_read=int(rows_read.get(sha256, 0) or 0),
                steps=steps,
                waiting=waiting,
                stuck=stuck,
            )
        )
    return found
