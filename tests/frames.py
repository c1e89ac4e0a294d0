"""Tiny frames for the pure core's tests, and EIDs/IMEIs with real check digits."""

from __future__ import annotations

from typing import Any

import pandas as pd

from eidflow import schema
from eidflow.identifiers.eid import calc_check_digits
from eidflow.identifiers.imei import calc_check_digit


def make_eid(n: int) -> str:
    first30 = f"890490321234512345{n * 7919 * 104729 % 10**12:012d}"
    return first30 + calc_check_digits(first30)


def make_imei(n: int) -> str:
    first14 = f"35409811{n:06d}"
    return first14 + calc_check_digit(first14)


def manifest_rows(*rows: dict[str, Any], source_file: str = "m.csv") -> pd.DataFrame:
    """A parser-shaped frame: every column of ``schema.MANIFEST_COLUMNS``, rows numbered from 2."""
    records = []
    for number, given in enumerate(rows, start=2):
        record: dict[str, Any] = {name: "" for name in schema.MANIFEST_COLUMNS}
        record |= {schema.SOURCE_FILE: source_file, schema.ROW: number}
        record |= {schema.EID_NUMERIC: False, schema.IMEI_NUMERIC: False}
        record |= given
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=list(schema.MANIFEST_COLUMNS))
    text = [
        name
        for name in schema.MANIFEST_COLUMNS
        if name not in (schema.ROW, schema.EID_NUMERIC, schema.IMEI_NUMERIC)
    ]
    frame[text] = frame[text].astype("str")
    frame[schema.ROW] = frame[schema.ROW].astype("int64")
    frame[[schema.EID_NUMERIC, schema.IMEI_NUMERIC]] = frame[
        [schema.EID_NUMERIC, schema.IMEI_NUMERIC]
    ].astype(bool)
    return frame


def device(n: int, serial: str | None = None, **extra: Any) -> dict[str, Any]:
    """A good manifest row for device ``n``."""
    return {
        schema.EID_RAW: make_eid(n),
        schema.SERIAL_RAW: serial or f"SN{n:05d}",
        schema.IMEI_RAW: make_imei(n),
    } | extra
