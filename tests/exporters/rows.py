"""Frames shaped like what the pipeline hands the exporters."""

from __future__ import annotations

from typing import Any

import pandas as pd

from eidflow import schema
from tests.frames import make_eid, make_imei

HOSTILE = ("=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "\tTAB", "\rCR")

HANDOFF_COLUMNS = (*schema.DECISION_COLUMNS, *schema.DESCRIPTIVE)


def handoff_row(n: int, **given: Any) -> dict[str, Any]:
    """An accepted row for device ``n`` with every hand-off column."""
    row: dict[str, Any] = {name: "" for name in HANDOFF_COLUMNS}
    row |= {
        schema.SOURCE_FILE: "dell_asn.csv",
        schema.ROW: n + 1,
        schema.EID_RAW: make_eid(n),
        schema.EID: make_eid(n),
        schema.SERIAL_NUMBER: f"SN{n:05d}",
        schema.IMEI: make_imei(n),
        schema.STATUS: "accepted",
        schema.INTUNE_STATE: "not_enrolled",
        "manufacturer": "Dell",
        "model": "Latitude 7450",
        "po_number": "PO-1001",
    }
    return row | given


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Text columns as pandas strings ("" for empty), ``row`` as int64."""
    table = pd.DataFrame.from_records(rows, columns=list(HANDOFF_COLUMNS))
    for name in table.columns:
        table[name] = table[name].astype("int64" if name == schema.ROW else "str")
    return table


def handoff(count: int, **given: Any) -> pd.DataFrame:
    return frame([handoff_row(n, **given) for n in range(1, count + 1)])
