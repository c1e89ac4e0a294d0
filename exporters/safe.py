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

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(value: str) -> str:
    """The value, made inert if a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def neutralise(column: pd.Series) -> pd.Series:
    """Column-wise :func:`neutralise_text` for a text column."""
    text = column.astype("string").fillna("")
    live = text.str.startswith(FORMULA_PREFIXES)
    if not live.any():
        return text
    return text.where(~live, "'" + text)
