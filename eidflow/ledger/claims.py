"""The claim: judge a run's devices against the live claims and record the winners.

Under the claim lock (the caller's transaction), one lookup finds the live claims on the
run's EIDs and serials; ``eidflow.core.dedupe`` judges every row at once (``judge``); what
the winners' claims hold is taken from the run's frame (``lines``), then they go into
``claims`` in EID order and their (serial, EID) pairs into ``serials`` in serial order,
each B-tree filled front to back, a slice at a time (``write``). The primary key
``(eid, operator)`` is the exactly-once guarantee itself: a second live claim of an EID
for an operator cannot be written, whatever any check above it did.

Columns travel as Arrow arrays; the verdict works on integer codes (``dedupe``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import schema
from eidflow.codes import Reason
from eidflow.core import dedupe
from eidflow.ledger import bulk, corrections, descriptions, retirements
from eidflow.ledger.base import Claim
from eidflow.ledger.db import Connection
from eidflow.ledger.lookup import claims_on
from eidflow.ledger.order import byte_order

# PostgreSQL: statistics again after a claim this large, so that the planner keeps using
# the indexes for small claims against a large ledger (it was never analysed before).
ANALYZE_AFTER_ROWS = 10_000
CLAIM_TEXT = (schema.SERIAL_NUMBER, schema.IMEI)
STATE = (schema.INTUNE_STATE, schema.ENTRA_OBJECT_ID)


@dataclass(frozen=True)
class Run:
    """The claiming run: its number, and the numbers of the other runs still live."""

    run_no: int
    others_live: frozenset[int]


@dataclass(frozen=True)
class Judged:
    """A verdict, the positions of ``devices`` that won their claim, the EIDs found."""

    verdict: Claim
    winners: np.ndarray
    known_eids: pa.ChunkedArray


def judge(
    connection: Connection, run: Run, devices: pd.DataFrame, rows: np.ndarray | None = None
) -> Judged:
    """The claim's verdict on ``devices`` (``eid``, ``serial_number``, ``operator``; only
    the lines at positions ``rows``, if given): the reasons of the rest, and who else holds
    each EID, aligned with the lines judged. The claim judges so; ``eidflow check`` asks it
    in a read transaction, claiming nothing."""
    chosen = np.arange(len(devices)) if rows is None else np.asarray(rows, dtype=np.int64)
    picked = pa.array(chosen)
    eids = _text(devices, schema.EID).take(picked)
    serials = _text(devices, schema.SERIAL_NUMBER).take(picked)
    operators = _text(devices, schema.OPERATOR).take(picked)
    found = claims_on(connection, eids, serials)
    known = _known(found, run)
    judged = pd.DataFrame(
        {
            schema.EID: _series(eids),
            schema.SERIAL_NUMBER: _series(serials),
            schema.OPERATOR: _series(operators),
        }
    )
    reasons = _corrected(connection, dedupe.reasons(judged, known), eids, serials, operators)
    others = dedupe.held_by_others(judged, known)
    winners = chosen[(reasons == "").to_numpy(dtype=bool)]
    del judged, known, eids, serials, operators  # the claims are taken anew: peak memory
    index = devices.index[chosen]
    verdict = Claim(
        pd.Series(reasons.to_numpy(), index=index, dtype="str"),
        pd.Series(others.to_numpy(), index=index, dtype="str"),
    )
    return Judged(verdict, winners, found.column("eid"))


def _known(found: pa.Table, run: Run) -> pd.DataFrame:
    """The ledger's view for the verdict: a claim is in flight while another live run holds it."""
    run_no = pc.cast(found.column("run_no"), pa.int64())
    others = pa.array(sorted(run.others_live), pa.int64())
    in_flight = pc.is_in(run_no, value_set=others).to_numpy(zero_copy_only=False)
    return pd.DataFrame(
        {
            schema.EID: _series(found.column("eid")),
            schema.SERIAL_NUMBER: _series(found.column("serial_number")),
            schema.OPERATOR: _series(found.column("operator")),
            "in_flight": np.asarray(in_flight, dtype=bool),
        }
    )


def _corrected(
    connection: Connection,
    reasons: pd.Series,
    eids: pa.Array,
    serials: pa.Array,
    operators: pa.Array,
) -> pd.Series:
    """The corrections' word on the verdict: a row whose EID a void has not withdrawn from
    its operator yet waits (a corrected hand-off must not arrive before the withdrawal of
    the bad one), whatever its serial; a retired PC is held back, whatever else holds."""
    waiting = corrections.owed_rows(connection, eids, operators)
    if waiting.any():
        reasons = reasons.where(~waiting, Reason.CLAIMED_BY_RUNNING_RUN.value)
    retired = retirements.retired_rows(connection, eids, serials)
    if retired.any():
        reasons = reasons.where(~retired, Reason.RETIRED.value)
    return reasons


@dataclass
class Lines:
    """The claims a run wins, for ``write``: the text columns as the run's frame holds them
    (Arrow, not copied: they are taken a slice at a time as they are written), the
    winners' positions in EID order, and the columns taken already (or one value each)."""

    text: dict[str, Any]  # the frame's column (Arrow), or one value for every line
    order: np.ndarray  # positions of the winners, in EID order
    taken: dict[str, Any]  # columns in ``order`` (Arrow), or one value for every line
    again: pa.Array | None  # in ``order``: the EID was known already (for another operator)
    states: bool  # whether they bring the devices' Intune states


# Claims taken from the frame and written at a time: a slice's copies are let go before
# the next (a claim runs beside the run writing its files: peak memory matters). 50,000 as
# fast as 100,000 at 1M rows and 8-14 MB lower at the peak, with less kernel time.
WRITE_SLICE_ROWS = 50_000


def lines(
    connection: Connection,
    run: Run,
    devices: pd.DataFrame,
    winners: np.ndarray,
    manifest_ids: dict[str, int],
    known_eids: pa.ChunkedArray,
) -> Lines:
    """The winners' claims in EID order (new descriptions are written here)."""
    text = {name: _held(devices, name) for name in (schema.EID, schema.OPERATOR, *CLAIM_TEXT)}
    order = winners[byte_order(_slice_of(text[schema.EID], winners))]
    take = pa.array(order)
    taken: dict[str, Any] = {
        "run_no": run.run_no,
        "manifest": _manifests(devices, take, manifest_ids),
        "row": _rows(devices, take),
        "description": descriptions.ids(connection, devices, take),
    }
    states = all(name in devices for name in STATE) and schema.INTUNE_STATE in devices
    if states:
        for name in STATE:
            taken[name] = _text(devices, name).take(take)
        taken["state_run"] = run.run_no
    again = (
        pc.is_in(_slice_of(text[schema.EID], order), value_set=known_eids.combine_chunks())
        if len(known_eids)
        else None
    )
    return Lines(text, order, taken, again, states)


def write(connection: Connection, claimed: Lines) -> None:
    """Insert the claims, a slice at a time, then their serials."""
    order, count = claimed.order, len(claimed.order)
    if claimed.again is not None and claimed.states and pc.any(claimed.again).as_py():
        known = np.flatnonzero(claimed.again.to_numpy(zero_copy_only=False))
        picked = {schema.EID: _slice_of(claimed.text[schema.EID], order[known])}
        picked.update({name: claimed.taken[name].take(pa.array(known)) for name in STATE})
        _carry_state(connection, picked, claimed.taken["run_no"])
    for start in range(0, count, WRITE_SLICE_ROWS):
        part = order[start : start + WRITE_SLICE_ROWS]
        line = {name: _slice_of(values, part) for name, values in claimed.text.items()}
        for name, values in claimed.taken.items():
            line[name] = values if np.isscalar(values) else values.slice(start, len(part))
        bulk.insert(connection, "claims", line)
    _insert_serials(connection, claimed, claimed.again is not None)
    if connection.postgres and count >= ANALYZE_AFTER_ROWS:
        connection.execute("ANALYZE claims")
        connection.execute("ANALYZE serials")


def _held(devices: pd.DataFrame, column: str) -> Any:
    """A text column as the frame holds it (Arrow, no copy), or ``""`` if absent."""
    if column not in devices:
        return ""
    values = devices[column]
    if values.dtype == "str":
        return pa.Array.from_pandas(values)
    return _text(devices, column)


def _slice_of(values: Any, positions: np.ndarray) -> Any:
    """The lines at ``positions`` of a column ``_held`` gives, as Arrow strings ("" for
    missing); one value stays one value."""
    if isinstance(values, str):
        return values
    return _plain(values.take(pa.array(positions)))


def _insert_serials(connection: Connection, claimed: Lines, known: bool) -> None:
    """The new (serial, EID) pairs, once each, in serial order, a slice at a time
    (``known``: some EIDs were claimed before, so some pairs may be there already)."""
    text, order = claimed.text, claimed.order
    if isinstance(text[schema.SERIAL_NUMBER], str):
        return  # no serial numbers
    eids = _slice_of(text[schema.EID], order)
    first = pc.not_equal(eids, pc.fill_null(_shifted(eids), ""))  # EID order: repeats adjacent
    del eids
    serials = _slice_of(text[schema.SERIAL_NUMBER], order)
    keep = pc.and_(first, pc.not_equal(serials, ""))
    serials = serials.filter(keep)
    positions = order[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)]
    if not _is_sorted(serials):
        positions = positions[byte_order(serials)]
    del serials
    suffix = "ON CONFLICT DO NOTHING" if known else ""
    for start in range(0, len(positions), WRITE_SLICE_ROWS):
        part = positions[start : start + WRITE_SLICE_ROWS]
        pair = {name: _slice_of(text[name], part) for name in (schema.SERIAL_NUMBER, schema.EID)}
        bulk.insert(connection, "serials", pair, suffix=suffix)


def _carry_state(connection: Connection, picked: dict[str, pa.Array], run_no: int) -> None:
    """An EID claimed before for another operator takes the state this claim brings on every
    line (``picked``: their EIDs and states); the state it had goes to its history first
    (``enrolment``)."""
    from eidflow.ledger import enrolment

    frame = pd.DataFrame({name: _series(values) for name, values in picked.items()})
    enrolment.set_states(connection, frame, int(run_no))


def _is_sorted(values: pa.Array) -> bool:
    if len(values) < 2:
        return True
    return bool(pc.all(pc.less_equal(values.slice(0, len(values) - 1), values.slice(1))).as_py())


def _shifted(values: pa.Array) -> pa.Array:
    """``values`` one place later: null first, then all but the last."""
    return pa.concat_arrays([pa.nulls(1, values.type), values.slice(0, len(values) - 1)])


def _manifests(devices: pd.DataFrame, take: pa.Array, ids: dict[str, int]) -> Any:
    sources = _text(devices, schema.SOURCE_FILE).take(take)
    names = pc.unique(sources).to_pylist()
    if len(names) == 1:
        return ids.get(names[0], 0)
    lookup = pa.array(names, pa.string())
    codes = pc.index_in(sources, value_set=lookup)
    return pa.array([ids.get(name, 0) for name in names], pa.int64()).take(codes)


def _rows(devices: pd.DataFrame, take: pa.Array) -> pa.Array:
    if schema.ROW not in devices:
        return pa.array(np.zeros(len(take), dtype=np.int64))
    numbers = pd.to_numeric(devices[schema.ROW], errors="coerce").fillna(0).astype("int64")
    return pa.array(numbers.to_numpy()).take(take)


def _text(devices: pd.DataFrame, column: str) -> pa.Array:
    """A column as an Arrow string array ("" for missing); an empty one if absent."""
    if column not in devices:
        return pa.repeat(pa.scalar("", pa.string()), len(devices))
    return _plain(pa.Array.from_pandas(devices[column].astype("str")))


def _plain(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Text as one Arrow string array, ``""`` for missing."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    return pc.fill_null(values, "") if values.null_count else values


def _series(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """Arrow text as a pandas ``str`` Series, without a copy."""
    return pd.Series(pd.array(values, dtype="str"))
