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
    row_pairs = rows[[EID, SERIAL]]
    repeated = row_pairs.duplicated(keep="first")
    pairs = pd.concat([row_pairs[~repeated], known[[EID, SERIAL]]], ignore_index=True)
    pairs = pairs.drop_duplicates()
    reason = pd.Series("", index=rows.index, dtype="str")
    reason = reason.mask(repeated, Reason.DUPLICATE_IN_RUN)
    reason = reason.mask(
        _isin(rows[EID], known.loc[known[OPERATOR] == operator, EID]), Reason.ALREADY_REGISTERED
    )
    reason = reason.mask(_ambiguous(rows, pairs, SERIAL), Reason.CONFLICT_SERIAL)
    reason = reason.mask(_ambiguous(rows, pairs, EID), Reason.CONFLICT_EID)
    return reason


def _ambiguous(rows: pd.DataFrame, pairs: pd.DataFrame, key: str) -> pd.Series:
    """Rows whose ``key`` goes with more than one partner among the (distinct) pairs."""
    keys = pairs.loc[pairs[key] != "", key]
    return _isin(rows[key], keys[keys.duplicated()])


def _isin(values: pd.Series, choices: pd.Series) -> pd.Series:
    # pyarrow directly: pandas' isin on Arrow strings walks the choices in Python.
    hit = pc.is_in(
        pa.array(values, type=pa.large_string()),
        value_set=pa.array(choices, type=pa.large_string()),
    )
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)
