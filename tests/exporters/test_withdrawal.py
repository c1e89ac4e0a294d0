"""The withdrawal file: the operator's CSV dialect, always a header, nothing live in it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from exporters.config import OperatorProfile
from exporters.files import sha256_file
from exporters.withdrawal import write_withdrawal_file


def test_the_withdrawal_is_in_the_operators_dialect_and_inert(tmp_path: Path) -> None:
    profile = OperatorProfile(name="contoso", delimiter=";", header=False, line_ending="lf")
    withdrawn = pd.DataFrame(
        {"eid": ["8904", "8905"], "serial_number": ["S1", "=cmd|' /C calc'!A0"]}
    )
    output = write_withdrawal_file(withdrawn, profile, tmp_path, "run-7", '=HYPERLINK("x")')
    assert output.path == "operator/contoso/contoso_withdrawal_run-7.csv"
    assert (output.rows, output.kind) == (2, "withdrawal")
    path = tmp_path / output.path
    assert output.sha256 == sha256_file(path)
    text = path.read_bytes().decode()
    assert text.startswith("EID;Serial Number;Original Run;Reason\n")  # a header even so
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    assert rows == [
        ["8904", "S1", "run-7", '\'=HYPERLINK("x")'],
        ["8905", "'=cmd|' /C calc'!A0", "run-7", '\'=HYPERLINK("x")'],
    ]
