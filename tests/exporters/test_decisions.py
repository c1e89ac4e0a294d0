"""decisions.csv: the contract's columns, every row, nothing a spreadsheet would evaluate."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from eidflow import schema
from exporters.decisions import write_decisions
from tests.exporters.rows import frame, handoff, handoff_row
from tests.frames import make_eid


def decisions(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[list(schema.DECISION_COLUMNS)]


def read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_columns_exactly_the_contract_in_order(tmp_path: Path) -> None:
    output = write_decisions(decisions(handoff(3)), tmp_path)
    rows = read(tmp_path / "decisions.csv")
    assert rows[0] == list(schema.DECISION_COLUMNS)
    assert output.path == "decisions.csv"
    assert output.rows == 3
    assert output.kind == "decisions"


def test_values_round_trip_as_text_with_every_digit(tmp_path: Path) -> None:
    given = frame([handoff_row(1, sheet="ASN 1", imei="012345678901237", warnings="imei_invalid")])
    write_decisions(decisions(given), tmp_path)
    back = pd.read_csv(tmp_path / "decisions.csv", dtype=str, keep_default_na=False)
    assert back.loc[0, "eid"] == make_eid(1)
    assert back.loc[0, "imei"] == "012345678901237"
    assert back.loc[0, "row"] == "2"
    assert back.loc[0, "sheet"] == "ASN 1"
    assert back.loc[0, "warnings"] == "imei_invalid"


def test_extra_columns_are_left_out_and_order_is_kept(tmp_path: Path) -> None:
    rows = handoff(4)[[*reversed(schema.DECISION_COLUMNS), "model"]]
    write_decisions(rows, tmp_path)
    back = read(tmp_path / "decisions.csv")
    assert back[0] == list(schema.DECISION_COLUMNS)
    assert [line[4] for line in back[1:]] == [make_eid(n) for n in range(1, 5)]


def test_no_rows_header_only(tmp_path: Path) -> None:
    output = write_decisions(decisions(handoff(0)), tmp_path)
    assert read(tmp_path / "decisions.csv") == [list(schema.DECISION_COLUMNS)]
    assert output.rows == 0


def test_missing_column_is_a_bug_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="intune_state"):
        write_decisions(decisions(handoff(1)).drop(columns=["intune_state"]), tmp_path)
    assert not (tmp_path / "decisions.csv").exists()


def test_rewrite_replaces_atomically_without_temporaries(tmp_path: Path) -> None:
    write_decisions(decisions(handoff(5)), tmp_path)
    write_decisions(decisions(handoff(2)), tmp_path)
    assert len(read(tmp_path / "decisions.csv")) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decisions.csv"]
