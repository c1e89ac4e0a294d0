"""Parse time of read_manifest beside the bare reader on the same file (target: at most 1.5x).

Not a test. Generates a 100,000-row XLSX and a 1,000,000-row CSV in a temporary folder,
then prints, for each, the median of a few runs of:
- the bare reader: python-calamine's ``to_python`` for the workbook; pandas
  ``read_csv(engine="pyarrow", dtype=str)`` for the CSV;
- ``parsers.read_manifest`` on the same bytes, hashing them (sha256) itself;
- ``parsers.read_manifest`` given the digest, as a caller that hashed the file already can.

    .venv/bin/python bench/bench_parsers.py [--xlsx-rows N] [--csv-rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import python_calamine
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eidflow.identifiers import eid as eid_rules
from parsers import read_manifest

HEADER = ["EID", "Serial Number", "IMEI", "Manufacturer", "Model", "PO Number"]


def device_lines(count: int) -> list[list[str]]:
    lines = []
    for i in range(count):
        first30 = f"890490321234512345{i:012d}"
        lines.append(
            [
                first30 + eid_rules.calc_check_digits(first30),
                f"SN{i:08d}",
                f"35409811{i % 10_000_000:07d}",
                "Dell Inc.",
                "Latitude 7450",
                "PO-2026-1187",
            ]
        )
    return lines


def write_xlsx(path: Path, count: int) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Shipment")
    sheet.write_row(0, 0, HEADER)
    for row, line in enumerate(device_lines(count), start=1):
        sheet.write_row(row, 0, line)  # strings: xlsxwriter never turns text into numbers
    book.close()


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(HEADER) + "\r\n")
        block = 100_000
        for start in range(0, count, block):
            lines = device_lines(min(block, count - start))
            handle.write("".join(",".join(line) + "\r\n" for line in lines))


def bare_xlsx(data: bytes) -> int:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return sum(len(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names)


def bare_csv(data: bytes) -> int:
    return len(pd.read_csv(io.BytesIO(data), engine="pyarrow", dtype=str))


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def compare(label: str, name: str, data: bytes, bare: Callable[[bytes], int], repeat: int) -> None:
    rows = len(read_manifest(name, data).rows)  # warm-up, and a check that every row is read
    digest = hashlib.sha256(data).hexdigest()
    bare_times, parse_times, given_times = [], [], []
    for _ in range(repeat):  # interleaved, so that load from elsewhere hits all alike
        bare_times.append(seconds(lambda: bare(data)))
        parse_times.append(seconds(lambda: read_manifest(name, data)))
        given_times.append(seconds(lambda: read_manifest(name, data, sha256=digest)))
    print(f"{label}: {rows:,} rows, {len(data) / 1e6:.1f} MB")
    for name, pick in (("median", statistics.median), ("best", min)):
        bare_s, parse_s, given_s = pick(bare_times), pick(parse_times), pick(given_times)
        print(
            f"  {name:<6} bare={bare_s:5.2f} s  read_manifest={parse_s:5.2f} s "
            f"({parse_s / bare_s:4.2f}x)  with sha256 given={given_s:5.2f} s "
            f"({given_s / bare_s:4.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eidflow-bench-") as folder:
        xlsx = Path(folder) / "manifest.xlsx"
        csv = Path(folder) / "manifest.csv"
        write_xlsx(xlsx, args.xlsx_rows)
        write_csv(csv, args.csv_rows)
        print(f"{args.repeat} interleaved runs each; bare reader vs parsers.read_manifest")
        compare("XLSX (python-calamine)", xlsx.name, xlsx.read_bytes(), bare_xlsx, args.repeat)
        compare("CSV (pyarrow)", csv.name, csv.read_bytes(), bare_csv, args.repeat)


if __name__ == "__main__":
    main()
