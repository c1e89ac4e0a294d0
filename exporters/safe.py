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


_PREFIX_BYTES = np.frombuffer("".join(FORMULA_PREFIXES).encode("ascii"), dtype=np.uint8)


def _starts_live(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Which values start with a formula prefix, read from each value's first byte.

    Every prefix is one ASCII character, so a value starts with it exactly when its first
    UTF-8 byte is that character: one numpy pass instead of a string scan per prefix.
    """
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    live = [np.zeros(0, dtype=bool)]
    for chunk in chunks:
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
        data = chunk.buffers()[2]
        nonempty = offsets[1:] > offsets[:-1]
        first = np.zeros(len(chunk), dtype=np.uint8)
        if data is not None and nonempty.any():
            first[nonempty] = np.frombuffer(data, dtype=np.uint8)[offsets[:-1][nonempty]]
        live.append(nonempty & np.isin(first, _PREFIX_BYTES))
    return np.concatenate(live)
