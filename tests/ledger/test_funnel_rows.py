"""The funnel as rows: steps summed over shipments, next actions in the funnel's order."""

from __future__ import annotations

from eidflow.ledger import funnel
from eidflow.ledger.funnel import Shipment
from eidflow.ledger.funnel_rows import shipment_rows, step_rows, waiting_rows


def shipment(name: str, rows: int, steps: dict[str, int], waiting: dict[str, int]) -> Shipment:
    return Shipment(
        manifest=f"/inbox/{name}",
        sha256="ab" * 32,
        received_at="2026-12-01 08:00:00",
        po_numbers=["PO-1", "PO-2"],
        rows_read=rows,
        steps={**dict.fromkeys(funnel.STEPS), **steps},
        waiting=waiting,
    )


DELL = shipment(
    "dell.xlsx",
    10,
    {"handed off": 8, "accepted by the operator": 6, "enrolled": 5, "in the group": 4},
    {funnel.IN_GROUP: 4, funnel.NOT_ENROLLED: 3, funnel.REJECTED: 1},
)
LENOVO = shipment(
    "lenovo.csv",
    5,
    {"handed off": 5, "accepted by the operator": 0, "enrolled": 1, "in the group": 0},
    {funnel.NOT_ENROLLED: 4, funnel.NOT_IN_GROUP: 1},
)


def test_steps_add_up_over_shipments_and_untracked_stay_none() -> None:
    assert step_rows([DELL, LENOVO]) == [
        {"step": "rows read", "PCs": 15},
        {"step": "handed off", "PCs": 13},
        {"step": "accepted by the operator", "PCs": 6},
        {"step": "enrolled", "PCs": 6},
        {"step": "in the group", "PCs": 4},
        {"step": "profile applied", "PCs": None},
        {"step": "EID confirmed", "PCs": None},
    ]


def test_no_shipment_reads_zero_rows_and_nothing_tracked() -> None:
    assert step_rows([])[0] == {"step": "rows read", "PCs": 0}
    assert {row["PCs"] for row in step_rows([])[1:]} == {None}
    assert waiting_rows([]) == [] and shipment_rows([]) == []


def test_waiting_is_summed_in_the_funnels_order_with_what_to_do() -> None:
    assert waiting_rows([DELL, LENOVO]) == [
        {"waiting for": a, "PCs": n, "what to do": funnel.TODO[a]}
        for a, n in (
            (funnel.REJECTED, 1),
            (funnel.NOT_ENROLLED, 7),
            (funnel.NOT_IN_GROUP, 1),
            (funnel.IN_GROUP, 4),
        )
    ]


def test_one_line_per_shipment() -> None:
    [line, _] = shipment_rows([DELL, LENOVO])
    assert line["manifest"] == "dell.xlsx" and line["PO numbers"] == "PO-1, PO-2"
    assert line["rows read"] == 10 and line["in the group"] == 4
    assert line["profile applied"] is None and line["sha256"] == "ab" * 32
