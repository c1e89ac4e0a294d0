"""claim_reasons: which rows of a claim win, against the ledger's live claims."""

from __future__ import annotations

import pandas as pd
import pytest

from eidflow.ledger.claims import claim_reasons


def frame(lines: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(lines, columns=["eid", "serial_number"], dtype="str")


def known(lines: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(lines, columns=["eid", "serial_number", "operator"], dtype="str")


@pytest.mark.parametrize(
    ("rows", "ledger", "expected"),
    [
        ([("E1", "S1")], [], [""]),
        ([("E1", "S1")], [("E1", "S1", "op")], ["already_registered"]),
        ([("E1", "S1")], [("E1", "S1", "other")], [""]),
        ([("E1", "S1")], [("E1", "S2", "other")], ["conflict_eid"]),
        ([("E1", "S1")], [("E2", "S1", "op")], ["conflict_serial"]),
        ([("E1", "S1")], [("E1", "S2", "op"), ("E2", "S1", "op")], ["conflict_eid"]),
        ([("E1", "S1"), ("E1", "S1")], [], ["", "duplicate_in_run"]),
        ([("E1", "S1"), ("E1", "S2")], [], ["conflict_eid", "conflict_eid"]),
        ([("E1", "S1"), ("E2", "S1")], [], ["conflict_serial", "conflict_serial"]),
        ([("E1", ""), ("E2", "")], [("E3", "", "op")], ["", ""]),
        ([("E1", "S1"), ("E2", "S2")], [("E2", "S2", "op")], ["", "already_registered"]),
    ],
)
def test_claim_reasons(
    rows: list[tuple[str, str]], ledger: list[tuple[str, str, str]], expected: list[str]
) -> None:
    assert claim_reasons(frame(rows), known(ledger), "op").tolist() == expected


def test_claim_reasons_keep_the_index() -> None:
    rows = frame([("E1", "S1"), ("E2", "S2")]).set_axis([10, 20])
    result = claim_reasons(rows, known([("E2", "S2", "op")]), "op")
    assert result.to_dict() == {10: "", 20: "already_registered"}
