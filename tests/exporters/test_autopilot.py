"""The Autopilot import rules, row by row (the files themselves: tests/app/test_cli_autopilot.py)."""

from __future__ import annotations

import doctest

import pytest

from eidflow import schema
from exporters import autopilot
from tests.frames import device, manifest_rows


def test_docstring_examples_hold() -> None:
    assert doctest.testmod(autopilot).failed == 0


@pytest.mark.parametrize(
    ("cell", "kept"),
    [
        ("T0FnAAEAHAAAAAoAqxsAAAoA", "T0FnAAEAHAAAAAoAqxsAAAoA"),
        ("T0FnAAEA\r\nHAAAAAoA qxsAAAoA", "T0FnAAEAHAAAAAoAqxsAAAoA"),  # wrapped in a cell
        ("T0FnAAEAHAAAAAoAqxsAAAo", ""),  # cut off: not a multiple of 4
        ("T0Fn-AEAHAAAAAoAqxsAAAoA", ""),  # base64url is not what the import takes
        ("8.90490E+31", ""),
    ],
)
def test_hardware_hash_text(cell: str, kept: str) -> None:
    assert autopilot.hardware_hash(cell) == kept


def test_judge_keeps_input_order_and_normalises_serials_like_the_ingest() -> None:
    rows = manifest_rows(device(1, serial=' ="pf0001" '), device(2, serial="PF0002"))
    rows[schema.HARDWARE_HASH] = ["T0FnAAEA", ""]
    rows[schema.PRODUCT_ID] = ["", ""]
    decided = autopilot.judge(rows)
    assert decided[schema.SERIAL_NUMBER].tolist() == ["PF0001", "PF0002"]
    assert decided[schema.STATUS].tolist() == ["included", "rejected"]
    assert decided[schema.ROW].tolist() == [2, 3]
    assert decided[schema.DETAIL].iloc[1].startswith("No hardware hash")
