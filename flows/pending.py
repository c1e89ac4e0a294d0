"""Which devices handed off earlier have enrolled since: pure functions over frames.

The ledger's ``pending_enrollment(group_id)`` lists devices delivered to an operator but not yet
group members; the core's reconciliation, run again against a fresh inventory, says which
of them are now enrolled with a resolved Entra object id. A device registered in Windows
Autopilot is wanted in the group before it enrols (``autopilot_registered``) and stays
pending, a member or not, until it enrols: then its state moves on, and it is a new member
only under an object id it is not a member by already.
"""

from __future__ import annotations

import pandas as pd

from eidflow import schema
from eidflow.codes import GROUP_MEMBER_STATES, IntuneState, Status
from eidflow.core import reconcile

MEMBER_COLUMNS = (schema.EID, schema.SERIAL_NUMBER, schema.ENTRA_OBJECT_ID)
STATE_COLUMNS = (schema.EID, schema.INTUNE_STATE, schema.ENTRA_OBJECT_ID)


def check_pending(
    pending: pd.DataFrame,
    inventory: pd.DataFrame | None,
    entra_devices: pd.DataFrame | None,
    min_os_version: str,
    autopilot: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The pending devices with their Intune state and Entra object id as of this inventory
    (and these Autopilot identities). Without Autopilot identities, a device recorded
    ``autopilot_registered`` and not enrolled now keeps that state: nothing says otherwise."""
    frame = pd.DataFrame(
        {
            schema.EID: pending[schema.EID].astype("str"),
            schema.SERIAL_NUMBER: pending[schema.SERIAL_NUMBER].astype("str"),
            schema.IMEI: pending[schema.IMEI].fillna("").astype("str"),
            schema.IMEI2: "",
            schema.OPERATOR: pending[schema.OPERATOR].fillna("").astype("str"),
            schema.STATUS: Status.ACCEPTED.value,
            schema.WARNINGS: "",
            schema.MEMBER_OBJECT_ID: _column(pending, schema.MEMBER_OBJECT_ID),
        },
        index=pending.index,
    )
    checked = reconcile.reconcile(frame, inventory, entra_devices, min_os_version, autopilot)
    if autopilot is None:
        unseen = (checked[schema.INTUNE_STATE] == IntuneState.NOT_ENROLLED) & (
            _column(pending, schema.INTUNE_STATE) == IntuneState.AUTOPILOT_REGISTERED
        )
        checked.loc[unseen, schema.INTUNE_STATE] = IntuneState.AUTOPILOT_REGISTERED.value
        checked.loc[unseen, schema.ENTRA_OBJECT_ID] = _column(pending, schema.RECORDED_OBJECT_ID)[
            unseen
        ]
    # One line per device: a device handed to several operators is one PC.
    return checked.drop_duplicates(subset=schema.EID).reset_index(drop=True)


def new_members(checked: pd.DataFrame) -> pd.DataFrame:
    """Enrolled or Autopilot-registered devices with an Entra object id they are not a member
    by yet: the ones to add to the group."""
    object_id = checked[schema.ENTRA_OBJECT_ID]
    ready = checked[schema.INTUNE_STATE].isin(GROUP_MEMBER_STATES) & (object_id != "")
    if schema.MEMBER_OBJECT_ID in checked:
        ready &= object_id != checked[schema.MEMBER_OBJECT_ID]
    return checked.loc[ready, list(MEMBER_COLUMNS)].reset_index(drop=True)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A text column of ``frame``, ``""`` throughout when it has none."""
    if name not in frame:
        return pd.Series("", index=frame.index, dtype="str")
    return frame[name].fillna("").astype("str")


def state_counts(checked: pd.DataFrame) -> dict[str, int]:
    """Devices by Intune state, for the summary and the table artifact."""
    counts = checked[schema.INTUNE_STATE].value_counts().sort_index()
    return {str(state): int(rows) for state, rows in counts.items()}
