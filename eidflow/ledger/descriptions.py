"""Descriptive fields (manufacturer, model, SKU, PO…) stored once per distinct set.

A shipment of a million PCs has a handful of distinct descriptions: each claim refers to
its set by number, and a set is written only the first time the ledger sees it.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import schema
from eidflow.identifiers.columns import distinct_rows
from eidflow.ledger import bulk
from eidflow.ledger.db import Connection

FIELDS = schema.DESCRIPTIVE
SAME = " AND ".join(f"d.{name} = t.{name}" for name in FIELDS)


def ids(connection: Connection, devices: pd.DataFrame, take: pa.Array) -> pa.Array | int:
    """The description number of each row ``take`` picks from ``devices`` (0: no fields)."""
    present = [name for name in FIELDS if name in devices]
    if not present:
        return 0
    columns = {name: _text(devices, name).take(take) for name in present}
    codes, firsts = distinct_rows(list(columns.values()))
    blank = pa.repeat(pa.scalar("", pa.string()), len(firsts))
    distinct = {
        name: columns[name].take(pa.array(firsts)) if name in columns else blank for name in FIELDS
    }
    numbers = _numbers(connection, distinct)
    if len(numbers) == 1:
        return int(numbers[0])
    return pa.array(numbers, pa.int64()).take(pa.array(codes))


def _numbers(connection: Connection, distinct: dict[str, pa.Array]) -> list[int]:
    """The ledger's number for each distinct description (0 for none), written if new."""
    blank = functools.reduce(pc.and_, (pc.equal(values, "") for values in distinct.values()))
    wanted = {name: values.filter(pc.invert(blank)) for name, values in distinct.items()}
    count = len(blank)
    if len(wanted[FIELDS[0]]) == 0:
        return [0] * count
    bulk.insert(connection, "descriptions", wanted, suffix="ON CONFLICT DO NOTHING")
    positions = pa.array(np.flatnonzero(~np.asarray(blank, dtype=bool)), pa.int64())
    bulk.create_temp(
        connection, "tmp_descriptions", {"at": "INTEGER"} | dict.fromkeys(FIELDS, "TEXT")
    )
    bulk.insert(connection, "tmp_descriptions", {"at": positions, **wanted})
    found = connection.all(
        f"SELECT t.at, d.id FROM tmp_descriptions t JOIN descriptions d ON {SAME}"
    )
    bulk.drop_temp(connection, "tmp_descriptions")
    numbers = [0] * count
    for at, number in found:
        numbers[int(at)] = int(number)
    return numbers


def _text(devices: pd.DataFrame, column: str) -> pa.Array:
    if column not in devices:
        return pa.repeat(pa.scalar("", pa.string()), len(devices))
    values = pa.Array.from_pandas(devices[column].astype("str")).cast(pa.string())
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return pc.fill_null(values, "") if values.null_count else values
