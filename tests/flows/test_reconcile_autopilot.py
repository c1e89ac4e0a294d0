"""reconcile-pending under the Prefect harness, with Windows Autopilot: registered PCs join the
group before they enrol; once enrolled, their state moves on and the group stays as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.pipeline import IngestRequest, run_ingest
from app.settings import load_settings
from flows.reconcile import ReconcileParameters, reconcile_pending
from tests.flows.runs import finished
from tests.flows.tenant import GROUP_ID, Device, manifest_csv, write_config
from tests.graph_emulator import GraphEmulator, autopilot_identity

pytestmark = pytest.mark.usefixtures("prefect_harness")

SHIPPED = [Device(n) for n in range(51, 54)]
REGISTERED = SHIPPED[:2]  # registered in Autopilot before shipping; SHIPPED[2] is not


def test_registered_pcs_are_added_once_and_followed_until_they_enrol(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    graph_emulator.devices = [d.entra_device() for d in SHIPPED]
    graph_emulator.groups = {GROUP_ID: set()}
    graph_emulator.autopilot_identities = [
        autopilot_identity(d.serial, d.device_id) for d in REGISTERED
    ]
    graph = {
        "base_url": graph_emulator.base_url,
        "access_token": graph_emulator.token,
        "apply_memberships": True,
    }
    config = write_config(tmp_path, flows={"inventory_source": "graph"}, graph=graph)
    manifest = tmp_path / "shipment.csv"
    manifest.write_bytes(manifest_csv(SHIPPED))
    assert run_ingest(IngestRequest([str(manifest)]), load_settings(config)).exit_code == 0

    first = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))
    assert first.by_intune_state == {"autopilot_registered": 2, "not_enrolled": 1}
    assert sorted(first.recorded_members) == sorted(d.object_id for d in REGISTERED)
    assert graph_emulator.groups[GROUP_ID] == {d.object_id for d in REGISTERED}
    summary = json.loads((Path(first.run_dir) / "summary.json").read_text())
    assert summary["autopilot"] == "graph"
    batched = len(graph_emulator.batch_items)

    graph_emulator.managed_devices = [d.managed_device() for d in SHIPPED]  # all enrol
    second = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))
    assert second.pending == 3 and second.by_intune_state == {"enrolled": 3}
    assert second.new_members == [SHIPPED[2].object_id]  # the two are members already
    assert len(graph_emulator.batch_items) == batched + 1

    third = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))
    assert third.pending == 0 and third.new_members == []
