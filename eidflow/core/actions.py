"""What a person should do about an accepted row that needs one, as a sentence in ``detail``.

Rejected rows say why in ``detail`` already (``eidflow.core.validate``); an accepted row that
goes to the operator but will not get its profile by itself (Windows too old, another IMEI
in Intune, no Entra object id) or whose line is incomplete (an IMEI left out) says so too,
so that ``decisions.csv`` and the report read as a to-do list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from eidflow import schema
from eidflow.codes import IntuneState, Status, WarningCode
from eidflow.identifiers import columns

_IMEI_LEFT_OUT = (
    "The IMEI is left empty in the operator's file ({what}); the EID is what the profile is"
    " bound to, so nothing else is needed unless the operator asks for IMEIs."
)
BY_STATE = {
    IntuneState.OS_UNSUPPORTED: (
        "Windows on this PC is older than [reconcile] min_os_version (eSIM profiles need"
        " Windows 11 22H2): update Windows; the daily reconcile then adds it to the group."
    ),
    IntuneState.IMEI_MISMATCH: (
        "Intune reports another IMEI for this serial number: the enrolled PC may not be the"
        " one shipped. Check the PC; it is not put in the group until the IMEIs agree."
    ),
}
BY_WARNING = {
    WarningCode.IMEI_INVALID: _IMEI_LEFT_OUT.format(what="its check digit is wrong"),
    WarningCode.IMEI_LEADING_ZERO_LOST: _IMEI_LEFT_OUT.format(
        what="14 digits: a spreadsheet number ate its leading 0"
    ),
    WarningCode.IMEI_PLACEHOLDER: _IMEI_LEFT_OUT.format(what="one digit repeated, no device's"),
    WarningCode.ENTRA_UNRESOLVED: (
        "Enrolled (or registered in Autopilot), but no Entra object id was found for it, so it"
        " is not in the group lists: give --entra-devices (Entra's Download devices) or Graph,"
        " or wait for Entra to list it."
    ),
    WarningCode.AUTOPILOT_SERIAL_TWICE: (
        "Windows Autopilot holds two or more identities for this serial number, so which Entra"
        " device is this PC is not guessed: delete the stale registration; until then it"
        " joins the group once it has enrolled."
    ),
    WarningCode.NUMBER_DAMAGED: (
        "Its PO, order or ASN number went through a spreadsheet number (8.9E+18, or zeros"
        " where digits were): ask the sender for it as text if the operator needs it."
    ),
    WarningCode.SHEET_HIDDEN: (
        "From a worksheet Excel does not show: check that it belongs to this shipment."
    ),
    WarningCode.HANDED_TO_OTHER_OPERATOR: (
        "Another operator holds this EID already: check the routing before both bind a profile."
    ),
}

# A row held back because its PC was retired (``Reason.RETIRED``), naming when and why.
RETIRED_DETAIL = (
    "Retired by run {run_id} on {when} UTC ({reason}): not handed off again. If it is back"
    " in service: eidflow retire --undo {eid} --reason TEXT, then ingest it again."
)

_DESCRIBED = "(?:^|;)(?:" + "|".join(code.value for code in BY_WARNING) + ")(?:;|$)"


def describe(frame: pd.DataFrame) -> pd.DataFrame:
    """A sentence in ``detail`` for each accepted row that needs a person (in place).

    Only the rows with a state or warning to describe are touched: a million clean rows
    cost two comparisons.
    """
    accepted = (frame[schema.STATUS] == Status.ACCEPTED).to_numpy(dtype=bool, na_value=False)
    state = frame[schema.INTUNE_STATE]
    flagged = accepted & (frame[schema.WARNINGS] != "").to_numpy(dtype=bool)
    unusual = accepted & state.isin([code.value for code in BY_STATE]).to_numpy(dtype=bool)
    if flagged.any():  # only warnings that have a sentence (eid_prefix has none)
        some = frame[schema.WARNINGS].iloc[np.flatnonzero(flagged)].astype("str")
        described = some.str.contains(_DESCRIBED, regex=True).to_numpy(dtype=bool)
        flagged[np.flatnonzero(flagged)[~described]] = False
    rows = np.flatnonzero(flagged | unusual)
    if not len(rows):
        return frame
    # One sentence per distinct (detail, state, warnings), taken for each row: a million
    # rows' sentences as Python strings were the run's peak memory (about 500 MB).
    chosen = [
        columns.arrow_text(frame[name].iloc[rows])
        for name in (schema.DETAIL, schema.INTUNE_STATE, schema.WARNINGS)
    ]
    codes, firsts = columns.distinct_rows(chosen)
    distinct = zip(*(part.take(pa.array(firsts)).to_pylist() for part in chosen), strict=True)
    written = pa.array(
        [_sentence(*combination) for combination in distinct], type=pa.large_string()
    ).take(pa.array(codes))
    del chosen, codes
    mask = np.zeros(len(frame), dtype=bool)
    mask[rows] = True
    frame[schema.DETAIL] = columns.on_rows(
        frame[schema.DETAIL].astype("str"),
        mask,
        lambda chosen: pd.Series(pd.arrays.ArrowStringArray(written), index=chosen.index),
    )
    return frame


def _sentence(detail: str, state: str, warnings: str) -> str:
    """The row's ``detail``, then a sentence for its state and for each described warning."""
    codes = set(warnings.split(";"))
    sentences = [detail] if detail else []
    sentences += [text for code, text in BY_STATE.items() if state == code.value]
    sentences += [text for code, text in BY_WARNING.items() if code.value in codes]
    return " ".join(sentences)
