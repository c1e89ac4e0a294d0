"""Accepted rows that need a person say what to do in ``detail``."""

from __future__ import annotations

import pandas as pd

from eidflow import schema
from eidflow.core.actions import describe


def rows(*given: tuple[str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        given, columns=[schema.STATUS, schema.INTUNE_STATE, schema.WARNINGS, schema.DETAIL]
    ).astype("str")


def test_each_state_and_warning_that_needs_action_has_its_sentence() -> None:
    frame = describe(
        rows(
            ("accepted", "enrolled", "", ""),
            ("accepted", "os_unsupported", "", ""),
            ("accepted", "imei_mismatch", "", ""),
            ("accepted", "enrolled", "entra_unresolved", ""),
            ("accepted", "not_enrolled", "imei_invalid;eid_prefix", ""),
            ("accepted", "not_enrolled", "eid_prefix", ""),  # nothing to do
            ("rejected", "", "", "No EID in this row."),
        )
    )
    details = frame[schema.DETAIL].tolist()
    assert details[0] == "" and details[5] == ""
    assert "Windows 11 22H2" in details[1] and "update Windows" in details[1]
    assert "another IMEI" in details[2]
    assert "--entra-devices" in details[3]
    assert details[4].startswith("The IMEI is left empty in the operator's file")
    assert details[6] == "No EID in this row."


def test_two_things_to_do_are_two_sentences() -> None:
    [detail] = describe(rows(("accepted", "os_unsupported", "sheet_hidden", "")))[schema.DETAIL]
    assert "update Windows" in detail and "worksheet Excel does not show" in detail


def test_rows_alike_get_the_same_sentence_and_a_detail_already_there_leads() -> None:
    # Sentences are composed once per distinct (detail, state, warnings) and taken for
    # each row: interleaved combinations must each land on their own rows.
    given = [
        ("accepted", "os_unsupported", "", ""),
        ("accepted", "enrolled", "entra_unresolved", ""),
        ("accepted", "os_unsupported", "entra_unresolved", "Read from a hidden row."),
        ("accepted", "enrolled", "", ""),
    ] * 3
    details = describe(rows(*given))[schema.DETAIL].tolist()
    for number, (_, state, warnings, detail) in enumerate(given):
        alone = describe(rows(("accepted", state, warnings, detail)))[schema.DETAIL].iloc[0]
        assert details[number] == alone
    assert details[2].startswith("Read from a hidden row. Windows on this PC")
    assert details[2].endswith("or wait for Entra to list it.")
    assert details[3] == "" and details[0] != details[1]
