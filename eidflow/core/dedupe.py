"""Duplicates and conflicts, within the run and against the ledger.

A conflict is never resolved by guessing: every row of a conflicting EID (same EID,
different serials) or serial (same serial, different EIDs) is held back. Of rows
repeating the same EID and serial, the first is kept and the rest are
``duplicate_in_run``; a pair the ledger already handed to the row's operator is
``already_registered``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import schema
from eidflow.codes import Reason, Status

DETAILS: dict[str, str] = {
    Reason.DUPLICATE_IN_RUN: "The same EID and serial already appeared earlier in this run.",
    Reason.ALREADY_REGISTERED: "This EID and serial were handed off to this operator by an earlier run.",
    Reason.CONFLICT_EID: "This EID appears with different serial numbers; all such rows are held back.",
    Reason.CONFLICT_SERIAL: "This serial number appears with different EIDs; all such rows are held back.",
}


def classify(frame: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """Mark duplicates and conflicts among accepted rows.

    ``known`` is the ledger's view (``eid``, ``serial_number``, ``operator``: the operator
    holding a live hand-off claim, ``""`` if none); ``frame`` needs ``operator`` set for
    accepted rows.
    """
    out = frame.copy()
    accepted = out[out[schema.STATUS] == Status.ACCEPTED]
    pairs = accepted[[schema.EID, schema.SERIAL_NUMBER]]
    ledger_pairs = known[[schema.EID, schema.SERIAL_NUMBER]].drop_duplicates()
    every_pair = pd.concat([pairs, ledger_pairs], ignore_index=True).drop_duplicates()

    reason = pd.Series("", index=accepted.index, dtype="str")
    reason = reason.mask(_duplicated_in_run(accepted), Reason.DUPLICATE_IN_RUN.value)
    reason = reason.mask(_already_registered(accepted, known), Reason.ALREADY_REGISTERED.value)
    reason = reason.mask(
        _ambiguous(pairs, every_pair, schema.SERIAL_NUMBER, schema.EID),
        Reason.CONFLICT_SERIAL.value,
    )
    reason = reason.mask(
        _ambiguous(pairs, every_pair, schema.EID, schema.SERIAL_NUMBER), Reason.CONFLICT_EID.value
    )
    return apply_reasons(out, reason)


def apply_reasons(frame: pd.DataFrame, reason: pd.Series) -> pd.DataFrame:
    """Set status, reason and detail on the rows where ``reason`` is not empty.

    ``reason`` is indexed by labels of ``frame``. Written by row position in Arrow: a
    rerun whose million rows are all ``already_registered`` takes 0.1 s, not 2.
    """
    hit = reason[reason != ""]
    if hit.empty:
        return frame
    rows = frame.index.get_indexer(hit.index)
    if (rows < 0).any():
        raise KeyError(f"reasons for rows the frame lacks: {list(hit.index[rows < 0][:5])}")
    codes = _text(hit)
    distinct = pc.unique(codes)
    which = pc.index_in(codes, value_set=distinct)
    status = [Reason(code).status.value for code in distinct.to_pylist()]
    detail = [DETAILS.get(code) for code in distinct.to_pylist()]
    for column, values in (
        (schema.REASON, codes),
        (schema.STATUS, pa.array(status, pa.large_string()).take(which)),
        (schema.DETAIL, pa.array(detail, pa.large_string()).take(which)),
        (schema.WARNINGS, pa.repeat(pa.scalar("", pa.large_string()), len(hit))),
    ):
        frame[column] = _written(frame[column], rows, values)
    return frame


def _text(column: pd.Series) -> pa.Array:
    values = pa.array(column.astype("str"), type=pa.large_string())
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _written(column: pd.Series, rows: np.ndarray, values: pa.Array) -> pd.Series:
    """``column`` with ``values`` at the row positions ``rows``, its dtype kept."""
    combined = pa.concat_arrays([_text(column), values])
    source = np.arange(len(column))
    source[rows] = len(column) + np.arange(len(rows))
    written = pd.Series(combined.take(source).to_pandas().array, index=column.index)
    return written.astype(column.dtype)


def _ambiguous(pairs: pd.DataFrame, every_pair: pd.DataFrame, key: str, other: str) -> pd.Series:
    """Rows whose ``key`` goes with more than one ``other`` in the run or the ledger."""
    partners = every_pair.groupby(key, sort=False)[other].nunique()
    return pairs[key].map(partners).fillna(0).astype("int64") > 1


def _duplicated_in_run(accepted: pd.DataFrame) -> pd.Series:
    return accepted.duplicated(subset=[schema.EID, schema.SERIAL_NUMBER], keep="first")


def _already_registered(accepted: pd.DataFrame, known: pd.DataFrame) -> pd.Series:
    claimed = known.loc[
        known[schema.OPERATOR] != "", [schema.EID, schema.SERIAL_NUMBER, schema.OPERATOR]
    ]
    keys = [schema.EID, schema.SERIAL_NUMBER, schema.OPERATOR]
    marker = claimed.drop_duplicates().assign(_claimed=True)
    merged = accepted[keys].merge(marker, on=keys, how="left")
    return pd.Series(merged["_claimed"].fillna(False).to_numpy(dtype=bool), index=accepted.index)
