"""The rows a run does not hand off, kept in ``row_outcomes`` so ``eidflow show`` finds them.

Written in the claim's transaction, in one set-based insert: the rows validation refused,
and those the claim's verdict held back (``duplicate_in_run``, ``conflict_eid``,
``conflict_serial``). ``already_registered`` rows are not kept (their claim tells their
story, and a repeated shipment of a million would add a million lines), nor rows another
running run holds (this file is read again). One line per manifest row: a file read again
(``--reprocess``, a rerun after a killed run) updates its lines and names the later run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import schema
from eidflow.codes import Reason, Status
from eidflow.core import dedupe
from eidflow.ledger import bulk, descriptions
from eidflow.ledger.claims import _text
from eidflow.ledger.db import Connection

HELD_BACK = (Reason.DUPLICATE_IN_RUN, Reason.CONFLICT_EID, Reason.CONFLICT_SERIAL, Reason.RETIRED)
TEXT = (schema.SHEET, schema.EID, schema.EID_RAW, schema.SERIAL_NUMBER, schema.IMEI)
# A file read again: its lines name the later run and say what this reading found.
AGAIN = (
    "ON CONFLICT (file, sheet, row) DO UPDATE SET run_no = excluded.run_no,"
    " manifest = excluded.manifest, status = excluded.status, reason = excluded.reason,"
    " detail = excluded.detail"
)


def write(connection: Connection, line: dict[str, Any] | None) -> int:
    """Insert the lines ``lines`` made (None: none to keep); returns how many."""
    if line is None:
        return 0
    return bulk.insert(connection, "row_outcomes", line, suffix=AGAIN)


def lines(
    connection: Connection,
    run_no: int,
    run_id: str,
    devices: pd.DataFrame,
    judged: np.ndarray,
    reasons: pd.Series,
    manifest_ids: dict[str, int],
) -> dict[str, Any] | None:
    """The lines to keep of the rows of ``devices`` not handed off, as Arrow columns (new
    descriptions are written here), or None: those outside ``judged`` (positions) whose
    status is not accepted, and the judged ones ``reasons`` (aligned with ``judged``) holds
    back. Rows of a file with no sha256 are not kept."""
    if schema.SOURCE_FILE not in devices or schema.ROW not in devices:
        return None
    held = np.flatnonzero(reasons.isin([code.value for code in HELD_BACK]).to_numpy(dtype=bool))
    refused = _refused(devices, judged)
    positions = np.concatenate([refused, judged[held]])
    if not len(positions):
        return None
    rows = devices.iloc[positions]
    kept = {
        name: pa.concat_arrays([_text(rows.iloc[: len(refused)], name), verdict])
        for name, verdict in _verdict(reasons.iloc[held]).items()
    }
    first, manifest = _files(connection, run_id, manifest_ids, _text(rows, schema.SOURCE_FILE))
    known = pc.not_equal(first, 0)
    if not pc.any(known).as_py():
        return None
    line = {
        "run_no": run_no,
        "description": descriptions.ids(connection, rows, pa.array(np.arange(len(rows)))),
        "operator": _text(rows, schema.OPERATOR),
        "first_run_no": run_no,
        "manifest": manifest,
        "file": first,
        "row": pa.array(pd.to_numeric(rows[schema.ROW], errors="coerce").fillna(0).astype("int64")),
        **{name: _text(rows, name) for name in TEXT},
        **kept,
    }
    line[schema.EID] = _digits_where_none(line[schema.EID], line[schema.EID_RAW])
    # the cell as written only where it differs from the EID (most held-back rows' do not)
    same = pc.equal(line[schema.EID_RAW], line[schema.EID])
    line[schema.EID_RAW] = pc.if_else(same, "", line[schema.EID_RAW])
    return {
        name: value if np.isscalar(value) else value.filter(known) for name, value in line.items()
    }


def _verdict(reasons: pd.Series) -> dict[str, pa.Array]:
    """Status, reason and detail of the rows the claim held back, by their reason codes."""
    codes = pa.array(reasons.astype("str"), pa.string())
    distinct = pc.unique(codes)
    which = pc.index_in(codes, value_set=distinct)
    named = distinct.to_pylist()
    statuses = pa.array([Reason(code).status.value for code in named], pa.string())
    details = pa.array([dedupe.DETAILS.get(code, "") for code in named], pa.string())
    return {
        schema.STATUS: statuses.take(which),
        schema.REASON: codes,
        schema.DETAIL: details.take(which),
    }


def _refused(devices: pd.DataFrame, judged: np.ndarray) -> np.ndarray:
    """Positions of the rows not judged whose status is not accepted (validation's refusals)."""
    if schema.STATUS not in devices:
        return np.zeros(0, dtype=np.int64)
    outside = np.ones(len(devices), dtype=bool)
    outside[judged] = False
    refused = (devices[schema.STATUS] != Status.ACCEPTED).to_numpy(dtype=bool, na_value=True)
    return np.flatnonzero(outside & refused)


def _files(
    connection: Connection, run_id: str, ids: dict[str, int], sources: pa.Array
) -> tuple[pa.Array, pa.Array]:
    """Each row's file, as the ``manifests`` line that first received its bytes (0: no
    sha256), and the run's own ``manifests`` line for it."""
    first = dict(
        connection.all(
            "SELECT m.id, (SELECT MIN(f.id) FROM manifests f WHERE f.sha256 = m.sha256)"
            " FROM manifests m WHERE m.run_id = :id AND m.sha256 <> ''",
            {"id": run_id},
        )
    )
    names = pc.unique(sources)
    numbers = [ids.get(name, 0) for name in names.to_pylist()]
    which = pc.index_in(sources, value_set=names)
    return (
        pa.array([int(first.get(number) or 0) for number in numbers], pa.int64()).take(which),
        pa.array(numbers, pa.int64()).take(which),
    )


def _digits_where_none(eids: pa.Array, raw: pa.Array) -> pa.Array:
    """The EID, or the digits of the cell as written where validation found none."""
    digits = pc.replace_substring_regex(raw, r"\D", "")
    return pc.if_else(pc.equal(eids, ""), digits, eids)
