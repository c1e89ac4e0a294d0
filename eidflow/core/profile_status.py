"""The eSIM policy's status per PC, and the EID its device reports, joined to the PCs handed off.

Intune's ``DeviceStatusesByConfigurationProfile`` report names devices by their Intune device
id; the tenant's inventory gives each its serial number (the join key the ledger keeps, as the
reference says: never the EID) and, where the tenant has it, the EID the device reports.
"Succeeded" means the setting reached the device, not that the profile was downloaded: it is
called *applied*. A device may report the SHA-256 of its EID instead of the EID (the eUICC
CSP's note): that hash counts as the EID.

>>> status_of(pd.Series(["Succeeded", "2", "Error", "Conflict", "In progress", "1", "?"])).tolist()
['applied', 'applied', 'error', 'conflict', 'pending', 'not applicable', 'pending']
"""

from __future__ import annotations

import hashlib
from typing import Final

import pandas as pd

from eidflow import schema

APPLIED: Final = "applied"
PENDING: Final = "pending"
ERROR: Final = "error"
CONFLICT: Final = "conflict"
NOT_APPLICABLE: Final = "not applicable"
STATUSES: Final = (APPLIED, PENDING, ERROR, CONFLICT, NOT_APPLICABLE)

CONFIRMED: Final = "confirmed"
DIFFERS: Final = "differs"
UNKNOWN: Final = "unknown"

# The report's PolicyStatus: its text (PolicyStatus_loc, or the admin center's words) or
# Graph's complianceStatus number (0 unknown, 1 notApplicable, 2 compliant, 3 remediated,
# 4 nonCompliant, 5 error, 6 conflict, 7 notAssigned). Anything else waits: pending.
_STATUS_OF: Final = {
    "succeeded": APPLIED,
    "success": APPLIED,
    "compliant": APPLIED,
    "remediated": APPLIED,
    "2": APPLIED,
    "3": APPLIED,
    "error": ERROR,
    "failed": ERROR,
    "noncompliant": ERROR,
    "non-compliant": ERROR,
    "4": ERROR,
    "5": ERROR,
    "conflict": CONFLICT,
    "6": CONFLICT,
    "notapplicable": NOT_APPLICABLE,
    "not applicable": NOT_APPLICABLE,
    "notassigned": NOT_APPLICABLE,
    "1": NOT_APPLICABLE,
    "7": NOT_APPLICABLE,
}

# Report columns (``parsers.reports``) and what this module adds.
POLICY_STATUS: Final = "policy_status"
REPORTED_AT: Final = "reported_at"
DEVICE_EID: Final = "device_eid"
STATUS: Final = "status"
EID_CHECK: Final = "eid_check"
RECORDED: Final = (
    schema.EID,
    schema.OPERATOR,
    schema.SERIAL_NUMBER,
    schema.INTUNE_DEVICE_ID,
    STATUS,
    POLICY_STATUS,
    REPORTED_AT,
    DEVICE_EID,
    EID_CHECK,
)


def status_of(policy_status: pd.Series) -> pd.Series:
    """Each PolicyStatus as one of STATUSES."""
    key = policy_status.astype("str").str.strip().str.lower()
    return key.map(_STATUS_OF).fillna(PENDING).astype("str")


def eid_check(eid: pd.Series, device_eid: pd.Series) -> pd.Series:
    """``confirmed`` where the device reports the EID (or its SHA-256), ``differs`` where it
    reports another, ``unknown`` where it reports none."""
    reported = device_eid.astype("str").str.strip().str.upper()
    hashed = eid.map(lambda value: hashlib.sha256(str(value).encode("ascii")).hexdigest().upper())
    same = (reported == eid.str.upper()) | (reported == hashed)
    check = pd.Series(DIFFERS, index=eid.index, dtype="str")
    check[same] = CONFIRMED
    check[reported == ""] = UNKNOWN
    return check


def join(
    statuses: pd.DataFrame, device_eids: pd.DataFrame, claims: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the RECORDED lines of the claims the tenant knows, the report's devices that are not ours).

    ``statuses``: intune_device_id, device_name, policy_status, reported_at; ``device_eids``
    (the inventory): intune_device_id, serial_number, device_eid; ``claims``: eid, operator,
    serial_number. A claim whose device is in neither the report nor reports an EID is left out.
    """
    inventory = device_eids.drop_duplicates(schema.INTUNE_DEVICE_ID, keep="last")
    devices = inventory.merge(statuses, on=schema.INTUNE_DEVICE_ID, how="outer")
    devices = devices.fillna("").astype("str")
    known = devices[devices[schema.SERIAL_NUMBER] != ""]
    ours = claims[claims[schema.SERIAL_NUMBER] != ""].merge(known, on=schema.SERIAL_NUMBER)
    ours = ours[(ours[POLICY_STATUS] != "") | (ours[DEVICE_EID] != "")].reset_index(drop=True)
    in_report = ours[POLICY_STATUS] != ""
    ours[STATUS] = status_of(ours[POLICY_STATUS]).where(in_report, "")
    ours[EID_CHECK] = eid_check(ours[schema.EID], ours[DEVICE_EID])
    handed_off = set(ours.loc[in_report, schema.INTUNE_DEVICE_ID])
    reported = devices[devices[POLICY_STATUS] != ""]
    foreign = reported[~reported[schema.INTUNE_DEVICE_ID].isin(handed_off)]
    return (
        ours[list(RECORDED)].drop_duplicates([schema.EID, schema.OPERATOR], keep="last"),
        foreign[[schema.INTUNE_DEVICE_ID, "device_name", POLICY_STATUS]]
        .sort_values(["device_name", schema.INTUNE_DEVICE_ID])
        .reset_index(drop=True),
    )
