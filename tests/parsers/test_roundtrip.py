"""Property: whatever the cell text, a CSV written by a standard writer reads back cell for cell."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eidflow import schema
from parsers import read_manifest

CELL = st.text(alphabet=st.sampled_from(list("ab 9,;|\t\"'\r\n=éß-")), max_size=12)
SERIAL = st.text(alphabet=st.sampled_from(list("AZ09-")), min_size=1, max_size=8)
ROWS = st.lists(st.tuples(CELL, SERIAL, CELL), max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_csv_round_trip(rows: list[tuple[str, str, str]], encoding: str) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["EID", "Serial Number", "Model"])
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    result = read_manifest("m.csv", data).rows
    assert result[schema.EID_RAW].tolist() == [eid for eid, _, _ in rows]
    assert result[schema.SERIAL_RAW].tolist() == [serial for _, serial, _ in rows]
    assert result["model"].tolist() == [model for _, _, model in rows]
    assert result[schema.ROW].tolist() == list(range(2, len(rows) + 2))


TEXT_CELL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12
).filter(
    # "=…": openpyxl would store a formula. Whitespace only: openpyxl writes it without
    # xml:space="preserve", so any XML reader (and Excel) sees an empty cell.
    lambda text: not text.startswith("=") and (text == "" or text.strip(" \t\r\n") != "")
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(TEXT_CELL, SERIAL, TEXT_CELL), max_size=15))
def test_xlsx_round_trip(rows: list[tuple[str, str, str]]) -> None:
    from tests.parsers.fixtures import xlsx_bytes

    data = xlsx_bytes({"Devices": [["EID", "Serial Number", "Model"], *rows]})
    result = read_manifest("m.xlsx", data).rows
    assert result[schema.EID_RAW].tolist() == [eid for eid, _, _ in rows]
    assert result[schema.SERIAL_RAW].tolist() == [serial for _, serial, _ in rows]
    assert result["model"].tolist() == [model for _, _, model in rows]
    assert result[schema.ROW].tolist() == list(range(2, len(rows) + 2))
    assert not result[schema.EID_NUMERIC].any()
