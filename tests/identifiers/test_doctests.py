"""The identifier modules' docstring examples are part of their contract."""

import doctest

import pytest

from eidflow.identifiers import eid, imei
from exporters import safe


@pytest.mark.parametrize("module", [eid, imei, safe])
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
