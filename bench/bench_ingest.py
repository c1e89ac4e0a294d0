"""Benchmark (not a test): ``eidflow ingest`` beside a floor and a peer measured in the same run.

For each size (10k, 100k, 1M manifest rows, with an Intune export of as many devices), each
ledger (SQLite, PostgreSQL) and each ledger state (empty; already holding 1,000,000 EIDs):

- **eidflow**: ``eidflow ingest MANIFEST --inventory EXPORT`` shell to shell, its peak RSS,
  and the SQLite ledger's bytes per EID it holds;
- **floor**: what the job cannot avoid, each part measured here on the same data: pyarrow
  reading the manifest and the export; the least exactly-once ledger on the same database
  (EIDs staged once, one set-based ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING``
  into a table whose primary key is the EID, one durable commit); pyarrow writing
  decisions.csv and the operator file with the rows the run wrote; and starting Python with
  pyarrow, numpy and sqlite3;
- **peer**: a naive pandas + sqlite3 script on the same data (read_csv, check digits,
  drop_duplicates, anti-join against the EIDs it stored before, to_sql, to_csv).

Then start-up: a 20-row ingest (the samples) and ``eidflow --help``, shell to shell, beside
``python -c "import pyarrow.csv, numpy, sqlite3"``; and, for scale, the imports alone of the
libraries every ingest is built on (pandas, pydantic-settings, click).

eidflow's own modules are byte-compiled first, as an installed eidflow's are (pip compiles
them when it installs; pyarrow's, numpy's and pandas' were compiled so): where
``PYTHONDONTWRITEBYTECODE`` is set, an editable checkout would otherwise compile about 60
modules on every run (0.06-0.08 s of each).

    .venv/bin/python bench/bench_ingest.py [--rows 10000,100000,1000000]
        [--ledgers sqlite,postgresql] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
        [--repeat 1] [--keep DIR]

Targets (issue 12): at most 2x the floor at 1M and 2.5x at 100k; peak RSS at most 1 GB at
1M; at most 250 bytes per EID in a SQLite ledger; faster than the peer at 100k and 1M;
the 20-row ingest at most 3x the start-up line, --help at most 1.5x.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eidflow.identifiers.columns import mod97_check_digits  # noqa: E402

PYTHON = sys.executable
HELD = 1_000_000  # EIDs in a "full" ledger
INTUNE_HEADER = (
    "Device ID,Device name,Enrollment date,Last check-in,Azure AD Device ID,OS version,"
    "Serial number,Manufacturer,Model,IMEI,MEID,Primary user UPN,OS,JoinType,ICCID,EID"
)
# The shipment measured and the one a full ledger holds differ in their issuer digits.
MEASURED, HELD_PREFIX = "890490321234512345", "890490321234599999"


def make_eids(count: int, seed: int, prefix: str = MEASURED) -> list[str]:
    """``count`` distinct valid EIDs (classic 89… layout), fast."""
    rng = np.random.default_rng(seed)
    individual = rng.choice(10**12, size=count, replace=False)
    first30 = np.char.add(prefix, np.char.zfill(individual.astype(str), 12))
    digits = np.frombuffer("".join(first30.tolist()).encode(), dtype=np.uint8).reshape(-1, 30) - 48
    checks = np.char.zfill(mod97_check_digits(digits.astype(np.int64)).astype(str), 2)
    return np.char.add(first30, checks).tolist()


def write_manifest(path: Path, rows: int, seed: int, prefix: str, serial: str) -> None:
    """A manifest with about 1% mistyped EIDs."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Serial Number", "EID", "IMEI", "Manufacturer", "Model", "PO Number"])
        for n, eid in enumerate(make_eids(rows, seed, prefix)):
            if n % 101 == 0:
                eid = eid[:-1] + str((int(eid[-1]) + 1) % 10)  # a mistyped digit
            writer.writerow([f"{serial}{n:09d}", eid, "", "Contoso", "Surface Laptop 7", "PO-1"])


def write_inventory(path: Path, rows: int) -> None:
    """An Intune export where about 60% of the manifest's PCs are enrolled."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(INTUNE_HEADER + "\n")
        writer = csv.writer(handle)
        for n in range(rows):
            serial = f"SN{n:09d}" if n % 5 < 3 else f"XX{n:09d}"
            writer.writerow(
                [f"d-{n}", f"PC-{n}", "2026-11-01 10:00:00", "2026-11-26 10:00:00",
                 f"aad-{n}", "10.0.26100.2314", serial, "Contoso", "Surface Laptop 7",
                 "", "", "", "Windows", "", "", ""]
            )  # fmt: skip


# -- the three contestants --------------------------------------------------------------------


@dataclass
class Timed:
    seconds: float
    peak_mb: float = 0.0
    output: str = ""


def run(command: list[str], cwd: Path, *, peak: bool = False) -> Timed:
    """A command shell to shell: wall time; with ``peak``, its own peak RSS, as GNU time
    reports it (this process's own rusage would count the memory of the fork before exec)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_API")}
    report = Path(tempfile.mkstemp(prefix="eidflow-bench-rss-")[1])
    prefix = ["/usr/bin/time", "-o", str(report), "-f", "%M"] if peak else []
    started = time.perf_counter()
    done = subprocess.run([*prefix, *command], cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    kib = report.read_text().strip().splitlines()[-1] if peak else "0"
    report.unlink()
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command[:4])} … failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return Timed(seconds, int(kib) / 1024, done.stdout + done.stderr)


def eidflow(manifest: Path, inventory: Path | None, ledger: str, out: Path, cwd: Path) -> Timed:
    command = [PYTHON, "-m", "eidflow", "ingest", str(manifest), "--ledger", ledger]
    command += ["--inventory", str(inventory)] if inventory else []
    return run([*command, "--out", str(out), "--no-progress"], cwd, peak=True)


PEER = r"""
import sqlite3, sys
import pandas as pd

manifest, store, out = sys.argv[1:4]
rows = pd.read_csv(manifest, dtype=str).fillna("")
eids = rows["EID"].str.replace(r"[\s-]", "", regex=True)

def check_digits_ok(eid):
    return len(eid) == 32 and eid.isdigit() and 98 - int(eid[:30] + "00") % 97 == int(eid[30:])

valid = rows[eids.map(check_digits_ok)].assign(EID=eids).drop_duplicates(subset=["EID"])
connection = sqlite3.connect(store)
connection.execute("PRAGMA synchronous = FULL")
known = pd.read_sql("SELECT eid FROM eids", connection) if connection.execute(
    "SELECT 1 FROM sqlite_master WHERE name = 'eids'").fetchone() else pd.DataFrame({"eid": []})
new = valid.merge(known, left_on="EID", right_on="eid", how="left", indicator=True)
new = new[new["_merge"] == "left_only"].drop(columns=["eid", "_merge"])
new[["EID"]].rename(columns={"EID": "eid"}).to_sql("eids", connection, if_exists="append", index=False)
connection.commit()
new.to_csv(out, index=False)
"""


def peer(manifest: Path, store: Path, out: Path, cwd: Path) -> Timed:
    return run([PYTHON, "-c", PEER, str(manifest), str(store), str(out)], cwd)


# -- the floor --------------------------------------------------------------------------------


def read_seconds(paths: list[Path]) -> float:
    started = time.perf_counter()
    for path in paths:
        pacsv.read_csv(path)
    return time.perf_counter() - started


def write_seconds(run_dir: Path, scratch: Path) -> float:
    """pyarrow writing decisions.csv and the operator file(s), with the rows the run wrote."""
    tables = [pacsv.read_csv(run_dir / "decisions.csv")]
    tables += [pacsv.read_csv(path) for path in sorted((run_dir / "operator").rglob("*.csv"))]
    started = time.perf_counter()
    for number, table in enumerate(tables):
        target = scratch / f"out-{number}.csv"
        pacsv.write_csv(table, target)
        with target.open("rb+") as handle:
            os.fsync(handle.fileno())
    return time.perf_counter() - started


def least_ledger_sqlite(eids: list[str], path: Path) -> float:
    """The least exactly-once ledger, on SQLite: EIDs staged (``json_each``, the fastest way
    in), one sorted set-based insert returning the new EIDs, one durable commit (WAL, FULL)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE IF NOT EXISTS claims (eid TEXT PRIMARY KEY) WITHOUT ROWID")
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("CREATE TEMP TABLE staged (eid TEXT)")
    connection.execute("INSERT INTO staged SELECT value FROM json_each(?)", (json.dumps(eids),))
    new = connection.execute(
        "INSERT INTO claims SELECT eid FROM staged ORDER BY eid ON CONFLICT DO NOTHING"
        " RETURNING eid"
    ).fetchall()
    connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    assert len(new) == len(set(eids))
    return seconds


def least_ledger_postgres(eids: list[str], dsn: str) -> float:
    """The same on PostgreSQL: COPY into a temporary table, one INSERT ... RETURNING, commit."""
    import psycopg

    with psycopg.connect(dsn) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS claims (eid TEXT PRIMARY KEY)")
        connection.commit()
        data = ("\n".join(eids) + "\n").encode()
        started = time.perf_counter()
        connection.execute("CREATE TEMP TABLE staged (eid TEXT) ON COMMIT DROP")
        with connection.cursor() as cursor, cursor.copy("COPY staged FROM STDIN") as copy:
            copy.write(data)
        new = connection.execute(
            "INSERT INTO claims SELECT eid FROM staged ORDER BY eid ON CONFLICT DO NOTHING"
            " RETURNING eid"
        ).fetchall()
        connection.commit()
        seconds = time.perf_counter() - started
    assert len(new) == len(set(eids))
    return seconds


def startup_seconds(repeat: int = 5) -> float:
    """Starting Python with pyarrow, numpy and sqlite3, shell to shell (median)."""
    command = [PYTHON, "-c", "import pyarrow.csv, numpy, sqlite3"]
    return statistics.median(run(command, ROOT).seconds for _ in range(repeat))


def compile_eidflow() -> None:
    """Byte-compile eidflow's packages, as installing eidflow does (see the module's doc)."""
    packages = [str(ROOT / name) for name in ("app", "eidflow", "exporters", "flows", "parsers")]
    subprocess.run([PYTHON, "-m", "compileall", "-q", *packages], check=True)


# -- ledgers: fresh, or holding a million EIDs ----------------------------------------------


class Ledgers:
    """Fresh and full ledgers for eidflow, the floor and the peer, per backend."""

    def __init__(self, folder: Path, pg: str) -> None:
        self.folder, self.pg = folder, pg
        self.prepared: dict[str, str] = {}
        self.count = 0

    def fresh(self, backend: str, full: bool, kind: str) -> str:
        """A new ledger of ``kind`` (eidflow, least, peer): a file path or a PostgreSQL DSN.
        The copy of a full one is on disk before anyone times it (else the first durable
        commit on it would write the whole copy out: about 0.5 s for 150 MB here)."""
        self.count += 1
        if backend == "sqlite" or kind == "peer":
            path = self.folder / f"{kind}-{self.count}.db"
            if full:
                shutil.copy(self.prepared[f"sqlite-{kind}"], path)
                os.sync()
            return str(path)
        name = f"eidflow_bench_{kind}_{self.count}"
        template = f"TEMPLATE {self.prepared[f'pg-{kind}']}" if full else ""
        self._pg_admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name} {template}")
        os.sync()
        return self._dsn(name)

    def prepare(self, backends: list[str], work: Path) -> None:
        """Ledgers holding ``HELD`` EIDs of another shipment, made once and copied per case."""
        shipment = work / "held.csv"
        write_manifest(shipment, HELD, seed=99, prefix=HELD_PREFIX, serial="HS")
        eids = make_eids(HELD, 99, HELD_PREFIX)
        for backend in backends:
            if backend == "sqlite":
                path = self.folder / "held-eidflow.db"
                eidflow(shipment, None, f"sqlite:///{path}", work / "held-run-sqlite", work)
                self.prepared["sqlite-eidflow"] = str(path)
                self.prepared["sqlite-least"] = str(self.folder / "held-least.db")
                least_ledger_sqlite(eids, Path(self.prepared["sqlite-least"]))
            else:
                for kind in ("eidflow", "least"):
                    name = f"eidflow_bench_held_{kind}"
                    self._pg_admin(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
                    self.prepared[f"pg-{kind}"] = name
                eidflow(shipment, None, self._dsn("eidflow_bench_held_eidflow"),
                        work / "held-run-pg", work)  # fmt: skip
                least_ledger_postgres(eids, self._dsn("eidflow_bench_held_least"))
        self.prepared["sqlite-peer"] = str(self.folder / "held-peer.db")
        peer(shipment, Path(self.prepared["sqlite-peer"]), work / "held-peer.csv", work)

    def _dsn(self, database: str) -> str:
        return self.pg.rsplit("/", 1)[0] + "/" + database

    def _pg_admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.pg, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def drop_all(self) -> None:
        if not self.pg:
            return
        import psycopg

        with psycopg.connect(self.pg, autocommit=True) as connection:
            names = connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'eidflow_bench_%'"
            ).fetchall()
            for (name,) in names:
                connection.execute(f"DROP DATABASE IF EXISTS {name}")


# -- one case ---------------------------------------------------------------------------------


@dataclass
class Case:
    rows: int
    backend: str
    full: bool
    eidflow: float
    floor: float
    parts: dict[str, float]
    peer: float
    peak_mb: float
    bytes_per_eid: float

    def line(self) -> str:
        ratio, versus = self.eidflow / self.floor, self.eidflow / self.peer
        target = 2.0 if self.rows >= 1_000_000 else 2.5 if self.rows >= 100_000 else None
        mark = "" if target is None else (" ok" if ratio <= target else f" >{target}x")
        parts = " + ".join(f"{name} {value:.2f}" for name, value in self.parts.items())
        size = f"{self.bytes_per_eid:5.0f}" if self.bytes_per_eid else "    -"
        return (
            f"{self.rows:>9,} {self.backend:<10} {'1M held' if self.full else 'empty':<7}"
            f" {self.eidflow:8.2f} {self.floor:7.2f} {ratio:6.2f}x{mark:<6}"
            f" {self.peer:7.2f} {versus:6.2f}x {self.peak_mb:7.0f} {size}   {parts}"
        )


def measure(
    rows: int, backend: str, full: bool, work: Path, ledgers: Ledgers, start: float, repeat: int
) -> Case:
    manifest, inventory = work / "manifest.csv", work / "DevicesWithInventory.csv"
    timings, floors, peers, peaks, sizes = [], [], [], [], []
    parts: dict[str, float] = {}
    for attempt in range(repeat):
        target = ledgers.fresh(backend, full, "eidflow")
        url = f"sqlite:///{target}" if backend == "sqlite" else target
        out = work / f"run-{backend}-{full}-{attempt}"
        shutil.rmtree(out, ignore_errors=True)
        os.sync()  # each contestant starts on a quiet disk (the last one's writes are out)
        done = eidflow(manifest, inventory, url, out, work)
        timings.append(done.seconds)
        peaks.append(done.peak_mb)
        if backend == "sqlite":
            held = sqlite3.connect(target).execute("SELECT count(*) FROM claims").fetchone()[0]
            sizes.append(
                sum(
                    Path(target + s).stat().st_size
                    for s in ("", "-wal")
                    if Path(target + s).exists()
                )
                / held
            )
        os.sync()  # the floor on a quiet disk: the least the work can take
        scratch = work / "scratch"
        scratch.mkdir(exist_ok=True)
        least = ledgers.fresh(backend, full, "least")
        valid = [e for n, e in enumerate(make_eids(rows, 7)) if n % 101]
        parts = {
            "read": read_seconds([manifest, inventory]),
            "ledger": least_ledger_sqlite(valid, Path(least))
            if backend == "sqlite"
            else least_ledger_postgres(valid, least),
            "write": write_seconds(out, scratch),
            "start-up": start,
        }
        floors.append(sum(parts.values()))
        store = Path(ledgers.fresh("sqlite", full, "peer"))
        os.sync()
        peers.append(peer(manifest, store, scratch / "peer-out.csv", work).seconds)
        shutil.rmtree(scratch)
    return Case(
        rows, backend, full, statistics.median(timings), statistics.median(floors), parts,
        statistics.median(peers), max(peaks), statistics.median(sizes) if sizes else 0.0,
    )  # fmt: skip


# What every ingest imports before it reads a row: the pipeline's frames (pandas), its
# settings (pydantic-settings) and its command line (click).
STACK_IMPORTS = "import pyarrow.csv, numpy, sqlite3, pandas, pydantic_settings, click"


def startup_lines(work: Path, start: float) -> list[str]:
    samples = ROOT / "data" / "samples"
    env_ledger = f"sqlite:///{work / 'startup.db'}"
    manifests = [
        str(samples / "dell-asn-PO-2026-1187.xlsx"),
        str(samples / "lenovo-shipment-4401190.csv"),
    ]
    ingest = [PYTHON, "-m", "eidflow", "ingest", *manifests, "--config", str(samples / "eidflow.toml"),
              "--ledger", env_ledger, "--no-progress"]  # fmt: skip
    run([*ingest, "--out", str(work / "startup-first")], work)
    twenty = statistics.median(
        run([*ingest, "--reprocess", "--out", str(work / f"startup-{n}")], work).seconds
        for n in range(5)
    )
    helped = statistics.median(
        run([PYTHON, "-m", "eidflow", "--help"], work).seconds for _ in range(5)
    )
    stack = statistics.median(run([PYTHON, "-c", STACK_IMPORTS], work).seconds for _ in range(5))
    return [
        f"start-up line (python -c 'import pyarrow.csv, numpy, sqlite3'): {start:.3f} s",
        f"20-row ingest, shell to shell : {twenty:.3f} s = {twenty / start:.2f}x (target <= 3x)",
        f"eidflow --help                : {helped:.3f} s = {helped / start:.2f}x (target <= 1.5x)",
        f"the stack's imports alone     : {stack:.3f} s = {stack / start:.2f}x"
        f" (python -c '{STACK_IMPORTS}': what any run of a pandas pipeline pays)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000,1000000")
    parser.add_argument("--ledgers", default="sqlite,postgresql")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (median)")
    parser.add_argument("--keep", type=Path, help="keep the generated files here")
    args = parser.parse_args()
    sizes = [int(size) for size in args.rows.split(",")]
    backends = args.ledgers.split(",")
    folder = Path(args.keep or tempfile.mkdtemp(prefix="eidflow-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["XDG_DATA_HOME"] = str(folder / "xdg")
    ledgers = Ledgers(folder, args.pg if "postgresql" in backends else "")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; files in {folder}")
    try:
        compile_eidflow()
        start = startup_seconds()
        print(f"preparing ledgers holding {HELD:,} EIDs ...", flush=True)
        ledgers.prepare(backends, folder)
        print(f"{'rows':>9} {'ledger':<10} {'state':<7} {'eidflow':>8} {'floor':>7} {'ratio':>7}"
              f"{'':6} {'peer':>7} {'vs peer':>7} {'RSS MB':>7} {'B/EID':>5}   floor parts (s)")  # fmt: skip
        for rows in sizes:
            work = folder / f"rows-{rows}"
            work.mkdir(exist_ok=True)
            write_manifest(work / "manifest.csv", rows, seed=7, prefix=MEASURED, serial="SN")
            write_inventory(work / "DevicesWithInventory.csv", rows)
            for backend in backends:
                for full in (False, True):
                    case = measure(rows, backend, full, work, ledgers, start, args.repeat)
                    print(case.line(), flush=True)
        for line in startup_lines(folder, start):
            print(line)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        ledgers.drop_all()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
