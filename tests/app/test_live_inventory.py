"""``--inventory graph``: the DevicesWithInventory export job (or managedDevices), read like a
hand-made export, gives the same decisions as the export files of the same tenant."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from eidflow.graph import GraphClient, static_token
from eidflow.graph.export_job import (
    DEVICES_WITH_INVENTORY,
    INVENTORY_SELECT,
    ExportJobFailed,
    ExportPolling,
    export_report,
)
from tests.cli import eidflow
from tests.flows.tenant import Device, entra_export_csv, manifest_csv
from tests.graph_emulator import GraphEmulator, graph_emulator

__all__ = ["graph_emulator"]

SHIPPED = [Device(n) for n in range(1, 13)]
FRIENDLY = {
    "Device ID": "id",
    "Device name": "deviceName",
    "Last check-in": "lastSyncDateTime",
    "Azure AD Device ID": "azureADDeviceId",
    "OS version": "osVersion",
    "Serial number": "serialNumber",
    "Manufacturer": "manufacturer",
    "Model": "model",
    "IMEI": "imei",
}


def tenant(emulator: GraphEmulator) -> list[dict[str, Any]]:
    """Ten of twelve enrolled; one on Windows 10, one with another IMEI, one not in Entra;
    a re-enrolled PC twice, the older record first."""
    managed = [d.managed_device() for d in SHIPPED[:10]]
    managed[1]["osVersion"] = "10.0.19045.4529"
    managed[2]["imei"] = "354098110000019"
    stale = dict(managed[3], id="0d6a1c2e-4b7f-4a51-9c3e-999999999999")
    stale["lastSyncDateTime"] = "2026-01-02T08:00:00Z"
    stale["osVersion"] = "10.0.19045.1"
    managed.insert(0, stale)
    emulator.managed_devices = managed
    emulator.devices = [d.entra_device() for d in SHIPPED if d is not SHIPPED[4]]
    return managed


def intune_export(managed: list[dict[str, Any]]) -> bytes:
    """The same devices as the admin center's Devices > All devices > Export writes them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FRIENDLY)
    for device in managed:
        writer.writerow([device.get(field) or "" for field in FRIENDLY.values()])
    return out.getvalue().encode("utf-8-sig")


def graph_env(emulator: GraphEmulator) -> dict[str, str]:
    return {
        "EIDFLOW_GRAPH__BASE_URL": emulator.base_url,
        "EIDFLOW_GRAPH__ACCESS_TOKEN": emulator.token,
    }


def ingest(work: Path, *sources: str, env: dict[str, str] | None = None) -> Any:
    work.mkdir()
    (work / "shipment.csv").write_bytes(manifest_csv(SHIPPED))
    inventory, entra = sources
    return eidflow(
        "ingest",
        "shipment.csv",
        "--inventory",
        inventory,
        "--entra-devices",
        entra,
        "--out",
        work / "run",
        "--ledger",
        f"sqlite:///{work / 'ledger.db'}",
        cwd=work,
        env=env,
    )


def test_graph_and_export_files_give_the_same_decisions(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    managed = tenant(graph_emulator)
    graph_emulator.throttle_every = 5
    graph_emulator.unavailable_every = 7
    (tmp_path / "DevicesWithInventory.csv").write_bytes(intune_export(managed))
    entra = [d for d in SHIPPED if d is not SHIPPED[4]]
    (tmp_path / "exportDevice.csv").write_bytes(entra_export_csv(entra))

    files = ingest(
        tmp_path / "files",
        str(tmp_path / "DevicesWithInventory.csv"),
        str(tmp_path / "exportDevice.csv"),
    )
    live = ingest(tmp_path / "graph", "graph", "graph", env=graph_env(graph_emulator))

    assert files.returncode == 0, files.stderr
    assert live.returncode == 0, live.stderr
    said = [line for line in live.stderr.splitlines() if "names no operator" not in line]
    assert "created a new ledger" in live.stderr and len(said) == 1
    by_files = (tmp_path / "files" / "run" / "decisions.csv").read_text()
    by_graph = (tmp_path / "graph" / "run" / "decisions.csv").read_text()
    assert by_graph == by_files
    states = [row["intune_state"] for row in csv.DictReader(io.StringIO(by_graph))]
    assert states.count("enrolled") == 8 and "os_unsupported" in states
    assert "imei_mismatch" in states and states.count("not_enrolled") == 2
    asked = [path for _, path in graph_emulator.log]
    assert "/beta/deviceManagement/reports/exportJobs" in asked
    assert "/v1.0/deviceManagement/managedDevices" not in asked  # the job answered


def test_a_refused_export_job_falls_back_to_listing_managed_devices(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    managed = tenant(graph_emulator)
    (tmp_path / "DevicesWithInventory.csv").write_bytes(intune_export(managed))
    (tmp_path / "exportDevice.csv").write_bytes(
        entra_export_csv([d for d in SHIPPED if d is not SHIPPED[4]])
    )
    graph_emulator.refuse_export_jobs = 403
    live = ingest(tmp_path / "graph", "graph", "graph", env=graph_env(graph_emulator))
    files = ingest(
        tmp_path / "files",
        str(tmp_path / "DevicesWithInventory.csv"),
        str(tmp_path / "exportDevice.csv"),
    )
    assert live.returncode == 0, live.stderr
    assert files.returncode == 0, files.stderr
    notices = ("new ledger", "names no operator")
    [line] = [text for text in live.stderr.splitlines() if not any(n in text for n in notices)]
    assert "export job was refused (HTTP 403: Not allowed to export" in line
    assert "listing managedDevices instead" in line
    assert graph_emulator.token not in live.stderr
    by_graph = (tmp_path / "graph" / "run" / "decisions.csv").read_text()
    assert by_graph == (tmp_path / "files" / "run" / "decisions.csv").read_text()


def test_without_graph_settings_it_says_so_in_one_line(tmp_path: Path) -> None:
    done = ingest(tmp_path / "w", "graph", "graph")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "[graph] is not configured" in line and "Traceback" not in done.stderr


def client(emulator: GraphEmulator) -> GraphClient:
    return GraphClient(
        static_token(emulator.token), base_url=emulator.base_url, sleep=lambda _: None
    )


def test_the_job_is_polled_until_completed(graph_emulator: GraphEmulator) -> None:
    tenant(graph_emulator)
    graph_emulator.export_polls_to_complete = 4
    waits: list[float] = []
    with client(graph_emulator) as graph:
        data = export_report(
            graph, DEVICES_WITH_INVENTORY, INVENTORY_SELECT, ExportPolling(sleep=waits.append)
        )
    assert data.startswith(b"PK") and waits == [0.5, 1.0, 2.0, 2.0]
    [job] = graph_emulator.export_jobs.values()
    assert job["select"] == list(INVENTORY_SELECT) and job["format"] == "csv"


@pytest.mark.parametrize(
    ("knob", "why"),
    [("fail_export_jobs", "ended 'failed'"), ("export_polls_to_complete", "did not complete")],
)
def test_a_job_that_fails_or_never_completes_is_reported(
    graph_emulator: GraphEmulator, knob: str, why: str
) -> None:
    tenant(graph_emulator)
    setattr(graph_emulator, knob, True if knob == "fail_export_jobs" else 10**6)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    polling = ExportPolling(timeout_seconds=30, sleep=sleep, clock=lambda: now[0])
    with client(graph_emulator) as graph, pytest.raises(ExportJobFailed, match=why):
        export_report(graph, DEVICES_WITH_INVENTORY, INVENTORY_SELECT, polling)


def test_eidflow_toml_can_name_graph_as_the_inventory(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    tenant(graph_emulator)
    (tmp_path / "eidflow.toml").write_text(
        '[inventory]\nintune = "graph"\nentra_devices = "graph"\n'
        f'[graph]\nbase_url = "{graph_emulator.base_url}"\n',
        encoding="utf-8",
    )
    (tmp_path / "shipment.csv").write_bytes(manifest_csv(SHIPPED))
    done = eidflow(
        "ingest",
        "shipment.csv",
        "--out",
        tmp_path / "run",
        cwd=tmp_path,
        env={"EIDFLOW_GRAPH__ACCESS_TOKEN": graph_emulator.token},
    )
    assert done.returncode == 0, done.stderr
    decisions = list(csv.DictReader((tmp_path / "run" / "decisions.csv").open(encoding="utf-8")))
    assert [row["intune_state"] for row in decisions].count("enrolled") == 8
