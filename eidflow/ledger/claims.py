"""Which rows of a claim get the hand-off: a pure function of the rows and the ledger's view.

Run inside the claim transaction, under the claim lock, so ``known`` is exact: the
live claims on these EIDs and serials at that moment. This is the run's one verdict
on duplicates and conflicts (``eidflow.core.dedupe`` explains the rules). Precedence,
highest first: ``conflict_eid``, ``conflict_serial``, ``already_registered``,
``duplicate_in_run``. Rows of every operator are judged together, so a serial shared
by rows routed to two operators is a conflict for both.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import schema
from eidflow.codes import Reason

EID, SERIAL, OPERATOR = schema.EID, schema.SERIAL_NUMBER, schema.OPERATOR


def claim_reasons(rows: pd.DataFrame, known: pd.DataFrame) -> pd.Series:
    """Per row of ``rows`` (``eid``, ``serial_number``, ``operator``): ``""`` to claim, else why not.

    ``known``: ``eid``, ``serial_number``, ``operator`` of the live claims on these devices.
    """
    row_pairs = rows[[EID, SERIAL]]
    repeated = row_pairs.duplicated(keep="first")
    pairs = pd.concat([row_pairs[~repeated], known[[EID, SERIAL]]], ignore_index=True)
    pairs = pairs.drop_duplicates()
    reason = pd.Series("", index=rows.index, dtype="str")
    reason = reason.mask(repeated, Reason.DUPLICATE_IN_RUN)
    reason = reason.mask(
        _isin(_claim_keys(rows), _claim_keys(known), rows.index), Reason.ALREADY_REGISTERED
    )
    reason = reason.mask(_ambiguous(rows, pairs, SERIAL), Reason.CONFLICT_SERIAL)
    reason = reason.mask(_ambiguous(rows, pairs, EID), Reason.CONFLICT_EID)
    return reason


def _claim_keys(frame: pd.DataFrame) -> pa.Array:
    """(operator, EID) as one text per line: what the exactly-once index holds."""
    separator = pa.scalar("\x1f", type=pa.large_string())
    return pc.binary_join_element_wise(_arrow(frame[OPERATOR]), _arrow(frame[EID]), separator)


def _ambiguous(rows: pd.DataFrame, pairs: pd.DataFrame, key: str) -> pd.Series:
    """Rows whose ``key`` goes with more than one partner among the (distinct) pairs."""
    keys = pairs.loc[pairs[key] != "", key]
    return _isin(_arrow(rows[key]), _arrow(keys[keys.duplicated()]), rows.index)


def _arrow(values: pd.Series) -> pa.Array:
    return pa.array(values, type=pa.large_string())


def _isin(values: pa.Array, choices: pa.Array, index: pd.Index) -> pd.Series:
    # pyarrow directly: pandas' isin on Arrow strings walks the choices in Python.
    hit = pc.is_in(values, value_set=choices)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=index, dtype=bool)
