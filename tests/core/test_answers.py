"""Judging answer rows: statuses, EIDs and ICCIDs per row, then one answer per EID."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eidflow.core import answer_codes as a
from eidflow.core import answers
from tests.ledger.helpers import eid

ICCID = "89014103211118510720"
ICCID_19 = "8944500102198304826"


def rows(*lines: tuple[str, str, str]) -> pd.DataFrame:
    """Answer rows from (EID, status, ICCID) triples, row numbers from 2 like a CSV."""
    count = len(lines)
    return pd.DataFrame(
        {
            "source_file": ["answers.csv"] * count,
            "sheet": [""] * count,
            "row": list(range(2, count + 2)),
            "eid_raw": [line[0] for line in lines],
            "eid_numeric": [False] * count,
            a.OPERATOR_STATUS: [line[1] for line in lines],
            a.OPERATOR_REASON: [""] * count,
            a.ICCID_RAW: [line[2] for line in lines],
            a.SMDP_ADDRESS: [""] * count,
            a.ORDER_ID: [""] * count,
            a.ANSWERED_AT: [""] * count,
        }
    )


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        ("Accepted", "accepted"),
        ("Success", "accepted"),
        ("SUCCEEDED", "accepted"),
        ("Installed", "accepted"),
        ("Released", "accepted"),
        ("Executed-Success", "accepted"),
        ("Rejected", "rejected"),
        ("Error", "rejected"),
        ("failed", "rejected"),
        ("Cancelled", "rejected"),
        ("Canceled", "rejected"),
        ("Expired", "rejected"),
        ("In progress", "pending"),
        ("Pending", "pending"),
    ],
)
def test_status_words_become_answers(status: str, answer: str) -> None:
    judged = answers.judge_rows(rows((eid(1), status, "")))
    assert judged[a.ANSWER].tolist() == [answer]


@pytest.mark.parametrize(
    ("line", "status", "reason", "warnings"),
    [
        ((eid(1), "Success", ICCID), "", "", ""),
        ((eid(1), "Success", ICCID_19 + "F"), "", "", "iccid_padded"),
        ((eid(1), "Success", ""), "", "", "iccid_missing"),
        ((eid(1), "Error", ICCID), "", "", "iccid_ignored"),
        ((eid(1), "Success", ICCID[:-1] + "1"), "invalid", "iccid_checksum", ""),
        ((eid(1), "Success", "8.90141032111185E+19"), "invalid", "iccid_precision_lost", ""),
        ((eid(1), "Success", "12345"), "invalid", "iccid_length", ""),
        ((eid(1), "", ICCID), "invalid", "status_missing", ""),
        ((eid(1), "Maybe", ICCID), "invalid", "status_unknown", ""),
        ((eid(1), "Pending", ""), "pending", "answer_pending", ""),
        ((eid(1)[:-1] + "0", "Success", ICCID), "invalid", "eid_checksum", ""),
        (("8.90490E+31", "Success", ICCID), "invalid", "eid_precision_lost", ""),
        (("", "Success", ICCID), "invalid", "eid_missing", ""),
    ],
)
def test_each_row_is_judged(
    line: tuple[str, str, str], status: str, reason: str, warnings: str
) -> None:
    [judged] = answers.judge_rows(rows(line)).to_dict("records")
    assert (judged["status"], judged["reason"], judged["warnings"]) == (status, reason, warnings)


def test_an_eid_in_a_number_cell_is_precision_lost() -> None:
    frame = rows((repr(float(eid(1))), "Success", ICCID)).assign(eid_numeric=[True])
    assert answers.judge_rows(frame)["reason"].tolist() == ["eid_precision_lost"]


def test_an_operators_own_words_count() -> None:
    words = answers.vocabulary(accepted=["Done!"], rejected=["NOK", "Refusé"], pending=["Later"])
    frame = rows((eid(1), "done", ""), (eid(2), "refusé", ""), (eid(3), "LATER", ""))
    assert answers.judge_rows(frame, words)[a.ANSWER].tolist() == [
        "accepted",
        "rejected",
        "pending",
    ]


def in_run(*lines: tuple[str, str, str]) -> list[tuple[str, str]]:
    judged = answers.judge_in_run(answers.judge_rows(rows(*lines)))
    return list(zip(judged["status"], judged["reason"], strict=True))


def test_the_same_answer_again_is_a_duplicate() -> None:
    assert in_run((eid(1), "Success", ICCID), (eid(1), "Success", ICCID)) == [
        ("", ""),
        ("duplicate", "duplicate_in_run"),
    ]


def test_an_acceptance_with_its_iccid_counts_over_one_without() -> None:
    assert in_run((eid(1), "Success", ""), (eid(1), "Installed", ICCID)) == [
        ("duplicate", "duplicate_in_run"),
        ("", ""),
    ]


@pytest.mark.parametrize(
    "second", [(eid(1), "Error", ""), (eid(1), "Success", ICCID_19)], ids=["answer", "iccid"]
)
def test_two_answers_for_one_eid_are_a_conflict_on_every_row(
    second: tuple[str, str, str],
) -> None:
    assert in_run((eid(1), "Success", ICCID), second, (eid(2), "Error", "")) == [
        ("conflict", "conflict_in_run"),
        ("conflict", "conflict_in_run"),
        ("", ""),
    ]


EARLIER = pd.DataFrame(
    {
        "eid": [eid(1), eid(2), eid(3)],
        "answer": ["accepted", "rejected", "accepted"],
        "iccid": [ICCID, "", ""],
        "source_file": ["old.csv"] * 3,
        "row": [2, 3, 4],
    }
)


@pytest.mark.parametrize(
    ("line", "status", "reason"),
    [
        ((eid(1), "Success", ICCID), "already_recorded", "already_recorded"),
        ((eid(1), "Success", ""), "already_recorded", "already_recorded"),
        ((eid(1), "Error", ""), "conflict", "conflict_earlier_answer"),
        ((eid(1), "Success", ICCID_19), "conflict", "conflict_earlier_answer"),
        ((eid(2), "Error", ""), "already_recorded", "already_recorded"),
        ((eid(2), "Success", ICCID), "conflict", "conflict_earlier_answer"),
        ((eid(3), "Success", ICCID), "recorded", ""),  # the ICCID, now known
        ((eid(4), "Success", ICCID), "recorded", ""),
        ((eid(5), "Success", ICCID), "not_handed_off", "not_handed_off"),
    ],
)
def test_against_the_ledger(line: tuple[str, str, str], status: str, reason: str) -> None:
    judged = answers.judge_in_run(answers.judge_rows(rows(line)))
    sent = {eid(1), eid(2), eid(3), eid(4)}
    [result] = answers.judge_against(judged, sent, EARLIER).to_dict("records")
    assert (result["status"], result["reason"]) == (status, reason)
    if status == "conflict":
        assert "old.csv row" in result["detail"]


LINES = st.tuples(
    st.sampled_from([eid(1), eid(2), eid(3), eid(9), "8.9E+31", ""]),
    st.sampled_from(["Success", "Error", "Pending", "?", ""]),
    st.sampled_from([ICCID, ICCID_19 + "F", ICCID[:-1] + "1", ""]),
)


@given(st.lists(LINES, max_size=12))
def test_every_row_ends_in_exactly_one_verdict(lines: list[tuple[str, str, str]]) -> None:
    judged = answers.judge_in_run(answers.judge_rows(rows(*lines)))
    final = answers.judge_against(judged, {eid(1), eid(2), eid(3)}, EARLIER)
    assert len(final) == len(lines)
    assert set(final["status"]) <= {verdict.value for verdict in a.Verdict}
    recorded = final[final["status"] == "recorded"]
    assert not recorded["eid"].duplicated().any()  # one answer per EID, at most
    assert (final["status"] != "recorded").sum() + len(recorded) == len(lines)
