"""GUIDs of Entra and Intune: one form for every source, a non-GUID never an id."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eidflow.identifiers import guid

ID = "5e2b8f10-93c4-4d7e-a2f1-000000000004"


@pytest.mark.parametrize(
    ("written", "compact", "valid"),
    [
        (ID, ID, True),
        ("{" + ID + "}", ID, True),
        (" " + ID.upper() + " ", ID, True),
        ("\ufeff{ " + ID + " }\u00a0", ID, True),
        ("{" + ID, "{" + ID, False),  # half a pair of braces: not certain
        ("not-a-guid", "not-a-guid", False),
        (ID.replace("-", ""), ID.replace("-", ""), False),
        ("", "", False),
    ],
)
def test_compact_and_is_valid(written: str, compact: str, valid: bool) -> None:
    assert guid.compact(written) == compact
    assert guid.is_valid(guid.compact(written)) is valid


@given(st.lists(st.text(alphabet="{}- \u00a0\nabcdefABCDEF0123456789x", max_size=40), max_size=8))
def test_column_rules_agree_with_the_scalar_rules(values: list[str]) -> None:
    column = guid.compact_column(pd.Series(values, dtype="str"))
    assert column.tolist() == [guid.compact(value) for value in values]
    assert guid.valid_column(column).tolist() == [guid.is_valid(v) for v in column]


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(guid)
    assert (result.attempted > 0, result.failed) == (True, 0)
