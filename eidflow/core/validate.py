"""Normalise and validate every manifest row: the first verdict on each line.

Takes the parsers' frame (``schema.MANIFEST_COLUMNS``) and returns it with
``eid``, ``serial_number``, ``imei``, ``imei2``, ``status``, ``reason``, ``detail``
and ``warnings``. Rows with a reason are rejected; the others are accepted for now
(dedupe and reconcile may still change that).
"""

from __future__ import annotations

import pandas as pd

from eidflow import schema
from eidflow.codes import Reason, Status, WarningCode
from eidflow.identifiers import columns
from eidflow.identifiers import eid as eid_rules

DETAILS: dict[str, str] = {
    Reason.EID_MISSING: "No EID in this row.",
    Reason.EID_NOT_DIGITS: "The EID holds characters other than digits.",
    Reason.EID_LENGTH: "The EID does not have 32 digits.",
    Reason.EID_CHECKSUM: "The EID's check digits (last two) are wrong: a digit was mistyped or swapped.",
    Reason.EID_PRECISION_LOST: (
        "The EID went through a spreadsheet number and lost digits; it cannot be repaired."
        " Ask the sender to format the EID column as text and export again."
    ),
    Reason.SERIAL_MISSING: "No serial number in this row: it cannot be matched to Intune.",
}

_SERIAL_WRAPPING = r'(?s)^(?:="(.*)"|\'(.*))$'


def normalise_serial(serial_raw: pd.Series) -> pd.Series:
    """Serial numbers as matched against Intune: unwrapped, trimmed, upper-case."""
    serials = columns.text(serial_raw)
    plain = columns.ascii_alnum_or_empty(serials)
    return columns.on_rows(serials, ~plain, _unwrap_serial).str.upper()


def _unwrap_serial(serials: pd.Series) -> pd.Series:
    stripped = serials.str.strip(eid_rules.WHITESPACE)
    unwrapped = stripped.str.replace(_SERIAL_WRAPPING, r"\1\2", regex=True)
    return unwrapped.str.strip(eid_rules.WHITESPACE)


def validate_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Every row with its normalised identifiers and first verdict."""
    frame = rows.copy()
    eid, reason = columns.eid_reasons(frame[schema.EID_RAW], frame[schema.EID_NUMERIC])
    frame[schema.EID] = eid
    frame[schema.SERIAL_NUMBER] = normalise_serial(frame[schema.SERIAL_RAW])
    reason = reason.mask(
        (reason == "") & (frame[schema.SERIAL_NUMBER] == ""), Reason.SERIAL_MISSING
    )
    frame[schema.REASON] = reason
    frame[schema.STATUS] = pd.Series(Status.ACCEPTED.value, index=frame.index, dtype="str").mask(
        reason != "", Status.REJECTED.value
    )
    frame[schema.DETAIL] = _details(reason, frame[schema.EID_RAW])
    frame[schema.WARNINGS] = _warnings(frame)
    return frame


def _details(reason: pd.Series, eid_raw: pd.Series) -> pd.Series:
    """The sentence for each reason; for an EID with other characters, which ones."""
    detail = reason.map(DETAILS).fillna("").astype("str")
    foreign = (reason == Reason.EID_NOT_DIGITS).to_numpy(dtype=bool)
    return columns.on_rows(
        detail,
        foreign,
        lambda rows: pd.Series(
            [
                f"The EID holds characters other than digits: {eid_rules.foreign_characters(raw)}."
                for raw in columns.text(eid_raw)[foreign]
            ],
            index=rows.index,
            dtype="str",
        ),
    )


def _warnings(frame: pd.DataFrame) -> pd.Series:
    imei, imei_valid, imei_lost_zero = columns.imei_check(frame[schema.IMEI_RAW])
    imei2, imei2_valid, imei2_lost_zero = columns.imei_check(frame[schema.IMEI2_RAW])
    frame[schema.IMEI] = imei
    frame[schema.IMEI2] = imei2
    imei_placeholder, imei2_placeholder = (
        columns.repeated_digit(imei),
        columns.repeated_digit(imei2),
    )
    accepted = frame[schema.STATUS] == Status.ACCEPTED
    numeric_cell = frame[schema.IMEI_NUMERIC].astype(bool)
    flags = {
        WarningCode.EID_PREFIX: accepted
        & ~frame[schema.EID].str.startswith(eid_rules.CLASSIC_PREFIX),
        WarningCode.IMEI_LEADING_ZERO_LOST: accepted
        & (imei_lost_zero | (numeric_cell & (imei.str.len() == 14))),
        WarningCode.IMEI_INVALID: accepted
        & (imei != "")
        & ~imei_valid
        & ~imei_lost_zero
        & ~imei_placeholder,
        WarningCode.IMEI2_INVALID: accepted
        & (imei2 != "")
        & ~imei2_valid
        & ~imei2_lost_zero
        & ~imei2_placeholder,
        WarningCode.IMEI_PLACEHOLDER: accepted & imei_placeholder,
        WarningCode.IMEI2_PLACEHOLDER: accepted & imei2_placeholder,
        WarningCode.NUMBER_DAMAGED: accepted & _number_damaged(frame),
    }
    return join_codes(flags, frame.index)


DAMAGED_NUMBER_FIELDS = (schema.PO_NUMBER, "order_number", "asn")
# A spreadsheet number's printed forms: exponent notation, or at most 17 significant digits
# then zeros in a value of 16 digits or more (what a float keeps of a long number).
_EXPONENT = eid_rules.SCIENTIFIC_PATTERN
_PADDED = r"^[0-9]{1,17}00+$"


def _number_damaged(frame: pd.DataFrame) -> pd.Series:
    """Rows whose PO, order or ASN number went through a spreadsheet number."""
    damaged = pd.Series(False, index=frame.index)
    for name in DAMAGED_NUMBER_FIELDS:
        values = columns.text(frame[name]).str.strip()
        some = (values != "").to_numpy(dtype=bool)
        if not some.any():
            continue
        few = values[some]
        hit = few.str.match(_EXPONENT) | ((few.str.len() >= 16) & few.str.match(_PADDED))
        damaged.iloc[some.nonzero()[0]] |= hit.to_numpy(dtype=bool)
    return damaged


def join_codes(flags: dict[WarningCode, pd.Series], index: pd.Index) -> pd.Series:
    """``;``-joined codes of the flags that hold on each row, ``""`` where none does."""
    joined = pd.Series("", index=index, dtype="str")
    for code, holds in flags.items():
        if holds.any():
            joined = add_warning(joined, holds, code)
    return joined


def add_warning(warnings: pd.Series, holds: pd.Series, code: WarningCode) -> pd.Series:
    """The warnings column with ``code`` added where ``holds`` (same index as ``warnings``)."""
    added = columns.on_rows(
        warnings, holds.to_numpy(dtype=bool), lambda rows: rows + ";" + code.value
    )
    return added.str.lstrip(";")
