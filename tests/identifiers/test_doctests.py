"""The identifier modules' docstring examples are part of their contract."""

import doctest

import pytest

import eidflow.identifiers
from eidflow.identifiers import eid, iccid, imei
from exporters import safe


@pytest.mark.parametrize("module", [eidflow.identifiers, eid, iccid, imei, safe])
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
