"""Match accepted rows to the Intune inventory and Entra devices.

Matched on the normalised serial number; of several Intune records for one serial
(re-imaged or re-enrolled PCs) the one with the latest check-in is current. When
both sides have an IMEI they must agree. eSIM provisioning through Intune needs
Windows 11 22H2 (build 10.0.22621) or later. Only ``enrolled`` devices with a
resolved Entra object id go into the group lists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from eidflow import schema
from eidflow.codes import IntuneState, Status, WarningCode
from eidflow.core.validate import add_warning


def current_records(inventory: pd.DataFrame) -> pd.DataFrame:
    """One Intune record per serial: the one that checked in last."""
    with_serial = inventory[inventory[schema.INV_SERIAL] != ""]
    latest_first = with_serial.sort_values(
        schema.INV_LAST_CHECK_IN, ascending=False, na_position="last", kind="stable"
    )
    return latest_first.drop_duplicates(subset=schema.INV_SERIAL, keep="first")


def version_key(versions: pd.Series) -> pd.DataFrame:
    """``10.0.22621.1234`` as four integer columns, ``-1`` where a part is missing."""
    parts = (
        versions.fillna("")
        .astype("str")
        .str.extract(r"^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?")
    )
    return parts.apply(pd.to_numeric, errors="coerce").fillna(-1).astype("int64")


def os_below(versions: pd.Series, minimum: str) -> pd.Series:
    """Which versions are known and lower than ``minimum`` (compared part by part)."""
    codes, distinct = pd.factorize(versions.fillna("").astype("str"))  # a fleet runs few builds
    have = version_key(pd.Series(distinct, dtype="str")).to_numpy()
    need = version_key(pd.Series([minimum])).to_numpy()[0]
    below = np.zeros(len(have), dtype=bool)
    decided = np.zeros(len(have), dtype=bool)
    for position in range(have.shape[1]):
        wanted = max(int(need[position]), 0)
        part = np.maximum(have[:, position], 0)
        below |= ~decided & (part < wanted)
        decided |= part != wanted
    below &= have[:, 0] >= 0
    return pd.Series(
        below[codes] if len(distinct) else np.zeros(len(codes), dtype=bool), index=versions.index
    )


def reconcile(
    frame: pd.DataFrame,
    inventory: pd.DataFrame | None,
    entra_devices: pd.DataFrame | None,
    min_os_version: str,
) -> pd.DataFrame:
    """Set ``intune_state`` and ``entra_object_id`` for accepted rows."""
    out = frame.copy()
    out[schema.INTUNE_STATE] = ""
    out[schema.ENTRA_OBJECT_ID] = ""
    out[schema.AZURE_AD_DEVICE_ID] = ""
    out[schema.INTUNE_DEVICE_ID] = ""
    accepted = out[schema.STATUS] == Status.ACCEPTED
    out.loc[accepted, schema.INTUNE_STATE] = IntuneState.NOT_ENROLLED.value
    if inventory is None or inventory.empty or not accepted.any():
        return out

    matches = _match(
        out.loc[accepted, [schema.SERIAL_NUMBER, schema.IMEI, schema.IMEI2]],
        current_records(inventory),
    )
    found = matches[schema.INV_DEVICE_ID].notna()
    states = pd.Series(IntuneState.NOT_ENROLLED.value, index=matches.index, dtype="str")
    states = states.mask(found, IntuneState.ENROLLED.value)
    states = states.mask(
        found & os_below(matches["inv_os_version"], min_os_version),
        IntuneState.OS_UNSUPPORTED.value,
    )
    states = states.mask(found & _imei_disagrees(matches), IntuneState.IMEI_MISMATCH.value)
    out.loc[accepted, schema.INTUNE_STATE] = states
    out.loc[accepted, schema.INTUNE_DEVICE_ID] = matches[schema.INV_DEVICE_ID].fillna("")
    out.loc[accepted, schema.AZURE_AD_DEVICE_ID] = matches["inv_azure_ad_device_id"].fillna("")

    enrolled = accepted & (out[schema.INTUNE_STATE] == IntuneState.ENROLLED)
    no_os = pd.Series(False, index=out.index)
    no_os.loc[matches.index] = found & (matches["inv_os_version"].fillna("").str.strip() == "")
    out[schema.WARNINGS] = add_warning(
        out[schema.WARNINGS], enrolled & no_os, WarningCode.OS_VERSION_UNKNOWN
    )
    out.loc[enrolled, schema.ENTRA_OBJECT_ID] = _object_ids(
        out.loc[enrolled, schema.AZURE_AD_DEVICE_ID], entra_devices
    )
    unresolved = enrolled & (out[schema.ENTRA_OBJECT_ID] == "")
    out[schema.WARNINGS] = add_warning(
        out[schema.WARNINGS], unresolved, WarningCode.ENTRA_UNRESOLVED
    )
    return out


def _match(accepted: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """The current Intune record of each accepted row (NA where none)."""
    position = pd.Index(current[schema.INV_SERIAL]).get_indexer(accepted[schema.SERIAL_NUMBER])
    matches = accepted.copy()
    for column, name in [
        (schema.INV_DEVICE_ID, schema.INV_DEVICE_ID),
        (schema.INV_IMEI, "inv_imei"),
        (schema.INV_AZURE_AD_DEVICE_ID, "inv_azure_ad_device_id"),
        (schema.INV_OS_VERSION, "inv_os_version"),
    ]:
        taken = current[column].astype("str").array.take(position, allow_fill=True)
        matches[name] = pd.Series(taken, index=accepted.index)
    return matches


def _imei_disagrees(matches: pd.DataFrame) -> pd.Series:
    """Both sides have an IMEI and the inventory's is neither of the manifest's."""
    theirs = matches["inv_imei"].fillna("")
    ours = matches[schema.IMEI].fillna("")
    ours2 = matches[schema.IMEI2].fillna("")
    return (theirs != "") & (ours != "") & (theirs != ours) & (theirs != ours2)


def _object_ids(device_ids: pd.Series, entra_devices: pd.DataFrame | None) -> pd.Series:
    if entra_devices is None or entra_devices.empty:
        return pd.Series("", index=device_ids.index, dtype="str")
    lookup = entra_devices.drop_duplicates(subset=schema.ENTRA_DEVICE_ID).set_index(
        schema.ENTRA_DEVICE_ID
    )[schema.ENTRA_OBJECT_ID_COL]
    return device_ids.map(lookup).fillna("").astype("str")
