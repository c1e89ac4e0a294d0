"""reconcile-pending under the Prefect harness: devices that enrolled since become members."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from prefect.artifacts import Artifact

from app.pipeline import IngestRequest, run_ingest
from app.settings import load_settings
from eidflow.ledger import open_ledger
from flows.reconcile import ReconcileParameters, reconcile_pending
from tests.flows.runs import finished
from tests.flows.tenant import (
    GROUP_ID,
    Device,
    entra_export_csv,
    intune_export_csv,
    manifest_csv,
    write_config,
)
from tests.graph_emulator import GraphEmulator

pytestmark = pytest.mark.usefixtures("prefect_harness")

SHIPPED = [Device(n) for n in range(11, 15)]  # handed off, none enrolled at the time
ENROLLED = SHIPPED[1:3]  # these two have enrolled since
BYSTANDER = Device(99)  # in the tenant and the group, never shipped by us


def hand_off(tmp_path: Path, config: Path) -> None:
    manifest = tmp_path / "shipment.csv"
    manifest.write_bytes(manifest_csv(SHIPPED))
    result = run_ingest(IngestRequest(manifests=[str(manifest)]), load_settings(config))
    assert result.exit_code == 0


def pending_eids(tmp_path: Path, group_id: str = GROUP_ID) -> list[str]:
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        return sorted(ledger.pending_enrollment(group_id)["eid"])
    finally:
        ledger.close()


def listed_members(run_dir: Path) -> list[str]:
    with (run_dir / "entra" / "group-members.csv").open(newline="", encoding="utf-8-sig") as handle:
        return sorted(row[0] for row in list(csv.reader(handle))[1:])


def two_enrolled_since(tmp_path: Path, graph_emulator: GraphEmulator) -> Path:
    """SHIPPED handed off; since then ENROLLED enrolled; memberships applied through Graph."""
    graph_emulator.managed_devices = [d.managed_device() for d in [*ENROLLED, BYSTANDER]]
    graph_emulator.devices = [d.entra_device() for d in [*SHIPPED, BYSTANDER]]
    graph_emulator.groups = {GROUP_ID: {BYSTANDER.object_id}}
    config = write_config(
        tmp_path,
        flows={"inventory_source": "graph"},
        graph={
            "base_url": graph_emulator.base_url,
            "access_token": graph_emulator.token,
            "apply_memberships": True,
        },
    )
    hand_off(tmp_path, config)
    return config


def test_newly_enrolled_devices_join_the_group_through_graph(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    config = two_enrolled_since(tmp_path, graph_emulator)
    assert pending_eids(tmp_path) == sorted(d.eid for d in SHIPPED)

    outcome = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))

    joined = sorted(d.object_id for d in ENROLLED)
    assert sorted(outcome.recorded_members) == joined
    assert outcome.membership == {"added": 2, "already_members": 0, "missing": 0, "failed": 0}
    assert graph_emulator.groups[GROUP_ID] == {BYSTANDER.object_id, *joined}
    assert listed_members(Path(outcome.run_dir)) == joined
    assert outcome.by_intune_state == {"enrolled": 2, "not_enrolled": 2}
    assert pending_eids(tmp_path) == sorted(d.eid for d in SHIPPED if d not in ENROLLED)
    summary = json.loads((Path(outcome.run_dir) / "summary.json").read_text())
    assert summary["kind"] == "reconcile_pending" and summary["group_id"] == GROUP_ID
    assert sorted(summary["recorded_members"]) == joined and summary["inventory"] == "graph"

    # The next day nothing new has enrolled: nothing is added, the ledger is unchanged.
    again = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))
    assert again.new_members == [] and again.recorded_members == []
    assert graph_emulator.groups[GROUP_ID] == {BYSTANDER.object_id, *joined}
    assert pending_eids(tmp_path) == sorted(d.eid for d in SHIPPED if d not in ENROLLED)


def test_the_daily_run_publishes_the_funnel_it_moved(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    config = two_enrolled_since(tmp_path, graph_emulator)
    finished(reconcile_pending, ReconcileParameters(config_file=str(config)))

    table = Artifact.get("reconcile-pending-funnel")
    assert table is not None and table.type == "table"
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert [(row["step"], row["PCs"]) for row in rows] == [
        ("rows read", 4),
        ("handed off", 4),
        ("accepted by the operator", 0),
        ("enrolled", 2),
        ("in the group", 2),
        ("profile applied", 0),
        ("EID confirmed", 0),
    ]
    markdown = Artifact.get("reconcile-pending-funnel-by-shipment")
    assert markdown is not None and markdown.type == "markdown"
    text = str(markdown.data)
    assert "| in the group | 2 |" in text
    assert "| not enrolled yet | 2 | wait for enrolment" in text
    assert "| in the group, no answer from the operator yet | 2 |" in text
    assert "shipment.csv" in text


def test_after_the_group_changes_the_devices_join_the_new_group(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    new_group = "b7d94e0c-2a6f-4c3b-8e15-9f0a1d2c3b4e"
    graph_emulator.managed_devices = [d.managed_device() for d in SHIPPED]
    graph_emulator.devices = [d.entra_device() for d in SHIPPED]
    graph_emulator.groups = {GROUP_ID: set(), new_group: set()}
    graph = {
        "base_url": graph_emulator.base_url,
        "access_token": graph_emulator.token,
        "apply_memberships": True,
    }
    config = write_config(tmp_path, flows={"inventory_source": "graph"}, graph=graph)
    hand_off(tmp_path, config)
    everyone = sorted(d.object_id for d in SHIPPED)
    first = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))
    assert sorted(first.recorded_members) == everyone
    assert graph_emulator.groups[GROUP_ID] == set(everyone)

    # [entra] group_id now names another group: the same PCs belong in it too.
    config = write_config(
        tmp_path, flows={"inventory_source": "graph"}, graph=graph, entra={"group_id": new_group}
    )
    assert pending_eids(tmp_path, new_group) == sorted(d.eid for d in SHIPPED)

    moved = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))

    assert moved.pending == len(SHIPPED)
    assert moved.membership == {"added": 4, "already_members": 0, "missing": 0, "failed": 0}
    assert sorted(moved.recorded_members) == everyone
    assert graph_emulator.groups[new_group] == set(everyone)
    assert graph_emulator.groups[GROUP_ID] == set(everyone)
    assert pending_eids(tmp_path, new_group) == [] and pending_eids(tmp_path) == []
    summary = json.loads((Path(moved.run_dir) / "summary.json").read_text())
    assert summary["group_id"] == new_group


def test_without_apply_the_lists_are_written_and_devices_stay_pending(tmp_path: Path) -> None:
    inventory = tmp_path / "DevicesWithInventory.csv"
    inventory.write_bytes(intune_export_csv(ENROLLED))
    entra = tmp_path / "exportDevice.csv"
    entra.write_bytes(entra_export_csv(SHIPPED))
    config = write_config(
        tmp_path, flows={"inventory": str(inventory), "entra_devices": str(entra)}
    )
    hand_off(tmp_path, config)

    outcome = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))

    assert sorted(outcome.new_members) == sorted(d.object_id for d in ENROLLED)
    assert listed_members(Path(outcome.run_dir)) == sorted(d.object_id for d in ENROLLED)
    assert outcome.membership == {} and outcome.recorded_members == []
    assert pending_eids(tmp_path) == sorted(d.eid for d in SHIPPED)
