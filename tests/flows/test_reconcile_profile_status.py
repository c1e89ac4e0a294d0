"""reconcile-pending under the Prefect harness also reads the eSIM policy's per-device status
(and the EID each device reports) when Graph is configured and a policy is recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.pipeline import IngestRequest, run_ingest
from app.settings import load_settings
from eidflow.ledger import intune_setups, open_ledger
from flows.reconcile import ReconcileParameters, reconcile_pending
from tests.flows.runs import finished
from tests.flows.tenant import GROUP_ID, Device, manifest_csv, write_config
from tests.frames import make_eid
from tests.graph_emulator import GraphEmulator

pytestmark = pytest.mark.usefixtures("prefect_harness")

POLICY = "5d2b9a40-1c3e-4f7a-8b6d-0e9f1a2b3c4d"
SHIPPED = [Device(n) for n in range(21, 25)]


def status_row(device: Device, status: str) -> dict[str, str]:
    return {
        "IntuneDeviceId": device.intune_id,
        "DeviceName": f"CONTOSO-{device.serial}",
        "PolicyId": POLICY,
        "PolicyStatus": status,
        "PspdpuLastModifiedTimeUtc": "2026-12-07T05:00:00Z",
    }


def test_the_daily_reconcile_refreshes_the_profile_statuses(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    first, second, third, fourth = SHIPPED
    graph_emulator.managed_devices = [
        first.managed_device() | {"esimIdentifier": first.eid},
        second.managed_device() | {"esimIdentifier": make_eid(4242)},
        third.managed_device(),
        fourth.managed_device(),
    ]
    graph_emulator.devices = [d.entra_device() for d in SHIPPED]
    graph_emulator.groups = {GROUP_ID: set()}
    graph_emulator.intune.profile_statuses = [
        status_row(first, "Succeeded"),
        status_row(second, "Succeeded"),
        status_row(third, "Error"),
    ]
    graph_emulator.intune.throttle_every = 5
    config = write_config(
        tmp_path,
        flows={"inventory_source": "graph"},
        graph={"base_url": graph_emulator.base_url, "access_token": graph_emulator.token},
    )
    settings = load_settings(config)
    manifest = tmp_path / "shipment.csv"
    manifest.write_bytes(manifest_csv(SHIPPED))
    assert run_ingest(IngestRequest(manifests=[str(manifest)]), settings).exit_code == 0
    operator = settings.operators[0].name
    ledger = open_ledger(settings.ledger.url)
    try:
        with ledger.write() as connection:
            intune_setups.record(connection, operator, {"policy_id": POLICY}, ledger.now())
    finally:
        ledger.close()

    outcome = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))

    read = outcome.profile_statuses[operator]
    assert read["statuses"] == {"applied": 2, "error": 1}
    assert read["eid_checks"] == {"confirmed": 1, "differs": 1, "unknown": 1}
    assert read["differs"] == 1
    summary = json.loads((Path(outcome.run_dir) / "summary.json").read_text())
    assert summary["profile_statuses"][operator]["policy_id"] == POLICY
    ledger = open_ledger(settings.ledger.url)
    try:
        with ledger.read() as connection:
            recorded = dict(connection.all("SELECT eid, status FROM profile_statuses"))
    finally:
        ledger.close()
    assert recorded == {first.eid: "applied", second.eid: "applied", third.eid: "error"}
    assert graph_emulator.intune.faults > 0
