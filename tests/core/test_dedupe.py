"""Duplicates and conflicts: within the run and against the ledger's view."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eidflow import schema
from eidflow.codes import Reason, Status
from eidflow.core.dedupe import DETAILS, apply_reasons, held_by_others, reasons
from eidflow.core.validate import validate_rows
from tests.frames import device, make_eid, manifest_rows

NOTHING_KNOWN = pd.DataFrame(
    {schema.EID: [], schema.SERIAL_NUMBER: [], schema.OPERATOR: []}, dtype="str"
)


def known(*lines: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        lines, columns=[schema.EID, schema.SERIAL_NUMBER, schema.OPERATOR], dtype="str"
    )


def classify(frame: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """What the pipeline's claim does with the verdict: reasons for the accepted rows."""
    accepted = frame[frame[schema.STATUS] == Status.ACCEPTED]
    return apply_reasons(frame.copy(), reasons(accepted, ledger))


def run(
    *rows: dict[str, object], ledger: pd.DataFrame = NOTHING_KNOWN, operator: str = "op"
) -> list[tuple[str, str]]:
    frame = validate_rows(manifest_rows(*rows))
    frame[schema.OPERATOR] = operator
    result = classify(frame, ledger)
    return list(zip(result[schema.STATUS], result[schema.REASON], strict=True))


def test_distinct_devices_are_all_accepted() -> None:
    assert run(device(1), device(2), device(3)) == [("accepted", "")] * 3


def test_a_repeated_line_keeps_the_first() -> None:
    assert run(device(1), device(2), device(1)) == [
        ("accepted", ""),
        ("accepted", ""),
        ("duplicate", "duplicate_in_run"),
    ]


def test_same_eid_with_two_serials_holds_back_every_row() -> None:
    rows = [device(1, serial="A"), device(1, serial="A"), device(1, serial="B"), device(2)]
    assert run(*rows) == [("conflict", "conflict_eid")] * 3 + [("accepted", "")]


def test_same_serial_with_two_eids_holds_back_every_row() -> None:
    rows = [device(1, serial="S"), device(2, serial="s "), device(3)]
    assert run(*rows) == [("conflict", "conflict_serial")] * 2 + [("accepted", "")]


def test_already_handed_off_to_this_operator_is_a_duplicate() -> None:
    ledger = known((make_eid(1), "SN00001", "op"))
    assert run(device(1), device(2), ledger=ledger) == [
        ("duplicate", "already_registered"),
        ("accepted", ""),
    ]


def test_known_but_not_handed_off_is_handed_off_again() -> None:
    """A device whose earlier run died (claim released) goes out again."""
    assert run(device(1), ledger=known((make_eid(1), "SN00001", ""))) == [("accepted", "")]


def test_ledger_conflicts_both_ways() -> None:
    ledger = known((make_eid(1), "OTHER", "op"), (make_eid(9), "SN00002", "op"))
    assert run(device(1), device(2), ledger=ledger) == [
        ("conflict", "conflict_eid"),
        ("conflict", "conflict_serial"),
    ]


def test_rejected_rows_take_no_part() -> None:
    bad = device(1, serial="X", **{schema.EID_RAW: make_eid(1)[:-1] + "0"})
    assert run(bad, device(2, serial="X")) == [("rejected", "eid_checksum"), ("accepted", "")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.sampled_from(["A", "B", "C", "D"])), max_size=25))
def test_every_row_ends_in_exactly_one_outcome(pairs: list[tuple[int, str]]) -> None:
    rows = [device(n, serial=serial) for n, serial in pairs]
    outcomes = run(*rows) if rows else []
    assert len(outcomes) == len(rows)
    accepted_pairs = [
        pair for pair, (status, _) in zip(pairs, outcomes, strict=True) if status == "accepted"
    ]
    assert len(accepted_pairs) == len(set(accepted_pairs))
    eids = [n for n, _ in accepted_pairs]
    serials = [s for _, s in accepted_pairs]
    assert len(eids) == len(set(eids)) and len(serials) == len(set(serials))


def test_apply_reasons_sets_the_rows_named_by_label_and_keeps_the_rest() -> None:
    frame = validate_rows(manifest_rows(device(1), device(2), device(3, **{schema.IMEI_RAW: "1"})))
    frame.index = pd.Index([30, 10, 20])
    dtypes = frame.dtypes.copy()
    reasons = pd.Series(["", "conflict_serial", "already_registered"], index=[30, 20, 10])
    result = apply_reasons(frame, reasons)
    assert result.index.tolist() == [30, 10, 20]
    assert result[schema.STATUS].tolist() == ["accepted", "duplicate", "conflict"]
    assert result[schema.REASON].tolist() == ["", "already_registered", "conflict_serial"]
    assert result[schema.DETAIL].tolist() == [
        "",
        DETAILS["already_registered"],
        DETAILS["conflict_serial"],
    ]
    assert result[schema.WARNINGS].tolist() == ["", "", ""]
    assert result.dtypes.equals(dtypes)


def expected_reasons(
    lines: list[tuple[int, str, str]], ledger: list[tuple[int, str, str]]
) -> list[str]:
    """The rules of ``eidflow.core.dedupe``, row by row, for accepted lines (eid n, serial, operator)."""
    pairs = {(n, serial) for n, serial, _ in lines} | {(n, serial) for n, serial, _ in ledger}
    claimed = {line for line in ledger if line[2]}
    seen: set[tuple[int, str]] = set()
    reasons = []
    for n, serial, operator in lines:
        if len({s for e, s in pairs if e == n}) > 1:
            reasons.append("conflict_eid")
        elif len({e for e, s in pairs if s == serial}) > 1:
            reasons.append("conflict_serial")
        elif (n, serial, operator) in claimed:
            reasons.append("already_registered")
        elif (n, serial) in seen:
            reasons.append("duplicate_in_run")
        else:
            reasons.append("")
        seen.add((n, serial))
    return reasons


lines_strategy = st.lists(
    st.tuples(st.integers(1, 5), st.sampled_from("ABCD"), st.sampled_from(["op", "other"])),
    max_size=20,
)


@settings(max_examples=80, deadline=None)
@given(
    lines=lines_strategy,
    ledger=st.lists(
        st.tuples(st.integers(1, 7), st.sampled_from("ABCE"), st.sampled_from(["", "op", "other"])),
        max_size=8,
    ),
)
def test_reasons_follow_the_rules_row_by_row(
    lines: list[tuple[int, str, str]], ledger: list[tuple[int, str, str]]
) -> None:
    frame = validate_rows(manifest_rows(*(device(n, serial=serial) for n, serial, _ in lines)))
    operators = [operator for _, _, operator in lines]
    frame[schema.OPERATOR] = pd.Series(operators, index=frame.index, dtype="str")
    view = known(*((make_eid(n), serial, operator) for n, serial, operator in ledger))
    result = classify(frame, view)
    assert result[schema.REASON].tolist() == expected_reasons(lines, ledger)


# The verdict a claim applies, on candidate lines directly (eid, serial, operator).

REASONS = {reason.value for reason in Reason}


def candidates(lines: list[tuple[str, str]], operator: str = "op") -> pd.DataFrame:
    rows = pd.DataFrame(lines, columns=["eid", "serial_number"], dtype="str")
    return rows.assign(operator=operator)


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
def test_reasons(
    rows: list[tuple[str, str]], ledger: list[tuple[str, str, str]], expected: list[str]
) -> None:
    assert reasons(candidates(rows), known(*ledger)).tolist() == expected


def test_reasons_keep_the_index() -> None:
    rows = candidates([("E1", "S1"), ("E2", "S2")]).set_axis([10, 20])
    result = reasons(rows, known(("E2", "S2", "op")))
    assert result.to_dict() == {10: "", 20: "already_registered"}


def test_rows_of_all_operators_are_judged_together() -> None:
    """A serial routed to two operators with two EIDs is a conflict for both operators."""
    rows = pd.concat(
        [
            candidates([("E1", "S1"), ("E3", "S3")], "op"),
            candidates([("E2", "S1"), ("E3", "S3")], "other"),
        ],
        ignore_index=True,
    )
    result = reasons(rows, known(("E3", "S3", "other")))
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
    result = reasons(candidates(rows), known(*ledger))
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


def test_held_by_others_names_the_other_operators_of_each_eid() -> None:
    rows = known(
        (make_eid(1), "S1", "op-b"),
        (make_eid(2), "S2", "op-b"),
        (make_eid(3), "S3", "op-a"),
        ("", "S4", "op-b"),
    )
    ledger = known(
        (make_eid(1), "S1", "op-c"),
        (make_eid(1), "S1", "op-a"),
        (make_eid(2), "S2", "op-b"),  # its own operator: not another
        (make_eid(3), "S3", "op-b"),
        ("", "S4", "op-a"),  # no EID: nothing to match
        (make_eid(5), "S5", ""),  # known device, no live claim
    )
    rows.index = [10, 11, 12, 13]
    others = held_by_others(rows, ledger)
    assert others.to_dict() == {10: "op-a;op-c", 11: "", 12: "op-b", 13: ""}


def test_held_by_others_with_one_operator_throughout_is_empty() -> None:
    rows = known((make_eid(1), "S1", "op"))
    assert held_by_others(rows, known((make_eid(1), "S1", "op"))).tolist() == [""]
    assert held_by_others(rows, NOTHING_KNOWN).tolist() == [""]


def test_a_claim_still_in_flight_is_not_an_earlier_hand_off() -> None:
    rows = known((make_eid(1), "S1", "op"), (make_eid(2), "S2", "op"), (make_eid(3), "S3", "op"))
    ledger = known((make_eid(1), "S1", "op"), (make_eid(2), "S2", "op")).assign(
        in_flight=[True, False]  # EID 1: another run's, not finished; EID 2: delivered
    )
    assert reasons(rows, ledger).tolist() == ["claimed_by_running_run", "already_registered", ""]
