"""A native Excel bar chart for ``TextWorkbook``: the DrawingML parts that place it on a sheet.

Excel, LibreOffice and openpyxl read the chart from three parts: the chart itself
(``xl/charts/chartN.xml``, its series pointing at the sheet's cells, with their values
cached so that a viewer draws it without computing anything), a drawing that anchors it
between two cells (``xl/drawings/drawingN.xml``) and the sheet's relationship to that
drawing. Horizontal bars, one per category, first category on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DRAWING_TYPE = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_C = 'xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart"'
_NS_A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
_NS_XDR = 'xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"'
_NS_R = f'xmlns:r="{_REL}"'
_EMU_PER_CM = 360_000  # DrawingML's unit


@dataclass(frozen=True)
class BarChart:
    """Bars over a sheet's cells: labels in ``label_column``, counts in the column after it,
    from ``first_row`` (1-based) down; a count of ``None`` is a cell left without a number."""

    title: str
    series: str
    first_row: int
    labels: Sequence[str]
    counts: Sequence[int | None]
    label_column: str = "A"
    count_column: str = "B"
    anchor: tuple[int, int] = (3, 0)  # its top-left cell: column, row (0-based)
    size_cm: tuple[float, float] = (16, 9)  # whatever the columns' widths


def xml_text(text: str) -> str:
    """``&``, ``<`` and ``>`` escaped, as ``xml.sax.saxutils.escape`` does (its import pulls
    in urllib and http.client: a hundredth of a second of every run)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoted_sheet(name: str) -> str:
    """A sheet's name as a formula reference writes it: ``'it''s'``."""
    return "'" + xml_text(name).replace("'", "''") + "'"


def chart_xml(chart: BarChart, sheet: str) -> str:
    """``xl/charts/chartN.xml``: one series, categories and values cached beside their cells."""
    last = chart.first_row + len(chart.labels) - 1
    where = quoted_sheet(sheet)
    labels = "".join(
        f'<c:pt idx="{n}"><c:v>{xml_text(label)}</c:v></c:pt>'
        for n, label in enumerate(chart.labels)
    )
    counts = "".join(
        f'<c:pt idx="{n}"><c:v>{count}</c:v></c:pt>'
        for n, count in enumerate(chart.counts)
        if count is not None
    )
    size = len(chart.labels)
    series = (
        f'<c:ser><c:idx val="0"/><c:order val="0"/><c:tx><c:v>{xml_text(chart.series)}</c:v>'
        '</c:tx><c:spPr><a:solidFill><a:srgbClr val="4472C4"/></a:solidFill></c:spPr>'
        '<c:invertIfNegative val="0"/>'
        f"<c:cat><c:strRef><c:f>{where}!${chart.label_column}${chart.first_row}:"
        f'${chart.label_column}${last}</c:f><c:strCache><c:ptCount val="{size}"/>{labels}'
        "</c:strCache></c:strRef></c:cat>"
        f"<c:val><c:numRef><c:f>{where}!${chart.count_column}${chart.first_row}:"
        f"${chart.count_column}${last}</c:f><c:numCache><c:formatCode>General</c:formatCode>"
        f'<c:ptCount val="{size}"/>{counts}</c:numCache></c:numRef></c:val></c:ser>'
    )
    title = (
        "<c:title><c:tx><c:rich><a:bodyPr/><a:p><a:r>"
        f"<a:t>{xml_text(chart.title)}</a:t></a:r></a:p></c:rich></c:tx>"
        '<c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>'
    )
    labels_shown = (
        '<c:dLbls><c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/>'
        '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/></c:dLbls>'
    )
    # maxMin on the category axis: the first step on top, as the funnel reads.
    axes = (
        '<c:catAx><c:axId val="10"/><c:scaling><c:orientation val="maxMin"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="l"/><c:crossAx val="20"/></c:catAx>'
        '<c:valAx><c:axId val="20"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="t"/><c:majorGridlines/><c:crossAx val="10"/>'
        "</c:valAx>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<c:chartSpace {_NS_C} {_NS_A} {_NS_R}><c:chart>{title}<c:plotArea><c:layout/>"
        '<c:barChart><c:barDir val="bar"/><c:grouping val="clustered"/><c:varyColors val="0"/>'
        f'{series}{labels_shown}<c:gapWidth val="50"/><c:axId val="10"/><c:axId val="20"/>'
        f'</c:barChart>{axes}</c:plotArea><c:plotVisOnly val="1"/></c:chart></c:chartSpace>'
    )


def drawing_xml(chart: BarChart) -> str:
    """``xl/drawings/drawingN.xml``: the chart (relationship ``rId1``) at a cell, its size
    fixed (a one-cell anchor: a wide column does not stretch it)."""
    column, row = chart.anchor
    width, height = (round(cm * _EMU_PER_CM) for cm in chart.size_cm)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<xdr:wsDr {_NS_XDR} {_NS_A}>'
        f"<xdr:oneCellAnchor><xdr:from><xdr:col>{column}</xdr:col><xdr:colOff>0"
        f"</xdr:colOff><xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        f'<xdr:ext cx="{width}" cy="{height}"/><xdr:graphicFrame macro="">'
        f'<xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="{xml_text(chart.title)}"/>'
        '<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/>'
        '<a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
        f'<c:chart {_NS_C} {_NS_R} r:id="rId1"/></a:graphicData></a:graphic>'
        "</xdr:graphicFrame><xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>"
    )


def relationships(kind: str, target: str) -> str:
    """A part's relationships file with one relationship, ``rId1``, of ``kind``."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/{kind}" Target="{target}"/></Relationships>'
    )
