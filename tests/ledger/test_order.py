"""Claims are written in the order the database keeps them: by bytes, like SQLite and
PostgreSQL's C collation, whatever the values hold."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from eidflow.ledger.claims import byte_order


@given(st.lists(st.text(max_size=70)))
def test_byte_order_sorts_as_the_bytes_do(values: list[str]) -> None:
    order = byte_order(pa.array(values, pa.string()))
    assert [values[i] for i in order] == sorted(values, key=lambda v: v.encode())
    assert sorted(order.tolist()) == list(range(len(values)))


def test_a_nul_byte_sorts_after_the_end_of_a_value() -> None:
    values = ["a\x00", "a", "a\x00\x00", ""]
    assert [values[i] for i in byte_order(pa.array(values))] == ["", "a", "a\x00", "a\x00\x00"]


def test_equal_values_keep_their_order() -> None:
    order = byte_order(pa.array(["b", "a", "b", "a"], pa.string()))
    assert np.asarray(order).tolist() == [1, 3, 0, 2]
