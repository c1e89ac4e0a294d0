"""The "Funnel" sheet: PCs at each step with a native bar chart, who waits where, per shipment.

The rows come computed (``eidflow.ledger.funnel_rows``, through ``app``): this module
only lays them out, in ``report.xlsx`` and in the workbook of ``eidflow status --xlsx``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporters.files import atomic_path
from exporters.lines import table, text
from exporters.xlsx import STYLE_HEADER, STYLE_NOTE, STYLE_WRAP, Line, TextWorkbook, fitted_widths
from exporters.xlsx_chart import BarChart

SHEET = "Funnel"
NOT_TRACKED = "not tracked yet"
_CHART_ROWS = 20  # the chart sits right of the steps, over this many rows


@dataclass
class FunnelTables:
    """The funnel of some shipments: steps (``step``, ``PCs``), next actions (``waiting for``,
    ``PCs``, ``what to do``) and one line per shipment."""

    title: str
    steps: list[dict[str, Any]]
    waiting: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""  # instead of the counts, when they were not read


def add_funnel_sheet(book: TextWorkbook, tables: FunnelTables) -> None:
    """The Funnel sheet of ``book``, its bar chart one bar per step."""
    if tables.note:
        lines: list[Line] = [
            ([text(tables.title)], STYLE_HEADER),
            ([text(tables.note)], STYLE_NOTE),
        ]
        book.add_lines(SHEET, lines)
        return
    lines = [([text(tables.title)], STYLE_HEADER), (["step", "PCs"], STYLE_HEADER)]
    first_row = len(lines) + 1
    for row in tables.steps:
        count = row["PCs"]
        lines.append(([text(row["step"]), NOT_TRACKED if count is None else count], STYLE_WRAP))
    widths = fitted_widths(lines)
    done = "Nothing: every PC got as far as eidflow can tell."
    lines += table("Waiting for", tables.waiting, done, STYLE_WRAP)
    lines += [([], STYLE_WRAP)] * max(0, _CHART_ROWS + 2 - len(lines))  # below the chart
    none = "No PC of these shipments was handed off by a complete run."
    lines += table("Shipments", _tracked(tables.shipments), none, STYLE_WRAP)
    widths = [max(pair) for pair in zip(fitted_widths(lines), [*widths, 0, 0, 0], strict=False)]
    chart = BarChart(
        title="PCs at each step",
        series="PCs",
        first_row=first_row,
        labels=[str(row["step"]) for row in tables.steps],
        counts=[row["PCs"] for row in tables.steps],
        anchor=(3, 0),
        size_cm=(16, _CHART_ROWS * 0.5),  # rows of 0.5 cm: down to the Shipments table
    )
    book.add_lines(SHEET, lines, widths=widths, chart=chart)


def write_funnel_workbook(path: Path, tables: FunnelTables) -> None:
    """A workbook of the Funnel sheet alone, written atomically (``eidflow status --xlsx``)."""
    with atomic_path(path) as tmp, TextWorkbook(tmp) as book:
        add_funnel_sheet(book, tables)


def _tracked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {key: NOT_TRACKED if value is None else value for key, value in row.items()} for row in rows
    ]
