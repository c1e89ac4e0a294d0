"""``eidflow intune status`` as a user runs it: the export jobs of the Graph emulator (throttled),
a real ledger on SQLite and PostgreSQL made by an ingest run, then ``eidflow status``.

Twelve PCs handed off and in the group. The eSIM policy's report: PCs 1-6 "Succeeded"
(given as text or as Graph's number 2), 7 error, 8 conflict, 9 in progress, 10 not
applicable; 11 and 12 are not in it yet; one device in the report was never shipped by us.
Where the tenant reports EIDs: PCs 1-3 report the manifest's, 4 its SHA-256, 5 another EID.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.pipeline import IngestRequest, run_ingest
from app.settings import load_settings
from eidflow.ledger import open_ledger
from tests.cli import eidflow
from tests.flows.tenant import (
    GROUP_ID,
    Device,
    entra_export_csv,
    intune_export_csv,
    manifest_csv,
)
from tests.frames import make_eid
from tests.graph_emulator import GraphEmulator, graph_emulator

__all__ = ["graph_emulator"]

OPERATOR = "contoso-mobile"
POLICY = "5d2b9a40-1c3e-4f7a-8b6d-0e9f1a2b3c4d"
SHIPPED = [Device(n) for n in range(1, 13)]
FOREIGN = Device(99)
WRONG_EID = make_eid(4242)
STATUS_OF = {1: "Succeeded", 2: "2", 3: "Succeeded", 4: "2", 5: "Succeeded", 6: "Succeeded"}
STATUS_OF |= {7: "Error", 8: "Conflict", 9: "In progress", 10: "Not applicable"}


def status_row(device: Device, status: str, when: str = "2026-12-06T09:00:00Z") -> dict[str, str]:
    return {
        "IntuneDeviceId": device.intune_id,
        "DeviceName": f"CONTOSO-{device.serial}",
        "PolicyId": POLICY,
        "PolicyStatus": status,
        "PspdpuLastModifiedTimeUtc": when,
        "UPN": "someone@contoso.example",
    }


def reported_eid(device: Device) -> str:
    if device.n <= 3:
        return device.eid
    if device.n == 4:
        return hashlib.sha256(device.eid.encode()).hexdigest()
    return WRONG_EID if device.n == 5 else ""


@pytest.fixture
def tenant(graph_emulator: GraphEmulator) -> GraphEmulator:
    """The tenant with EIDs; every 3rd call answers 429 with a Retry-After."""
    graph_emulator.managed_devices = [
        d.managed_device() | {"esimIdentifier": reported_eid(d)} for d in [*SHIPPED, FOREIGN]
    ]
    graph_emulator.intune.profile_statuses = [
        *(status_row(d, STATUS_OF[d.n]) for d in SHIPPED if d.n in STATUS_OF),
        status_row(FOREIGN, "Succeeded"),
        status_row(Device(77), "Error") | {"PolicyId": "another-policy"},
    ]
    graph_emulator.intune.throttle_every = 3
    return graph_emulator


@pytest.fixture
def folder(tmp_path: Path, tenant: GraphEmulator, url: str) -> Path:
    """An eidflow.toml on the emulator and a ledger (SQLite or PostgreSQL) holding the twelve
    PCs, handed off and recorded as members of the group."""
    (tmp_path / "eidflow.toml").write_text(
        f'[ledger]\nurl = "{url}"\n[output]\nruns_dir = "{tmp_path / "runs"}"\n'
        f'[entra]\ngroup_id = "{GROUP_ID}"\n'
        f'[graph]\nbase_url = "{tenant.base_url}"\naccess_token = "{tenant.token}"\n'
        "max_retry_wait_seconds = 1\n"
        f'[[operators]]\nname = "{OPERATOR}"\n',
        encoding="utf-8",
    )
    for name, data in (
        ("shipment.csv", manifest_csv(SHIPPED)),
        ("intune.csv", intune_export_csv(SHIPPED)),
        ("entra.csv", entra_export_csv(SHIPPED)),
    ):
        (tmp_path / name).write_bytes(data)
    request = IngestRequest(
        manifests=[str(tmp_path / "shipment.csv")],
        inventory=str(tmp_path / "intune.csv"),
        entra_devices=str(tmp_path / "entra.csv"),
        autopilot="none",
    )
    ingested = run_ingest(request, load_settings(tmp_path / "eidflow.toml"))
    assert ingested.exit_code == 0
    ledger = open_ledger(url)
    try:
        members = pd.DataFrame(
            {"eid": [d.eid for d in SHIPPED], "entra_object_id": [d.object_id for d in SHIPPED]}
        )
        ledger.record_memberships(ingested.run_id, GROUP_ID, members)
    finally:
        ledger.close()
    return tmp_path


def intune_status(folder: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    done = eidflow("intune", "status", "--policy-id", POLICY, "--json", *args, cwd=folder)
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout or "{}"), done.stderr


def recorded(url: str) -> dict[str, dict[str, Any]]:
    ledger = open_ledger(url)
    try:
        with ledger.read() as connection:
            rows = connection.rows("SELECT * FROM profile_statuses")
    finally:
        ledger.close()
    return {row["eid"]: row for row in rows}


def funnel(folder: Path) -> dict[str, Any]:
    done = eidflow("status", "--json", cwd=folder)
    assert done.returncode == 0, done.stderr
    [shipment] = json.loads(done.stdout)["shipments"]
    return dict(shipment)


@pytest.mark.slow
def test_statuses_and_device_eids_are_joined_recorded_and_counted_in_the_funnel(
    folder: Path, tenant: GraphEmulator, url: str
) -> None:
    code, out, err = intune_status(folder, "--operator", OPERATOR)

    assert code == 0, err
    [read] = out["operators"]
    assert read["statuses"] == {
        "applied": 6,
        "conflict": 1,
        "error": 1,
        "not applicable": 1,
        "pending": 1,
    }
    # PCs 11-12 are in neither the report nor report an EID: nothing to record for them.
    assert read["recorded"] == 10 and read["tenant_reports_eids"] is True
    assert read["eid_checks"] == {"confirmed": 4, "differs": 1, "unknown": 5}  # 4: its hash
    assert [d["device_name"] for d in read["foreign"]] == [f"CONTOSO-{FOREIGN.serial}"]
    wrong = SHIPPED[4]
    assert read["differs"] == [
        {"eid": wrong.eid, "serial_number": wrong.serial, "device_eid": WRONG_EID}
    ]
    [line] = [line for line in err.splitlines() if "EID DIFFERS" in line]
    assert wrong.serial in line and WRONG_EID in line and "wrong EID" in line
    assert any("wrong EID" in warning for warning in out["warnings"])
    assert tenant.intune.faults > 0  # throttled, and read all the same

    rows = recorded(url)
    assert FOREIGN.eid not in rows and len(rows) == 10
    assert rows[SHIPPED[6].eid]["status"] == "error"
    assert rows[SHIPPED[0].eid]["intune_device_id"] == SHIPPED[0].intune_id
    assert rows[SHIPPED[0].eid]["reported_at"] == "2026-12-06T09:00:00Z"
    assert rows[SHIPPED[0].eid]["policy_id"] == POLICY

    shipment = funnel(folder)
    assert shipment["steps"]["profile applied"] == 6
    assert shipment["steps"]["EID confirmed"] == 4
    assert shipment["waiting"] == {
        "EID confirmed by the device": 4,
        "in the group, no answer from the operator yet": 2,
        "profile error on the device": 2,
        "EID differs from the device's: the operator holds a wrong EID": 1,
        "profile applied, EID not confirmed by the device": 1,
        "profile not applicable to the device": 1,
        "profile pending on the device": 1,
    }
    assert {pc["serial_number"] for pc in shipment["stuck"]} >= {wrong.serial}


@pytest.mark.slow
def test_a_second_read_records_the_newer_time_without_duplicating(
    folder: Path, tenant: GraphEmulator, url: str
) -> None:
    assert intune_status(folder)[0] == 0
    first = recorded(url)
    later = Device(9)
    tenant.intune.profile_statuses = [
        status_row(later, "Succeeded", "2026-12-07T06:00:00Z")
        if row["IntuneDeviceId"] == later.intune_id
        else row
        for row in tenant.intune.profile_statuses
    ]

    code, _, err = intune_status(folder)

    assert code == 0, err
    again = recorded(url)
    assert len(again) == len(first) == 10
    assert again[later.eid]["status"] == "applied"
    assert again[later.eid]["reported_at"] == "2026-12-07T06:00:00Z"
    assert str(again[later.eid]["read_at"]) > str(first[later.eid]["read_at"])
    assert funnel(folder)["steps"]["profile applied"] == 7


@pytest.mark.slow
@pytest.mark.parametrize("why", ["no device has one", "the export refuses the column"])
def test_a_tenant_without_eids_leaves_them_unknown_and_says_so_once(
    folder: Path, tenant: GraphEmulator, why: str
) -> None:
    for device in tenant.managed_devices:
        device.pop("esimIdentifier")
    tenant.intune.refuse_eid_column = why == "the export refuses the column"

    code, out, err = intune_status(folder)

    assert code == 0, err
    [read] = out["operators"]
    assert read["tenant_reports_eids"] is False
    assert read["eid_checks"] == {"unknown": 10}
    assert read["statuses"]["applied"] == 6
    assert err.count("this tenant does not report EIDs") == 1
    assert "EID DIFFERS" not in err
    assert funnel(folder)["steps"]["EID confirmed"] == 0


def test_without_a_recorded_policy_it_says_how_to_get_one(folder: Path) -> None:
    done = eidflow("intune", "status", "--operator", OPERATOR, cwd=folder)
    assert done.returncode == 2
    assert "no eSIM policy is recorded for contoso-mobile" in done.stderr
    assert "intune setup" in done.stderr


def test_what_people_read_and_a_permission_missing(folder: Path, tenant: GraphEmulator) -> None:
    done = eidflow("intune", "status", "--policy-id", POLICY, cwd=folder)
    assert done.returncode == 0, done.stderr
    assert f"intune status for {OPERATOR} (policy {POLICY}): 10 PC(s) recorded" in done.stdout
    assert "profile: applied 6, conflict 1, error 1, not applicable 1, pending 1" in done.stdout
    assert "EID as the device reports it: confirmed 4, differs 1, unknown 5" in done.stdout
    assert "1 device(s) in the report were never handed off by eidflow" in done.stdout
    assert f"CONTOSO-{FOREIGN.serial}" in done.stdout

    tenant.refuse_export_jobs = 403
    refused = eidflow("intune", "status", "--policy-id", POLICY, cwd=folder)
    assert refused.returncode == 2
    assert "DeviceManagementConfiguration.Read.All" in refused.stderr
    assert "Traceback" not in refused.stderr

    tenant.refuse_export_jobs = 0
    tenant.fail_export_jobs = True
    failed = eidflow("intune", "status", "--policy-id", POLICY, cwd=folder)
    assert failed.returncode == 3
    assert "export job ended 'failed'" in failed.stderr
