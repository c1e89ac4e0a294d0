"""Neutralise spreadsheet formulas in text eidflow writes (CSV injection, OWASP).

A cell that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage return is
evaluated by spreadsheet programs; eidflow writes such values with a leading ``'``
so they stay text. EIDs, IMEIs and object ids are digits or GUIDs and never change.

>>> neutralise_text('=HYPERLINK("http://x")')
'\\'=HYPERLINK("http://x")'
>>> neutralise_text('Latitude 7450')
'Latitude 7450'
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(value: str) -> str:
    """The value, made inert if a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def neutralise(column: pd.Series) -> pd.Series:
    """Column-wise :func:`neutralise_text` for a text column."""
    text = column.astype("string").fillna("")
    live = _starts_live(pa.array(text, type=pa.large_string()))
    if not live.any():
        return text
    return text.where(~live, "'" + text)


def text_array(column: pd.Series) -> pa.Array:
    """The column as text cells show it (pandas' ``astype("string")``, missing as ``""``), one
    Arrow string array; a text column goes from its Arrow data as it is (no pandas pass)."""
    dtype = column.dtype
    text = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
    values = pa.Array.from_pandas(column if text else column.astype("string"))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    return pc.fill_null(values, "") if values.null_count else values


def neutralise_array(text: pa.Array) -> pa.Array:
    """:func:`neutralise_text` on each value of Arrow text without missing values."""
    live = _starts_live(text)
    if not live.any():
        return text
    return pc.if_else(pa.array(live), pc.binary_join_element_wise("'", text, ""), text)


_PREFIX_BYTES = np.frombuffer("".join(FORMULA_PREFIXES).encode("ascii"), dtype=np.uint8)


def _starts_live(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Which values start with a formula prefix, read from each value's first byte.

    Every prefix is one ASCII character, so a value starts with it exactly when its first
    UTF-8 byte is that character: one numpy pass instead of a string scan per prefix.
    """
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    live = [np.zeros(0, dtype=bool)]
    for chunk in chunks:
        width = "int64" if pa.types.is_large_string(chunk.type) else "int32"
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width).astype(np.int64)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
        data = chunk.buffers()[2]
        nonempty = offsets[1:] > offsets[:-1]
        first = np.zeros(len(chunk), dtype=np.uint8)
        if data is not None and nonempty.any():
            first[nonempty] = np.frombuffer(data, dtype=np.uint8)[offsets[:-1][nonempty]]
        live.append(nonempty & np.isin(first, _PREFIX_BYTES))
    return np.concatenate(live)
