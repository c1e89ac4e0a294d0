"""Match accepted rows to the Intune inventory and Entra devices.

Matched on the normalised serial number; of several Intune records for one serial
(re-imaged or re-enrolled PCs) the one with the latest check-in is current. When
both sides have an IMEI they must agree. eSIM provisioning through Intune needs
Windows 11 22H2 (build 10.0.22621) or later. A row not enrolled whose serial has one
Windows Autopilot identity is ``autopilot_registered``: its Entra device exists before
its first boot. Only ``enrolled`` and ``autopilot_registered`` devices with a resolved
Entra object id go into the group lists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import schema
from eidflow.codes import IntuneState, Status, WarningCode
from eidflow.core import autopilot as autopilot_rules
from eidflow.core.validate import add_warning
from eidflow.identifiers import guid
from eidflow.identifiers.columns import arrow_text

# What Intune knows of a PC that a manifest may leave out (a reseller's file often does).
DESCRIBED_BY_INTUNE = ("manufacturer", "model")


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


def os_unknown(versions: pd.Series) -> np.ndarray:
    """Which versions say nothing usable: empty, or not a dotted number ("Unknown", "N/A")."""
    codes, distinct = pd.factorize(versions.fillna("").astype("str").str.strip())
    readable = pd.Series(distinct, dtype="str").str.fullmatch(r"[0-9]+(?:\.[0-9]+)*")
    return ~readable.to_numpy(dtype=bool)[codes] if len(distinct) else np.zeros(0, dtype=bool)


def reconcile(
    frame: pd.DataFrame,
    inventory: pd.DataFrame | None,
    entra_devices: pd.DataFrame | None,
    min_os_version: str,
    autopilot: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Set ``intune_state`` and ``entra_object_id`` for accepted rows.

    Worked by row position on Arrow and numpy arrays: label-based ``.loc`` writes and
    lookups on a million Arrow strings cost seconds.
    """
    out = frame.copy()
    accepted = (out[schema.STATUS] == Status.ACCEPTED).to_numpy(dtype=bool, na_value=False)
    rows = np.flatnonzero(accepted)
    state = np.where(accepted, _NOT_ENROLLED, _NONE).astype(np.int8)
    out[schema.INTUNE_STATE] = _states(state, out.index)
    for column in (schema.ENTRA_OBJECT_ID, schema.AZURE_AD_DEVICE_ID, schema.INTUNE_DEVICE_ID):
        out[column] = _placed(rows[:0], _blank(0), out.index)
    with_inventory = inventory is not None and not inventory.empty
    with_autopilot = autopilot is not None and not autopilot.empty
    if not (with_inventory or with_autopilot) or not len(rows):
        return out

    device_id, azure_ad_device_id = _blank(len(rows)), _blank(len(rows))
    if inventory is not None and with_inventory:
        device_id, azure_ad_device_id, no_os = _match_inventory(
            out, rows, state, inventory, min_os_version
        )
        out[schema.WARNINGS] = add_warning(
            out[schema.WARNINGS],
            pd.Series((state == _ENROLLED) & no_os, index=out.index),
            WarningCode.OS_VERSION_UNKNOWN,
        )
    if autopilot is not None and with_autopilot:
        azure_ad_device_id = _match_autopilot(out, rows, state, azure_ad_device_id, autopilot)
    out[schema.INTUNE_STATE] = _states(state, out.index)
    out[schema.INTUNE_DEVICE_ID] = _placed(rows, device_id, out.index)
    out[schema.AZURE_AD_DEVICE_ID] = _placed(rows, azure_ad_device_id, out.index)

    members = (state == _ENROLLED) | (state == _AUTOPILOT_REGISTERED)
    where = np.flatnonzero(members)
    object_ids = _object_ids(azure_ad_device_id.take(np.flatnonzero(members[rows])), entra_devices)
    out[schema.ENTRA_OBJECT_ID] = _placed(where, object_ids, out.index)
    unresolved = members & (out[schema.ENTRA_OBJECT_ID] == "").to_numpy(dtype=bool)
    out[schema.WARNINGS] = add_warning(
        out[schema.WARNINGS], pd.Series(unresolved, index=out.index), WarningCode.ENTRA_UNRESOLVED
    )
    return out


def _match_inventory(
    out: pd.DataFrame, rows: np.ndarray, state: np.ndarray, inventory: pd.DataFrame, minimum: str
) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Set the state of ``rows`` from their current Intune records (in ``state``); their
    Intune device ids and Azure AD device ids, and which rows have no readable OS version."""
    records = _current_records(out[schema.SERIAL_NUMBER].iloc[rows], inventory)
    _describe_from_intune(out, rows, inventory, records)
    device_id = _taken(inventory[schema.INV_DEVICE_ID], records)
    os_version = _taken(inventory[schema.INV_OS_VERSION], records).to_pandas()
    found = device_id.is_valid().to_numpy(zero_copy_only=False)
    matched = np.where(found, _ENROLLED, _NOT_ENROLLED).astype(np.int8)
    matched[found & os_below(os_version, minimum).to_numpy(dtype=bool)] = _OS_UNSUPPORTED
    ours = out[schema.IMEI].iloc[rows], out[schema.IMEI2].iloc[rows]
    theirs = _taken(inventory[schema.INV_IMEI], records)
    matched[found & _imei_disagrees(*ours, theirs)] = _IMEI_MISMATCH
    state[rows] = matched
    azure_ad_device_id = _taken(inventory[schema.INV_AZURE_AD_DEVICE_ID], records).fill_null("")
    no_os = np.zeros(len(out), dtype=bool)
    no_os[rows] = found & os_unknown(os_version)
    return device_id.fill_null(""), azure_ad_device_id, no_os


def _describe_from_intune(
    out: pd.DataFrame, rows: np.ndarray, inventory: pd.DataFrame, records: np.ndarray
) -> None:
    """The manufacturer and model a row left empty, from its current Intune record (in place,
    for the operator's file and the report); those rows get ``model_from_intune``."""
    filled = np.zeros(len(out), dtype=bool)
    for column in DESCRIBED_BY_INTUNE:
        if column not in out.columns or column not in inventory.columns:
            continue
        theirs = _taken(inventory[column], records).fill_null("")
        ours = arrow_text(out[column].iloc[rows]).fill_null("")
        empty = pc.and_(pc.equal(pc.utf8_trim_whitespace(ours), ""), pc.not_equal(theirs, ""))
        wanted = empty.to_numpy(zero_copy_only=False)
        if not wanted.any():
            continue
        values = out[column].astype("str").fillna("")
        values.iloc[rows[wanted]] = theirs.filter(empty).to_pylist()
        out[column] = values
        filled[rows[wanted]] = True
    if filled.any():
        out[schema.WARNINGS] = add_warning(
            out[schema.WARNINGS], pd.Series(filled, index=out.index), WarningCode.MODEL_FROM_INTUNE
        )


def _match_autopilot(
    out: pd.DataFrame,
    rows: np.ndarray,
    state: np.ndarray,
    azure_ad_device_id: pa.Array,
    identities: pd.DataFrame,
) -> pa.Array:
    """Rows not enrolled whose serial has exactly one Autopilot identity become
    ``autopilot_registered`` with its Azure AD device id; two or more: a warning, no guess."""
    count, line = autopilot_rules.identities_by_serial(
        out[schema.SERIAL_NUMBER].iloc[rows], identities
    )
    waiting = state[rows] == _NOT_ENROLLED
    registered = waiting & (count == 1)
    twice = np.zeros(len(out), dtype=bool)
    twice[rows] = waiting & (count > 1)
    out[schema.WARNINGS] = add_warning(
        out[schema.WARNINGS], pd.Series(twice, index=out.index), WarningCode.AUTOPILOT_SERIAL_TWICE
    )
    state[rows[registered]] = _AUTOPILOT_REGISTERED
    theirs = _taken(
        identities[schema.AP_AZURE_AD_DEVICE_ID].reset_index(drop=True),
        np.where(registered, line, -1),
    ).fill_null("")
    return pc.if_else(pa.array(registered), theirs, azure_ad_device_id)


_STATES = pa.array(
    [
        "",
        IntuneState.NOT_ENROLLED.value,
        IntuneState.ENROLLED.value,
        IntuneState.OS_UNSUPPORTED.value,
        IntuneState.IMEI_MISMATCH.value,
        IntuneState.AUTOPILOT_REGISTERED.value,
    ],
    pa.large_string(),
)
_NONE, _NOT_ENROLLED, _ENROLLED, _OS_UNSUPPORTED, _IMEI_MISMATCH, _AUTOPILOT_REGISTERED = range(
    len(_STATES)
)


def _states(state: np.ndarray, index: pd.Index) -> pd.Series:
    return _text_series(_STATES.take(state), index)


def _text_series(values: pa.Array, index: pd.Index) -> pd.Series:
    """A ``str`` column over Arrow data, without a round trip through Python strings."""
    return pd.Series(values.to_pandas().array, index=index)


def _placed(positions: np.ndarray, values: pa.Array, index: pd.Index) -> pd.Series:
    """A text column of ``len(index)`` rows: ``values`` at ``positions``, ``""`` elsewhere."""
    source = np.full(len(index), len(values), dtype=np.int64)
    source[positions] = np.arange(len(values))
    padded = pa.concat_arrays([values, _blank(1)])
    return _text_series(padded.take(source), index)


def _blank(size: int) -> pa.Array:
    return pa.repeat(pa.scalar("", pa.large_string()), size)


def _shared_codes(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for the text values of both columns from one numbering (one hash pass
    over their chunks as they are: no copy of the texts first)."""
    chunks = [*_text_chunks(first), *_text_chunks(second)]
    encoded = pa.chunked_array(chunks, pa.large_string()).dictionary_encode(null_encoding="encode")
    codes = encoded.combine_chunks().indices.to_numpy(zero_copy_only=False)
    return codes[: len(first)], codes[len(first) :]


def _text_chunks(column: pd.Series) -> list[pa.Array]:
    values = pa.array(column.astype("str"), type=pa.large_string())
    return values.chunks if isinstance(values, pa.ChunkedArray) else [values]


def _first_of_each(codes: np.ndarray, positions: np.ndarray, size: int) -> np.ndarray:
    """For each code below ``size``: the position of its first line, ``-1`` for none."""
    first = np.full(size, -1, dtype=np.int64)
    distinct, where = np.unique(codes, return_index=True)
    first[distinct] = positions[where]
    return first


def _current_records(serials: pd.Series, inventory: pd.DataFrame) -> np.ndarray:
    """The inventory line of each serial's current record (the latest check-in), ``-1`` for none.

    Of several records of a serial the first in check-in order, latest first (stable: the
    earlier line wins a tie), missing check-ins last; records without a serial never match.
    """
    with_serial = np.flatnonzero(
        (inventory[schema.INV_SERIAL] != "").to_numpy(dtype=bool, na_value=False)
    )
    check_in = inventory[schema.INV_LAST_CHECK_IN].iloc[with_serial].reset_index(drop=True)
    latest_first = with_serial[
        check_in.sort_values(ascending=False, na_position="last", kind="stable").index.to_numpy()
    ]
    known, wanted = _shared_codes(inventory[schema.INV_SERIAL], serials)
    current = _first_of_each(known[latest_first], latest_first, len(known) + len(wanted))
    return current[wanted]


def _taken(column: pd.Series, records: np.ndarray) -> pa.Array:
    """The column's value at each record; null where there is none (``-1``) or it is missing."""
    return arrow_text(column).take(pa.array(records, mask=records < 0))


def _imei_disagrees(imei: pd.Series, imei2: pd.Series, theirs: pa.Array) -> np.ndarray:
    """Both sides have an IMEI and the inventory's is neither of the manifest's."""
    theirs = theirs.fill_null("")
    ours = arrow_text(imei).fill_null("")
    ours2 = arrow_text(imei2).fill_null("")
    disagree = pc.and_(
        pc.and_(pc.not_equal(theirs, ""), pc.not_equal(ours, "")),
        pc.and_(pc.not_equal(theirs, ours), pc.not_equal(theirs, ours2)),
    )
    return disagree.to_numpy(zero_copy_only=False)


def _object_ids(device_ids: pa.Array, entra_devices: pd.DataFrame | None) -> pa.Array:
    """The Entra object id of each device id, else ``""``.

    Both ids are GUIDs as ``identifiers.guid.compact`` gives them (the parsers and the Graph
    reader compact them); a value that is not a GUID is no id: it matches nothing and is
    never an object id. Of several usable lines for one device id, the export's first.
    """
    if entra_devices is None or entra_devices.empty:
        return _blank(len(device_ids))
    entra_ids, wanted = _shared_codes(
        entra_devices[schema.ENTRA_DEVICE_ID], pd.Series(device_ids.to_pandas().array)
    )
    usable = np.flatnonzero(
        guid.valid_column(entra_devices[schema.ENTRA_DEVICE_ID])
        & guid.valid_column(entra_devices[schema.ENTRA_OBJECT_ID_COL])
    )
    lines = _first_of_each(entra_ids[usable], usable, len(entra_ids) + len(wanted))
    return _taken(entra_devices[schema.ENTRA_OBJECT_ID_COL], lines[wanted]).fill_null("")
