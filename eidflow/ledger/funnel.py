"""Every PC handed off, followed to its eSIM: one funnel per shipment, and where each PC waits.

From the ledger alone (the same answer on every host): the claims of finished runs (which
manifest each PC came from, its PO, its Intune state and Entra object id as the last
reconcile saw them), the operator's answer in force, and the static group's members as
eidflow recorded them, and the eSIM policy's status and the EID each device reports as the
last ``eidflow intune status`` (or ``reconcile-pending``) read them. The steps:

1. **handed off**: in an operator's file of a complete run;
2. **accepted by the operator**: its answer in force is ``accepted`` (``operator-response``);
3. **enrolled**: Intune's state ``enrolled`` at the last reconcile;
4. **in the group**: recorded as a member of ``[entra] group_id``;
5. **profile applied**: the policy's status on the device is "Succeeded" (the setting reached
   it: that does not prove the download);
6. **EID confirmed**: the device reports the manifest's EID (or its SHA-256).

Each PC has one next action: the first thing between it and its eSIM. An EID the device
reports that differs from the manifest's comes first, whatever else: the operator holds a
wrong EID for that PC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from eidflow.codes import IntuneState
from eidflow.core import profile_status as p
from eidflow.ledger import answer_queries, bulk, queries
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
    "profile_status",
    "eid_check",
)

# The next action of a PC, in the order they are looked for.
EID_DIFFERS = "EID differs from the device's: the operator holds a wrong EID"
REJECTED = "rejected by the operator"
OS_TOO_OLD = "Windows below 22H2"
IMEI_DIFFERS = "IMEI differs from Intune's"
NOT_ENROLLED = "not enrolled yet"
REGISTERED = "registered in Autopilot, not enrolled yet"
NO_OBJECT_ID = "no Entra object id"
NOT_IN_GROUP = "not in the group"
IN_GROUP_NO_ANSWER = "in the group, no answer from the operator yet"
PROFILE_ERROR = "profile error on the device"
PROFILE_NOT_APPLICABLE = "profile not applicable to the device"
PROFILE_PENDING = "profile pending on the device"
PROFILE_APPLIED = "profile applied, EID not confirmed by the device"
EID_CONFIRMED = "EID confirmed by the device"
IN_GROUP = "in the group: waits for the profile"
# Next actions that wait for Intune or the device, not for someone: not listed as stuck.
STUCK_COLUMNS = ("eid", "serial_number", "operator", "action", "reason")
WAITING_ONLY = (IN_GROUP, PROFILE_PENDING, PROFILE_APPLIED, EID_CONFIRMED)
TODO = {
    EID_DIFFERS: "check the PC's EID (eidflow show EID), then resend the right one to the operator",
    REJECTED: "fix what the operator says, then eidflow resend EID --operator NAME",
    OS_TOO_OLD: "update Windows (eSIM profiles need Windows 11 22H2)",
    IMEI_DIFFERS: "check that the enrolled PC is the one shipped",
    NOT_ENROLLED: "wait for enrolment, or ask the user to sign in",
    REGISTERED: "wait for first sign-in: it is in the group already, or will be",
    NO_OBJECT_ID: "reconcile with --entra-devices (or Graph) once Entra lists it",
    NOT_IN_GROUP: "run eidflow groups sync --apply",
    IN_GROUP_NO_ANSWER: "load the operator's answer: eidflow operator-response FILE",
    PROFILE_ERROR: "open the eSIM policy's device status in Intune (error or conflict)",
    PROFILE_NOT_APPLICABLE: "check that the PC has an eSIM and Windows 11 22H2 or later",
    PROFILE_PENDING: "nothing: the device has not reported the profile yet",
    PROFILE_APPLIED: "nothing, unless the tenant reports EIDs (Properties catalog, up to 24 h)",
    EID_CONFIRMED: "nothing: done",
    IN_GROUP: "nothing: Intune sends the eSIM profile; eidflow intune status reads its status",
}


@dataclass
class Shipment:
    """One manifest's PCs along the funnel."""

    manifest: str
    sha256: str
    received_at: str
    po_numbers: list[str]
    rows_read: int
    steps: dict[str, int]
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
    run_id: str = "",
) -> pd.DataFrame:
    """Every PC handed off by a finished run (filtered), with its step and next action.
    ``run_id``: that run's PCs too, before it finishes (for its own report)."""
    where, params = queries.shipment_filter(
        connection,
        "c.operator",
        "m.sha256",
        operator=operator,
        po=po,
        manifest=manifest,
        since=since,
    )
    where.insert(0, f"(r.state IN ({FINISHED}) OR r.run_id = :run_id)")
    params["run_id"] = run_id
    found = bulk.fetch(
        connection,
        "SELECT c.eid, c.operator, c.serial_number, c.intune_state, c.entra_object_id,"
        " COALESCE(m.name, ''), COALESCE(m.sha256, ''), COALESCE(m.received_at, r.started_at),"
        " COALESCE(d.po_number, ''), COALESCE(ps.status, ''), COALESCE(ps.eid_check, '')"
        " FROM claims c JOIN runs r ON r.run_no = c.run_no"
        " LEFT JOIN manifests m ON m.id = c.manifest"
        " LEFT JOIN descriptions d ON d.id = c.description"
        " LEFT JOIN profile_statuses ps ON ps.eid = c.eid AND ps.operator = c.operator"
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
    frame["action"] = actions(frame)
    return frame


def todo(action: str, reason: str) -> str:
    """What to do about a PC waiting at ``action``, with the operator's reason if it gave one."""
    return f"{TODO[action]} ({reason})" if reason else TODO[action]


def actions(frame: pd.DataFrame) -> np.ndarray:
    """Each PC's next action, the first that holds in this order (column by column: a
    million PCs in a fraction of a second)."""

    def column(name: str) -> np.ndarray:
        return frame[name].to_numpy(dtype=object)

    eid_check, answer, state = column("eid_check"), column("answer"), column("intune_state")
    status, member = column("profile_status"), frame["member"].to_numpy(dtype=bool)
    has_object_id = frame["entra_object_id"].fillna("").to_numpy(dtype=object) != ""
    enrolled = state == IntuneState.ENROLLED
    chosen = (
        (eid_check == p.DIFFERS, EID_DIFFERS),
        (answer == "rejected", REJECTED),
        (state == IntuneState.OS_UNSUPPORTED, OS_TOO_OLD),
        (state == IntuneState.IMEI_MISMATCH, IMEI_DIFFERS),
        (state == IntuneState.AUTOPILOT_REGISTERED, REGISTERED),
        (~enrolled, NOT_ENROLLED),
        (~member & ~has_object_id, NO_OBJECT_ID),
        (~member, NOT_IN_GROUP),
        # in the group: what the eSIM policy's last status says, then the operator's answer
        ((status == p.ERROR) | (status == p.CONFLICT), PROFILE_ERROR),
        (status == p.NOT_APPLICABLE, PROFILE_NOT_APPLICABLE),
        (status == p.PENDING, PROFILE_PENDING),
        ((status == p.APPLIED) & (eid_check == p.CONFIRMED), EID_CONFIRMED),
        (status == p.APPLIED, PROFILE_APPLIED),
        (answer == "accepted", IN_GROUP),
    )
    return np.select(
        [condition for condition, _ in chosen],
        np.array([action for _, action in chosen], dtype=object),
        default=IN_GROUP_NO_ANSWER,
    )


def shipments(connection: Connection, frame: pd.DataFrame) -> list[Shipment]:
    """One funnel per manifest the PCs came from, oldest first."""
    rows_read = dict(connection.all("SELECT sha256, MAX(rows) FROM manifests GROUP BY sha256"))
    found: list[Shipment] = []
    for (name, sha256, received), pcs_of in frame.groupby(
        ["manifest", "manifest_sha256", "received_at"], sort=False
    ):
        steps: dict[str, int] = {
            "handed off": len(pcs_of),
            "accepted by the operator": int((pcs_of["answer"] == "accepted").sum()),
            "enrolled": int((pcs_of["intune_state"] == IntuneState.ENROLLED).sum()),
            "in the group": int(pcs_of["member"].sum()),
            "profile applied": int((pcs_of["profile_status"] == p.APPLIED).sum()),
            "EID confirmed": int((pcs_of["eid_check"] == p.CONFIRMED).sum()),
        }
        waiting = {action: int(count) for action, count in pcs_of["action"].value_counts().items()}
        not_done = pcs_of[~pcs_of["action"].isin(WAITING_ONLY)]
        stuck = [
            {"eid": eid, "serial_number": serial, "operator": name, "action": action}
            | {"todo": todo(action, reason)}
            for eid, serial, name, action, reason in zip(
                *(not_done[key].to_numpy(dtype=object) for key in STUCK_COLUMNS), strict=True
            )
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
