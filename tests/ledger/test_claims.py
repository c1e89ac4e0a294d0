"""claim_reasons: which rows of a claim win, against the ledger's live claims."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eidflow.codes import Reason
from eidflow.ledger.claims import claim_reasons

REASONS = {reason.value for reason in Reason}


def frame(lines: list[tuple[str, str]], operator: str = "op") -> pd.DataFrame:
    rows = pd.DataFrame(lines, columns=["eid", "serial_number"], dtype="str")
    return rows.assign(operator=operator)


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
    assert claim_reasons(frame(rows), known(ledger)).tolist() == expected


def test_claim_reasons_keep_the_index() -> None:
    rows = frame([("E1", "S1"), ("E2", "S2")]).set_axis([10, 20])
    result = claim_reasons(rows, known([("E2", "S2", "op")]))
    assert result.to_dict() == {10: "", 20: "already_registered"}


def test_rows_of_all_operators_are_judged_together() -> None:
    """A serial routed to two operators with two EIDs is a conflict for both operators."""
    rows = pd.concat(
        [frame([("E1", "S1"), ("E3", "S3")], "op"), frame([("E2", "S1"), ("E3", "S3")], "other")],
        ignore_index=True,
    )
    result = claim_reasons(rows, known([("E3", "S3", "other")]))
    assert result.tolist() == ["conflict_serial", "", "conflict_serial", "already_registered"]


EIDS = st.sampled_from(["E1", "E2", "E3", "E4"])
SERIALS = st.sampled_from(["S1", "S2", "S3", "S4"])
OPERATORS = st.sampled_from(["op", "other"])


@given(
    rows=st.lists(st.tuples(EIDS, SERIALS), max_size=8),
    ledger=st.lists(st.tuples(EIDS, SERIALS, OPERATORS), max_size=6),
)
def test_what_is_claimed_never_breaks_the_ledger(
    rows: list[tuple[str, str]], ledger: list[tuple[str, str, str]]
) -> None:
    """Claimed rows plus live claims: one serial per EID, one EID per serial, once per operator."""
    result = claim_reasons(frame(rows), known(ledger))
    claimed = [pair for pair, reason in zip(rows, result, strict=True) if reason == ""]
    assert set(result) <= {"", *REASONS}
    assert len({e for e, _ in claimed}) == len(claimed)  # each EID claimed once
    held = {e for e, _, operator in ledger if operator == "op"}
    assert not held & {e for e, _ in claimed}
    pairs = {(e, s) for e, s in claimed} | {(e, s) for e, s, _ in ledger}
    if pairs - {(e, s) for e, s, _ in ledger}:  # claimed something: it must fit the ledger
        claimed_pairs = {(e, s) for e, s in claimed}
        for e, s in claimed_pairs:
            assert {p for p in pairs if p[0] == e} == {(e, s)}
            assert {p for p in pairs if p[1] == s} == {(e, s)}
