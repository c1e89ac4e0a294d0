"""Which rows of a claim get the hand-off: a pure function of the rows and the ledger's view.

Run inside the claim transaction, under the claim lock, so ``known`` is exact: the
live claims on these EIDs and serials at that moment. Precedence, highest first:
``conflict_eid``, ``conflict_serial``, ``already_registered``, ``duplicate_in_run``.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import schema
from eidflow.codes import Reason

EID, SERIAL, OPERATOR = schema.EID, schema.SERIAL_NUMBER, schema.OPERATOR


def claim_reasons(rows: pd.DataFrame, known: pd.DataFrame, operator: str) -> pd.Series:
    """Per row of ``rows`` (``eid``, ``serial_number``): ``""`` to claim, else the reason code.

    ``known``: ``eid``, ``serial_number``, ``operator`` of the live claims on these devices.
    """
    reason = pd.Series("", index=rows.index, dtype="str")
    reason = reason.mask(
        rows.duplicated(subset=[EID, SERIAL], keep="first"), Reason.DUPLICATE_IN_RUN
    )
    reason = reason.mask(_held_by(rows, known, operator), Reason.ALREADY_REGISTERED)
    pairs = pd.concat([rows[[EID, SERIAL]], known[[EID, SERIAL]]], ignore_index=True)
    pairs = pairs.drop_duplicates()
    reason = reason.mask(_ambiguous(rows, pairs, SERIAL, EID), Reason.CONFLICT_SERIAL)
    reason = reason.mask(_ambiguous(rows, pairs, EID, SERIAL), Reason.CONFLICT_EID)
    return reason


def _held_by(rows: pd.DataFrame, known: pd.DataFrame, operator: str) -> pd.Series:
    held = known.loc[known[OPERATOR] == operator, EID]
    # pyarrow directly: pandas' isin on Arrow strings walks the choices in Python.
    hit = pc.is_in(
        pa.array(rows[EID], type=pa.large_string()),
        value_set=pa.array(held, type=pa.large_string()),
    )
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=rows.index, dtype=bool)


def _ambiguous(rows: pd.DataFrame, pairs: pd.DataFrame, key: str, other: str) -> pd.Series:
    """Rows whose ``key`` goes with more than one ``other`` among the rows and the ledger."""
    pairs = pairs[pairs[key] != ""]
    partners = pairs.groupby(key, sort=False)[other].nunique()
    counts = rows[key].map(partners).fillna(0).astype("int64")
    return (counts > 1) & (rows[key] != "")
