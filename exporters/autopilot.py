"""Windows Autopilot device import files from manifests that carry hardware hashes.

Intune's import (Devices > Windows > Enrollment > Devices > Import) is strict: the header
``Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User``, ANSI
text, no quotes, no extra columns, at most 500 devices a file. A file that breaks a rule is
refused whole, often with no line named. So every row is judged here first, each verdict
goes to ``autopilot-decisions.csv``, and only rows that keep every rule are written:

- the hardware hash is base64 (what ``Get-WindowsAutopilotInfo`` and OEMs deliver); a row
  without one, or with one that is not base64, is listed, never dropped silently;
- a value holding a comma, a quote or a character outside printable ASCII cannot be written
  without quotes or in ANSI: the row is refused with the field named;
- one serial twice with the same hash is one device (the first row is written); with two
  hashes, none of them is written (which is the PC?).

Serial numbers are normalised as for the ingest (unwrapped, trimmed, upper-case), so the
identities Autopilot creates match the manifest's devices in reconcile.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import pandas as pd

from eidflow import schema
from eidflow.core.validate import normalise_serial
from exporters.decisions import decisions_table_of
from exporters.files import OutputFile, atomic_path, sha256_file

HARDWARE_HASH, PRODUCT_ID = schema.HARDWARE_HASH, schema.PRODUCT_ID

HEADER = (
    "Device Serial Number",
    "Windows Product ID",
    "Hardware Hash",
    "Group Tag",
    "Assigned User",
)
MAX_ROWS = 500  # devices per import file
FILE_STEM = "autopilot-devices"
DECISIONS_FILE = "autopilot-decisions.csv"
DECISION_COLUMNS = (
    schema.SOURCE_FILE,
    schema.SHEET,
    schema.ROW,
    schema.SERIAL_NUMBER,
    PRODUCT_ID,
    schema.STATUS,
    schema.REASON,
    schema.DETAIL,
    "file",
)

# Printable ASCII without the comma and the double quote: what an unquoted ANSI field holds.
_PLAIN = re.compile(r"^[ !#-+\--~]*$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_WHITESPACE = re.compile(r"\s+")


class Verdict(StrEnum):
    INCLUDED = "included"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


class Why(StrEnum):
    SERIAL_MISSING = "serial_missing"
    HASH_MISSING = "hardware_hash_missing"
    HASH_INVALID = "hardware_hash_invalid"
    SERIAL_NOT_PLAIN = "serial_not_plain_text"
    PRODUCT_ID_NOT_PLAIN = "product_id_not_plain_text"
    DUPLICATE_SERIAL = "duplicate_serial"
    CONFLICT_HASH = "conflict_hardware_hash"


DETAILS = {
    Why.SERIAL_MISSING: "No serial number: Autopilot registers a device by it.",
    Why.HASH_MISSING: (
        "No hardware hash in this row: ask the OEM for it, or collect it on the PC"
        " (Get-WindowsAutopilotInfo), then import it."
    ),
    Why.HASH_INVALID: (
        "The hardware hash is not base64 text (cut off, or changed by a spreadsheet):"
        " ask the OEM to send it again."
    ),
    Why.SERIAL_NOT_PLAIN: (
        "The serial number holds a comma, a quote or a character outside ANSI text, which"
        " Autopilot's import file cannot hold."
    ),
    Why.PRODUCT_ID_NOT_PLAIN: (
        "The Windows product id holds a comma, a quote or a character outside ANSI text,"
        " which Autopilot's import file cannot hold."
    ),
    Why.DUPLICATE_SERIAL: "The same serial number and hash earlier: the device is written once.",
    Why.CONFLICT_HASH: (
        "The same serial number with different hardware hashes: none is written."
        " Ask the OEM which is right."
    ),
}


def plain_field(text: str) -> bool:
    """Whether ``text`` can stand unquoted in an ANSI CSV field.

    >>> plain_field("PF3ABC12"), plain_field("PF3,ABC"), plain_field('"x"'), plain_field("é")
    (True, False, False, False)
    """
    return bool(_PLAIN.match(text))


def hardware_hash(text: str) -> str:
    """The hash without the line breaks and spaces a cell or a mail adds; "" if not base64.

    >>> hardware_hash("T0FnAAEAHAAA\\nAAoAqxsAAAoA"), hardware_hash("T0Fn!"), hardware_hash("")
    ('T0FnAAEAHAAAAAoAqxsAAAoA', '', '')
    """
    value = _WHITESPACE.sub("", text)
    if not value or len(value) % 4 or not _BASE64.match(value):
        return ""
    try:
        binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error:
        return ""
    return value


def judge(rows: pd.DataFrame) -> pd.DataFrame:
    """One verdict per manifest row (input order): ``DECISION_COLUMNS`` plus the hash."""
    frame = pd.DataFrame(
        {
            schema.SOURCE_FILE: rows[schema.SOURCE_FILE].astype(str).to_numpy(),
            schema.SHEET: rows[schema.SHEET].astype(str).to_numpy(),
            schema.ROW: rows[schema.ROW].to_numpy(),
            schema.SERIAL_NUMBER: normalise_serial(rows[schema.SERIAL_RAW]).to_numpy(),
            PRODUCT_ID: rows[PRODUCT_ID].astype(str).str.strip().to_numpy(),
        }
    )
    raw_hash = rows[HARDWARE_HASH].astype(str)
    frame[HARDWARE_HASH] = [hardware_hash(value) for value in raw_hash]
    why = pd.Series("", index=frame.index, dtype=object)
    serial, product = frame[schema.SERIAL_NUMBER], frame[PRODUCT_ID]
    checks = [
        (serial == "", Why.SERIAL_MISSING),
        (~serial.map(plain_field), Why.SERIAL_NOT_PLAIN),
        (raw_hash.str.strip() == "", Why.HASH_MISSING),
        (frame[HARDWARE_HASH] == "", Why.HASH_INVALID),
        (~product.map(plain_field), Why.PRODUCT_ID_NOT_PLAIN),
    ]
    for failed, code in checks:
        why = why.mask((why == "") & failed, code.value)
    status = pd.Series(Verdict.REJECTED.value, index=frame.index, dtype=object)
    status = status.mask(why == "", Verdict.INCLUDED.value)

    candidates = frame[status == Verdict.INCLUDED.value]
    hashes = candidates.groupby(schema.SERIAL_NUMBER)[HARDWARE_HASH].nunique()
    conflicted = candidates[schema.SERIAL_NUMBER].isin(hashes[hashes > 1].index)
    repeated = candidates.duplicated(schema.SERIAL_NUMBER) & ~conflicted
    status[conflicted[conflicted].index] = Verdict.CONFLICT.value
    why[conflicted[conflicted].index] = Why.CONFLICT_HASH.value
    status[repeated[repeated].index] = Verdict.DUPLICATE.value
    why[repeated[repeated].index] = Why.DUPLICATE_SERIAL.value

    frame[schema.STATUS] = status
    frame[schema.REASON] = why
    frame[schema.DETAIL] = why.map(lambda code: DETAILS[Why(code)] if code else "")
    frame["file"] = ""
    return frame


def write_import_files(
    decisions: pd.DataFrame, group_tag: str, folder: Path
) -> tuple[pd.DataFrame, list[OutputFile]]:
    """Write the included rows, 500 a file (``autopilot-devices_001.csv`` …); the decisions
    come back with each row's file named."""
    if not plain_field(group_tag):
        raise ValueError(f"group tag {group_tag!r} is not plain ANSI text")
    included = decisions.index[decisions[schema.STATUS] == Verdict.INCLUDED.value]
    parts = [included[start : start + MAX_ROWS] for start in range(0, len(included), MAX_ROWS)]
    outputs: list[OutputFile] = []
    decided = decisions.copy()
    for number, part in enumerate(parts, start=1):
        name = f"{FILE_STEM}_{number:03d}.csv"
        lines = [",".join(HEADER)]
        lines += _lines(decided.loc[part], group_tag)
        data = ("\r\n".join(lines) + "\r\n").encode("ascii")
        path = folder / name
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        outputs.append(OutputFile(name, len(part), sha256_file(path), kind="autopilot"))
        decided.loc[part, "file"] = name
    return decided, outputs


def _lines(rows: pd.DataFrame, group_tag: str) -> Iterator[str]:
    for serial, product, hashed in zip(
        rows[schema.SERIAL_NUMBER], rows[PRODUCT_ID], rows[HARDWARE_HASH], strict=True
    ):
        yield ",".join((serial, product, hashed, group_tag, ""))


def write_decisions(decisions: pd.DataFrame, folder: Path) -> OutputFile:
    """``autopilot-decisions.csv``: every row read, its verdict and the file it went to."""
    path = folder / DECISIONS_FILE
    table = decisions_table_of(decisions, DECISION_COLUMNS)
    with atomic_path(path) as tmp:
        import pyarrow.csv as pa_csv

        pa_csv.write_csv(table, tmp)
    return OutputFile(DECISIONS_FILE, table.num_rows, sha256_file(path), kind="decisions")
