"""The plan for a static group: who to add, who to remove, who stays, and who cannot be added.

Pure: the ledger's handed-off devices and the group's real members in, one line per device
or member out. Wanted: handed off (to ``operator``, when given), enrolled or registered in
Windows Autopilot (``autopilot_registered``), with an Entra object id. A member that is not wanted is removed only with ``prune`` when eidflow put it
there, only with ``prune_foreign`` when it did not; otherwise it is kept, and the plan says so.
A retired PC's member (``eidflow retire``: returned, stolen, replaced) is removed always:
its retirement is the decision, on record.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import pandas as pd

from eidflow import schema
from eidflow.codes import GROUP_MEMBER_STATES, IntuneState


class Verdict(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    UNCHANGED = "unchanged"
    KEPT = "kept"  # in the group, not wanted, left there (no --prune / --prune-foreign)
    UNRESOLVED = "unresolved"  # handed off, cannot be a member yet


class Why(StrEnum):
    NOT_A_MEMBER = "not_a_member"
    REMOVED_BY_HAND = "removed_by_hand"  # eidflow had put it there
    WANTED = "wanted"
    NO_LONGER_WANTED = "no_longer_wanted"  # eidflow put it there; not enrolled now
    FOREIGN = "foreign"  # eidflow never put it there
    RETIRED = "retired"  # eidflow retire took the PC out
    OTHER_OPERATOR = "other_operator"  # wanted for an operator outside --operator
    NO_ENTRA_OBJECT = "no_entra_object_id"  # enrolled or Autopilot-registered, not in Entra


PLAN_COLUMNS = (
    schema.ENTRA_OBJECT_ID,
    schema.EID,
    schema.SERIAL_NUMBER,
    schema.OPERATOR,
    "verdict",
    "why",
)


def plan(
    handed_off: pd.DataFrame,
    members: Iterable[str],
    recorded: Iterable[str],
    *,
    operator: str | None = None,
    prune: bool = False,
    prune_foreign: bool = False,
    retired: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One line per wanted device, per member and per unresolved device, in a stable order.

    ``retired``: the retired PCs (``eid``, ``serial_number``, ``entra_object_id``): never
    wanted; a member among them is removed."""
    present = {oid.lower() for oid in members}
    ours = {oid.lower() for oid in recorded}
    devices = _one_per_device(handed_off)
    gone = _one_per_device(retired if retired is not None else handed_off.iloc[:0])
    devices = devices[~devices[schema.EID].isin(gone[schema.EID])]
    in_scope = devices if operator is None else devices[devices[schema.OPERATOR] == operator]
    ready = in_scope[schema.INTUNE_STATE].isin(GROUP_MEMBER_STATES) & (
        in_scope[schema.ENTRA_OBJECT_ID] != ""
    )
    wanted = in_scope[ready].drop_duplicates(subset=schema.ENTRA_OBJECT_ID)
    lines: list[dict[str, str]] = []
    for device in wanted.to_dict("records"):
        oid = device[schema.ENTRA_OBJECT_ID]
        if oid in present:
            lines.append(_line(device, Verdict.UNCHANGED, Why.WANTED))
        else:
            why = Why.REMOVED_BY_HAND if oid in ours else Why.NOT_A_MEMBER
            lines.append(_line(device, Verdict.ADD, why))
    wanted_ids = set(wanted[schema.ENTRA_OBJECT_ID])
    others = devices[
        devices[schema.INTUNE_STATE].isin(GROUP_MEMBER_STATES)
        & (devices[schema.ENTRA_OBJECT_ID] != "")
    ]
    elsewhere = set(others[schema.ENTRA_OBJECT_ID]) - wanted_ids
    known = {row[schema.ENTRA_OBJECT_ID]: row for row in devices.to_dict("records")}
    retired_ids = {row[schema.ENTRA_OBJECT_ID]: row for row in gone.to_dict("records")}
    for oid in sorted(present - wanted_ids):
        device = known.get(oid, {schema.ENTRA_OBJECT_ID: oid})
        if oid in retired_ids and oid not in elsewhere:
            lines.append(_line(retired_ids[oid], Verdict.REMOVE, Why.RETIRED))
        elif oid in elsewhere:
            lines.append(_line(device, Verdict.UNCHANGED, Why.OTHER_OPERATOR))
        elif oid in ours:
            verdict = Verdict.REMOVE if prune else Verdict.KEPT
            lines.append(_line(device, verdict, Why.NO_LONGER_WANTED))
        else:
            verdict = Verdict.REMOVE if prune_foreign else Verdict.KEPT
            lines.append(_line(device, verdict, Why.FOREIGN))
    # A member that is not wanted has its line above (kept or removed), not a second one.
    waiting = in_scope[~ready & ~in_scope[schema.ENTRA_OBJECT_ID].isin(present)]
    for device in waiting.drop_duplicates(subset=schema.EID).to_dict("records"):
        state = str(device[schema.INTUNE_STATE] or IntuneState.NOT_ENROLLED)
        reason = str(Why.NO_ENTRA_OBJECT) if state in GROUP_MEMBER_STATES else state
        lines.append(_line(device, Verdict.UNRESOLVED, reason))
    return pd.DataFrame(lines, columns=list(PLAN_COLUMNS), dtype="str")


def counts(planned: pd.DataFrame) -> dict[str, int]:
    """Lines by verdict, every verdict named (0 when none)."""
    found = planned["verdict"].value_counts()
    return {str(verdict): int(found.get(verdict, 0)) for verdict in Verdict}


def _one_per_device(handed_off: pd.DataFrame) -> pd.DataFrame:
    """One line per EID (a device handed to two operators is one PC), text throughout."""
    frame = pd.DataFrame(
        {
            column: handed_off[column].fillna("").astype("str")
            if column in handed_off
            else pd.Series("", index=handed_off.index, dtype="str")
            for column in (
                schema.EID,
                schema.SERIAL_NUMBER,
                schema.OPERATOR,
                schema.INTUNE_STATE,
                schema.ENTRA_OBJECT_ID,
            )
        }
    )
    frame[schema.ENTRA_OBJECT_ID] = frame[schema.ENTRA_OBJECT_ID].str.strip().str.lower()
    return frame.sort_values([schema.EID, schema.OPERATOR], kind="stable")


def _line(device: dict[str, str], verdict: Verdict, why: str) -> dict[str, str]:
    return {
        schema.ENTRA_OBJECT_ID: device.get(schema.ENTRA_OBJECT_ID, ""),
        schema.EID: device.get(schema.EID, ""),
        schema.SERIAL_NUMBER: device.get(schema.SERIAL_NUMBER, ""),
        schema.OPERATOR: device.get(schema.OPERATOR, ""),
        "verdict": str(verdict),
        "why": str(why),
    }
