"""Benchmark (not a test): dedupe a 1,000,000-row manifest against the ledger.

For SQLite and PostgreSQL, times ``known_devices`` (the lookup a claim makes first)
and ``claim_handoff`` (the whole atomic claim: lookup, verdict, claims and devices
written) for a manifest of N new EIDs, on an empty ledger and on a ledger already
holding N EIDs; and a rerun of the manifest the ledger already holds (every row
``already_registered``).

    .venv/bin/python bench/bench_ledger.py [--rows 1000000] [--pg postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from eidflow.ledger import SqlLedger, open_ledger

PREFIX = "890490321234512345"  # 18 digits; the 12-digit individual number follows


def manifest(start: int, rows: int) -> pd.DataFrame:
    """``rows`` devices with valid EIDs (MOD 97-10) and serials, numbered from ``start``."""
    numbers = np.arange(start, start + rows, dtype=np.int64)
    prefix_mod = int(PREFIX + "0" * 12) % 97
    check = 98 - ((prefix_mod + numbers % 97) * 100) % 97
    individual = pd.Series(numbers).map("{:012d}".format)
    eids = PREFIX + individual + pd.Series(check).map("{:02d}".format)
    return pd.DataFrame(
        {
            "eid": eids.astype("str"),
            "serial_number": ("SN" + individual).astype("str"),
            "imei": "",
            "source_file": "bench.csv",
            "row": np.arange(2, rows + 2),
            "manufacturer": "Contoso",
            "model": "Laptop 7",
        }
    )


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def dedupe(ledger: SqlLedger, run_id: str, rows: pd.DataFrame) -> tuple[float, float, pd.Series]:
    """Seconds for known_devices (best of 3) and for claim_handoff, and the claim result."""
    ledger.begin_run(run_id, f"/nonexistent/{run_id}")
    lookup = min(
        timed(lambda: ledger.known_devices(rows["eid"], rows["serial_number"])) for _ in range(3)
    )
    result: list[pd.Series] = []
    claim = timed(lambda: result.append(ledger.claim_handoff(run_id, "operator", rows)))
    ledger.finish_run(run_id, [], {})
    return lookup, claim, result[0]


def measure(url: str, rows: int) -> list[tuple[str, float, float]]:
    ledger = open_ledger(url)
    lines = []
    try:
        first, second = manifest(0, rows), manifest(rows, rows)
        lookup, claim, result = dedupe(ledger, "empty", first)
        assert (result == "").all()
        lines.append(("new manifest, empty ledger", lookup, claim))
        lookup, claim, result = dedupe(ledger, "full", second)
        assert (result == "").all()
        lines.append((f"new manifest, ledger holding {rows:,}", lookup, claim))
        lookup, claim, result = dedupe(ledger, "rerun", first)
        assert (result == "already_registered").all()
        lines.append(("same manifest again (all already_registered)", lookup, claim))
    finally:
        ledger.close()
    return lines


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def postgres_url(dsn: str) -> Iterator[str]:
    schema = f"eidflow_bench_{secrets.token_hex(4)}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{dsn}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"{args.rows:,} rows; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'backend':<11} {'case':<46} {'known_devices s':>16} {'claim_handoff s':>16}")
    for backend, context in (("SQLite", sqlite_url()), ("PostgreSQL", postgres_url(args.pg))):
        with context as url:
            for case, lookup, claim in measure(url, args.rows):
                print(f"{backend:<11} {case:<46} {lookup:>16.2f} {claim:>16.2f}", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
