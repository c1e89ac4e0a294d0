"""The daily reconcile's pure part with Windows Autopilot: registered members stay looked at
until they enrol, and are never new members twice."""

from __future__ import annotations

import pandas as pd
import pytest

from app.settings import Settings
from eidflow import schema
from eidflow.errors import ConfigError
from eidflow.graph.autopilot import identities_frame
from eidflow.graph.devices import entra_frame, inventory_frame
from flows import pending
from flows.reconcile import ReconcileParameters, _inventory_sources
from tests.flows.tenant import Device
from tests.graph_emulator import autopilot_identity

D = [Device(n) for n in range(41, 45)]


def waiting(states: list[str], members: list[str]) -> pd.DataFrame:
    """Pending devices as the ledger gives them: state, object id member by, claim's id."""
    registered = [s == "autopilot_registered" for s in states]
    return pd.DataFrame(
        {
            schema.EID: [d.eid for d in D],
            schema.SERIAL_NUMBER: [d.serial for d in D],
            schema.IMEI: [d.imei for d in D],
            schema.OPERATOR: "contoso-mobile",
            schema.INTUNE_STATE: states,
            schema.MEMBER_OBJECT_ID: members,
            schema.RECORDED_OBJECT_ID: [
                d.object_id if r else "" for d, r in zip(D, registered, strict=True)
            ],
        }
    ).astype("str")


STATES = ["autopilot_registered", "autopilot_registered", "not_enrolled", "not_enrolled"]
MEMBERS = [D[0].object_id, "", "", ""]  # D[0] is in the group already, D[1] not yet


def test_registered_members_enrol_without_being_added_again() -> None:
    inventory = inventory_frame([D[0].managed_device(), D[2].managed_device()])
    identities = identities_frame(
        [autopilot_identity(d.serial, d.device_id, d.intune_id) for d in D[:1]]
        + [autopilot_identity(D[1].serial, D[1].device_id)]
    )
    entra = entra_frame([d.entra_device() for d in D])
    checked = pending.check_pending(
        waiting(STATES, MEMBERS), inventory, entra, "10.0.22621", identities
    )
    assert checked[schema.INTUNE_STATE].tolist() == [
        "enrolled",
        "autopilot_registered",
        "enrolled",
        "not_enrolled",
    ]
    # D[0] is a member by that object id already; D[1] is wanted, not a member yet.
    assert pending.new_members(checked)[schema.ENTRA_OBJECT_ID].tolist() == [
        D[1].object_id,
        D[2].object_id,
    ]


def test_without_autopilot_identities_a_registered_device_keeps_its_state() -> None:
    checked = pending.check_pending(
        waiting(STATES, MEMBERS), inventory_frame([]), entra_frame([]), "10.0.22621"
    )
    assert checked[schema.INTUNE_STATE].tolist() == STATES
    assert checked[schema.ENTRA_OBJECT_ID].tolist() == [D[0].object_id, D[1].object_id, "", ""]
    assert pending.new_members(checked)[schema.ENTRA_OBJECT_ID].tolist() == [D[1].object_id]


def test_a_registration_gone_is_seen_with_the_identities() -> None:
    checked = pending.check_pending(
        waiting(STATES, MEMBERS), None, entra_frame([]), "10.0.22621", identities_frame([])
    )
    assert checked[schema.INTUNE_STATE].tolist() == ["not_enrolled"] * 4
    assert pending.new_members(checked).empty


@pytest.mark.parametrize(
    ("given", "flows", "graph", "expected"),
    [
        (None, {"inventory_source": "graph"}, True, ("", "graph", False)),  # implied
        (None, {"inventory_source": "file", "inventory": "i.csv"}, False, ("i.csv", "", False)),
        ("none", {"inventory_source": "graph"}, True, ("", "", True)),
        (None, {"inventory_source": "graph", "autopilot": "none"}, True, ("", "", True)),
        (
            "ap.csv",
            {"inventory_source": "file", "inventory": "i.csv"},
            False,
            ("i.csv", "ap.csv", True),
        ),
        (
            "graph",
            {"inventory_source": "file", "inventory": "i.csv"},
            True,
            ("i.csv", "graph", True),
        ),
    ],
)
def test_where_the_reconcile_reads_autopilot_from(
    given: str | None, flows: dict[str, str], graph: bool, expected: tuple[str, str, bool]
) -> None:
    graph_settings = {"tenant_id": "t", "client_id": "c", "access_token": "x"} if graph else {}
    settings = Settings(flows=flows, graph=graph_settings)
    sources = _inventory_sources(ReconcileParameters(autopilot=given), settings)
    assert (sources.inventory, sources.autopilot, sources.autopilot_required) == expected


def test_autopilot_graph_without_graph_is_a_usage_error() -> None:
    settings = Settings(flows={"inventory_source": "file", "inventory": "i.csv"})
    with pytest.raises(ConfigError, match="--autopilot graph"):
        _inventory_sources(ReconcileParameters(autopilot="graph"), settings)
