"""Which devices handed off earlier have enrolled since: pure functions over frames.

The ledger's ``pending_enrollment(group_id)`` lists devices delivered to an operator but not yet
group members; the core's reconciliation, run again against a fresh inventory, says which
of them are now enrolled with a resolved Entra object id.
"""

from __future__ import annotations

import pandas as pd

from eidflow import schema
from eidflow.codes import IntuneState, Status
from eidflow.core import reconcile

MEMBER_COLUMNS = (schema.EID, schema.SERIAL_NUMBER, schema.ENTRA_OBJECT_ID)
STATE_COLUMNS = (schema.EID, schema.INTUNE_STATE, schema.ENTRA_OBJECT_ID)


def check_pending(
    pending: pd.DataFrame,
    inventory: pd.DataFrame | None,
    entra_devices: pd.DataFrame | None,
    min_os_version: str,
) -> pd.DataFrame:
    """The pending devices with their Intune state and Entra object id as of this inventory."""
    frame = pd.DataFrame(
        {
            schema.EID: pending[schema.EID].astype("str"),
            schema.SERIAL_NUMBER: pending[schema.SERIAL_NUMBER].astype("str"),
            schema.IMEI: pending[schema.IMEI].fillna("").astype("str"),
            schema.IMEI2: "",
            schema.OPERATOR: pending[schema.OPERATOR].fillna("").astype("str"),
            schema.STATUS: Status.ACCEPTED.value,
            schema.WARNINGS: "",
        },
        index=pending.index,
    )
    checked = reconcile.reconcile(frame, inventory, entra_devices, min_os_version)
    # One line per device: a device handed to several operators is one PC.
    return checked.drop_duplicates(subset=schema.EID).reset_index(drop=True)


def new_members(checked: pd.DataFrame) -> pd.DataFrame:
    """Enrolled devices with an Entra object id: the ones to add to the group."""
    ready = (checked[schema.INTUNE_STATE] == IntuneState.ENROLLED) & (
        checked[schema.ENTRA_OBJECT_ID] != ""
    )
    return checked.loc[ready, list(MEMBER_COLUMNS)].reset_index(drop=True)


def state_counts(checked: pd.DataFrame) -> dict[str, int]:
    """Devices by Intune state, for the summary and the table artifact."""
    counts = checked[schema.INTUNE_STATE].value_counts().sort_index()
    return {str(state): int(rows) for state, rows in counts.items()}
