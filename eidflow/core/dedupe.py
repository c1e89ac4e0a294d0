"""Duplicates and conflicts, within the run and against the ledger.

A conflict is never resolved by guessing: every row of a conflicting EID (same EID,
different serials) or serial (same serial, different EIDs) is held back. Of rows
repeating the same EID and serial, the first is kept and the rest are
``duplicate_in_run``; a pair the ledger already handed to the row's operator is
``already_registered``. The ledger applies these rules inside its claim, under its
lock (``eidflow.ledger.handoffs``): the run's one verdict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import schema
from eidflow.codes import Reason

DETAILS: dict[str, str] = {
    Reason.DUPLICATE_IN_RUN: "The same EID and serial already appeared earlier in this run.",
    Reason.ALREADY_REGISTERED: (
        "This EID and serial were handed off to this operator by an earlier run"
        " (eidflow show EID tells which, when and with which serial)."
    ),
    Reason.CLAIMED_BY_RUNNING_RUN: "Another run, not finished yet, is handing this EID off to this operator; if it fails, the next run hands it off (this manifest is read again).",
    Reason.CONFLICT_EID: "This EID appears with different serial numbers; all such rows are held back.",
    Reason.CONFLICT_SERIAL: "This serial number appears with different EIDs; all such rows are held back.",
    Reason.RETIRED: (
        "This PC (its EID or serial number) was retired (eidflow retire): held back; eidflow"
        " show tells when and why, eidflow retire --undo puts it back."
    ),
}


def reasons(rows: pd.DataFrame, known: pd.DataFrame) -> pd.Series:
    """Per row of ``rows`` (``eid``, ``serial_number``, ``operator``: the candidates for a
    hand-off), ``""`` to hand it off, else the reason code; indexed like ``rows``.

    ``known`` is the ledger's view (``eid``, ``serial_number``, ``operator``: the operator
    holding a live hand-off claim, ``""`` if none; optional ``in_flight``: the claim is
    another run's, not finished yet). Precedence, highest first: ``conflict_eid``,
    ``conflict_serial``, ``claimed_by_running_run`` / ``already_registered`` (a claim in
    flight or delivered), ``duplicate_in_run``.
    Rows of every operator are judged together, so a serial shared by rows routed to two
    operators is a conflict for both; an empty EID or serial counts for nothing. Worked on
    integer codes of the texts, the rows first, then the ledger's: pandas' duplicated,
    merge and groupby on a million Arrow strings take seconds.
    """
    eid, serial, operator = (
        _codes(rows[column], known[column])
        for column in (schema.EID, schema.SERIAL_NUMBER, schema.OPERATOR)
    )
    pair = _combined(eid, serial)
    repeated = pd.Series(pair).duplicated(keep="first").to_numpy()
    line = _combined(pair, operator)
    claimed = (known[schema.OPERATOR] != "").to_numpy(dtype=bool, na_value=False)
    in_flight = (
        np.asarray(known["in_flight"], dtype=bool)
        if "in_flight" in known
        else np.zeros(len(known), dtype=bool)
    )

    run = len(rows)
    reason = np.zeros(run, dtype=np.int8)
    reason[repeated[:run]] = _DUPLICATE
    reason[np.isin(line[:run], line[run:][claimed & ~in_flight])] = _REGISTERED
    if in_flight.any():  # one live claim per (operator, EID): in flight or delivered
        reason[np.isin(line[:run], line[run:][claimed & in_flight])] = _RUNNING
    reason[_ambiguous(serial, eid, ~repeated)[:run]] = _CONFLICT_SERIAL
    reason[_ambiguous(eid, serial, ~repeated)[:run]] = _CONFLICT_EID
    return pd.Series(_CLASSIFIED.take(reason).to_pandas().array, index=rows.index)


_CLASSIFIED = pa.array(  # by code, in rising precedence: a later one overrides
    [
        "",
        Reason.DUPLICATE_IN_RUN.value,
        Reason.ALREADY_REGISTERED.value,
        Reason.CLAIMED_BY_RUNNING_RUN.value,
        Reason.CONFLICT_SERIAL.value,
        Reason.CONFLICT_EID.value,
    ],
    pa.large_string(),
)
_DUPLICATE, _REGISTERED, _RUNNING, _CONFLICT_SERIAL, _CONFLICT_EID = range(1, len(_CLASSIFIED))


def held_by_others(rows: pd.DataFrame, known: pd.DataFrame) -> pd.Series:
    """Per row of ``rows``, the operators *other* than its own holding a live claim on its
    EID (``;``-joined, sorted), ``""`` for none; indexed like ``rows``, views as in ``reasons``.

    Not a reason to hold a row back: an eUICC can hold profiles of several operators, and
    a hand-off to each is exactly-once on its own. It deserves a look all the same (a PO
    routed anew, or a second carrier by mistake): the pipeline warns of it.
    """
    nothing = pd.Series("", index=rows.index, dtype="str")
    held = known.loc[known[schema.OPERATOR] != "", [schema.EID, schema.OPERATOR]]
    if (
        held.empty
        or len(set(_distinct(rows[schema.OPERATOR])) | set(_distinct(held[schema.OPERATOR]))) < 2
    ):
        return nothing  # one operator in all: the usual case, decided without a join
    lines = pd.DataFrame(
        {
            "at": np.arange(len(rows)),
            "eid": _text(rows[schema.EID]).to_pandas(),
            "mine": _text(rows[schema.OPERATOR]).to_pandas(),
        }
    )
    theirs = pd.DataFrame(
        {
            "eid": _text(held[schema.EID]).to_pandas(),
            "theirs": _text(held[schema.OPERATOR]).to_pandas(),
        }
    )
    hits = lines.merge(theirs.drop_duplicates(), on="eid")
    hits = hits[(hits["mine"] != hits["theirs"]) & (hits["eid"] != "")]
    if hits.empty:
        return nothing
    others = hits.sort_values("theirs").groupby("at")["theirs"].agg(";".join)
    values = nothing.to_numpy(dtype=object)
    values[others.index.to_numpy()] = others.to_numpy()
    return pd.Series(values, index=rows.index, dtype="str")


def _distinct(column: pd.Series) -> list[str]:
    return pc.unique(_text(column)).to_pylist()


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


def _text_chunks(column: pd.Series) -> list[pa.Array]:
    values = pa.array(column.astype("str"), type=pa.large_string())
    return values.chunks if isinstance(values, pa.ChunkedArray) else [values]


def _written(column: pd.Series, rows: np.ndarray, values: pa.Array) -> pd.Series:
    """``column`` with ``values`` at the row positions ``rows``, its dtype kept."""
    combined = pa.concat_arrays([_text(column), values])
    source = np.arange(len(column))
    source[rows] = len(column) + np.arange(len(rows))
    written = pd.Series(combined.take(source).to_pandas().array, index=column.index)
    return written.astype(column.dtype)


def _codes(run: pd.Series, ledger: pd.Series) -> np.ndarray:
    """Integer codes of the texts of both columns, one numbering; ``-1`` for missing or empty."""
    chunks = [*_text_chunks(run), *_text_chunks(ledger)]  # encoded as they are: no copy first
    encoded = pa.chunked_array(chunks, pa.large_string()).dictionary_encode().combine_chunks()
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    empty = pc.index(encoded.dictionary, pa.scalar("", pa.large_string())).as_py()
    if empty >= 0:
        codes[codes == empty] = -1
    return codes


def _combined(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One code per distinct (first, second) pair (missing equals missing, as in pandas)."""
    width = int(second.max(initial=-1)) + 2
    codes, _ = pd.factorize((first + 1) * width + second + 1)
    return codes


def _ambiguous(key: np.ndarray, other: np.ndarray, distinct: np.ndarray) -> np.ndarray:
    """Lines whose ``key`` goes with more than one ``other`` among the ``distinct`` pairs
    (one line each); a missing key or partner counts for nothing."""
    counted = distinct & (key >= 0) & (other >= 0)
    partners = np.bincount(key[counted], minlength=int(key.max(initial=0)) + 1)
    return (key >= 0) & (partners[np.maximum(key, 0)] > 1)
