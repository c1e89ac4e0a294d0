"""The look-up of a claim: the live claims on a run's EIDs, or on its serial numbers.

Two ways, chosen by size: a claim against a larger ledger probes the ledger's indexes
with its keys (SQLite: read from two JSON arrays by ``json_each``; PostgreSQL: staged by
COPY); one against a smaller ledger reads the ledger whole and filters it in Arrow.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from eidflow.ledger import bulk
from eidflow.ledger.db import Connection

FOUND = ("eid", "serial_number", "operator", "run_no")
# UNION ALL: a claim found by its EID and by its serial comes twice, and Arrow keeps one
# (a UNION's sort of the lines in SQLite cost more than the look-up itself).
LOOKUP_SQL = """
SELECT c.eid, c.serial_number, c.operator, c.run_no FROM tmp_keys k JOIN claims c ON c.eid = k.eid
UNION ALL
SELECT c.eid, c.serial_number, c.operator, c.run_no FROM tmp_keys k
JOIN serials s ON s.serial_number = k.serial_number JOIN claims c ON c.eid = s.eid
WHERE k.serial_number <> ''
"""
# SQLite: the keys go in as two JSON arrays and are probed straight from json_each (staging
# them in a temporary table first took 1.4 s of a 1M look-up that now takes 0.6 s).
JSON_LOOKUP_SQL = """
SELECT c.eid, c.serial_number, c.operator, c.run_no FROM json_each(:eids) k
JOIN claims c ON c.eid = k.value
UNION ALL
SELECT c.eid, c.serial_number, c.operator, c.run_no FROM json_each(:serials) k
JOIN serials s ON s.serial_number = k.value JOIN claims c ON c.eid = s.eid
WHERE k.value <> ''
"""
SMALL_LOOKUP_LINES = 10_000  # lines found, kept once each in Python (see _once_each)
JSON_LOOKUP_KEYS = 200_000  # keys of each kind a statement (a few MB of JSON)
SCAN_SQL = "SELECT eid, serial_number, operator, run_no FROM claims"
# Read the whole ledger rather than look its keys up when it holds at most this many
# claims per key (bench/bench_ingest.py, 1,000,000 keys against 1,000,000 claims): SQLite
# probes a key from JSON for a sixth of what reading a line into Python costs;
# PostgreSQL's COPY out reads a line for a third of what its join of a staged key costs.
SCAN_FACTOR = {"sqlite": 0.15, "postgresql": 2.0}


def claims_on(connection: Connection, eids: pa.Array, serials: pa.Array) -> pa.Table:
    """The live claims on these EIDs, or on these serials (``FOUND`` columns, as text)."""
    if len(eids) == 0 and len(serials) == 0:
        return bulk.fetch(connection, SCAN_SQL + " WHERE 1 = 0", FOUND)
    scan_up_to = int(SCAN_FACTOR[connection.url.backend] * max(len(eids), len(serials)))
    held = _held_up_to(connection, scan_up_to + 1)
    if held == 0:
        return bulk.fetch(connection, SCAN_SQL + " WHERE 1 = 0", FOUND)
    if held > scan_up_to:
        if not connection.postgres and bulk.json_safe(eids) and bulk.json_safe(serials):
            return _once_each(_json_lookup(connection, eids, serials))
        keys, keyed_serials = _padded(eids, serials)
        bulk.create_temp(connection, "tmp_keys", {"eid": "TEXT", "serial_number": "TEXT"})
        bulk.insert(connection, "tmp_keys", {"eid": keys, "serial_number": keyed_serials})
        found = bulk.fetch(connection, LOOKUP_SQL, FOUND)
        bulk.drop_temp(connection, "tmp_keys")
        return _once_each(found)
    every = bulk.fetch(connection, SCAN_SQL, FOUND)
    wanted_serials = serials.filter(pc.not_equal(serials, ""))
    hit = pc.or_(
        pc.is_in(every.column("eid"), value_set=eids),
        pc.is_in(every.column("serial_number"), value_set=wanted_serials),
    )
    return every.filter(hit)


def _held_up_to(connection: Connection, most: int) -> int:
    """How many claims the ledger holds, counted up to ``most`` (a count of them all read
    the whole table: 0.1 s of a 100k-row claim against 1M claims)."""
    found = connection.scalar(
        "SELECT count(*) FROM (SELECT 1 FROM claims LIMIT :most) AS held", {"most": most}
    )
    return int(found or 0)


def _json_lookup(connection: Connection, eids: pa.Array, serials: pa.Array) -> pa.Table:
    """SQLite: the claims on these EIDs or serials, the keys read from JSON by json_each."""
    parts = [
        bulk.fetch(
            connection,
            JSON_LOOKUP_SQL,
            FOUND,
            {
                "eids": bulk.json_array(eids.slice(start, JSON_LOOKUP_KEYS)),
                "serials": bulk.json_array(serials.slice(start, JSON_LOOKUP_KEYS)),
            },
        )
        for start in range(0, max(len(eids), len(serials)), JSON_LOOKUP_KEYS)
    ]
    return pa.concat_tables(parts)


def _once_each(found: pa.Table) -> pa.Table:
    """A claim found by its EID and by its serial, once. A few lines are kept once by
    Python: importing Arrow's ``group_by`` (Acero, datasets) costs a small run more than
    the rest of its look-up."""
    if found.num_rows > SMALL_LOOKUP_LINES:
        return found.group_by(list(FOUND)).aggregate([]).select(list(FOUND))
    lines = dict.fromkeys(zip(*(found.column(name).to_pylist() for name in FOUND), strict=True))
    columns = list(zip(*lines, strict=True)) or [() for _ in FOUND]
    return pa.table(
        {name: pa.array(values, pa.string()) for name, values in zip(FOUND, columns, strict=True)}
    )


def _padded(eids: pa.Array, serials: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Keys row-aligned; lists of different lengths are looked up each on its own."""
    if len(eids) == len(serials):
        return eids, serials
    blank_e = pa.array([""] * len(serials), pa.string())
    blank_s = pa.array([""] * len(eids), pa.string())
    return pa.concat_arrays([eids, blank_e]), pa.concat_arrays([blank_s, serials])
