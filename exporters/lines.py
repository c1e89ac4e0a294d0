"""Lines of a free-form sheet (``TextWorkbook.add_lines``): titled tables of plain values.

Integers stay numbers (counts); lists and mappings become one line of text; all text is
neutralised (``exporters.safe``), so that no cell reads as a formula.
"""

from __future__ import annotations

from typing import Any

from exporters.safe import neutralise_text
from exporters.xlsx import STYLE_HEADER, STYLE_NOTE, STYLE_TEXT, Line


def table(
    title: str, items: list[dict[str, Any]], none: str = "(none)", style: int = STYLE_TEXT
) -> list[Line]:
    """A blank line, the title, a header row of the items' keys, one line per item."""
    lines: list[Line] = [([], style), ([title], STYLE_HEADER)]
    if not items:
        return [*lines, ([none], STYLE_NOTE)]
    headers = list(dict.fromkeys(key for item in items for key in item))
    lines.append(([text(header) for header in headers], STYLE_HEADER))
    lines += [([cell(item.get(header)) for header in headers], style) for item in items]
    return lines


def cell(value: Any) -> Any:
    """Integers stay numbers (counts); lists and mappings one line of text; all text inert."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None:
        return ""
    if isinstance(value, dict):
        return text("; ".join(f"{key}={_plain(item)}" for key, item in value.items()))
    if isinstance(value, list | tuple):
        return text("; ".join(_plain(item) for item in value))
    return text(value)


def text(value: Any) -> str:
    return neutralise_text(str(value))


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)
