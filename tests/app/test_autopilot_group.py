"""PCs registered in Windows Autopilot are in the static group before their first boot;
when they enrol later, their state moves on and the group does not change again."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

from app.pipeline import IngestRequest, run_ingest
from app.settings import load_settings
from tests.cli import eidflow
from tests.flows.tenant import GROUP_ID, Device, manifest_csv, write_config
from tests.graph_emulator import GraphEmulator, autopilot_identity, graph_emulator

__all__ = ["graph_emulator"]

SHIPPED = [Device(n) for n in range(31, 37)]
REGISTERED = SHIPPED[:3]  # in Autopilot, with their Entra devices: wanted at once
TWICE = SHIPPED[3]  # two Autopilot identities for one serial: reported, not guessed
NO_ENTRA = SHIPPED[4]  # an identity whose Entra device is not in Entra
LATE = SHIPPED[5]  # not registered: joins once it has enrolled, as before


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def ledger(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "ledger.db") as connection:
        return connection.execute(sql).fetchall()


def tenant(emulator: GraphEmulator) -> None:
    emulator.page_size = 2
    emulator.managed_devices = []  # nothing has enrolled yet
    emulator.devices = [d.entra_device() for d in [*REGISTERED, TWICE, LATE]]
    emulator.groups = {GROUP_ID: set()}
    emulator.autopilot_identities = [
        *(autopilot_identity(d.serial, d.device_id) for d in REGISTERED),
        autopilot_identity(TWICE.serial, TWICE.device_id),
        autopilot_identity(TWICE.serial, "a1f0c9d2-7e3b-4c8a-b5d6-999999999999", id="ap-again"),
        autopilot_identity(NO_ENTRA.serial, NO_ENTRA.device_id),
    ]


def test_registered_pcs_join_the_group_before_they_enrol(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    tenant(graph_emulator)
    graph = {"base_url": graph_emulator.base_url, "access_token": graph_emulator.token}
    config = write_config(tmp_path, graph=graph)
    (tmp_path / "shipment.csv").write_bytes(manifest_csv(SHIPPED))

    # The ingest: an inventory from Graph brings the Autopilot identities along (paged).
    request = IngestRequest([str(tmp_path / "shipment.csv")], "graph", "graph")
    result = run_ingest(request, load_settings(config))
    assert result.exit_code == 0
    decided = {row["serial_number"]: row for row in rows(result.run_dir / "decisions.csv")}
    for device in REGISTERED:
        assert decided[device.serial]["intune_state"] == "autopilot_registered"
        assert decided[device.serial]["entra_object_id"] == device.object_id
    assert decided[TWICE.serial]["intune_state"] == "not_enrolled"
    assert decided[TWICE.serial]["warnings"] == "autopilot_serial_twice"
    assert decided[NO_ENTRA.serial]["intune_state"] == "autopilot_registered"
    assert decided[NO_ENTRA.serial]["warnings"] == "entra_unresolved"
    assert decided[LATE.serial]["intune_state"] == "not_enrolled"
    listed = (result.run_dir / "entra" / "group-members.csv").read_text("utf-8-sig")
    assert sorted(listed.splitlines()[1:]) == sorted(d.object_id for d in REGISTERED)
    autopilot = [i for i in result.summary["inputs"] if i["kind"] == "autopilot"]
    assert autopilot == [{**autopilot[0], "path": "graph", "rows": 6}]
    assert graph_emulator.autopilot_queries == [""]  # one listing of them all

    # groups sync --apply puts them in the group.
    applied = eidflow("groups", "sync", "--config", config, "--apply", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert graph_emulator.groups[GROUP_ID] == {d.object_id for d in REGISTERED}
    assert ledger(
        tmp_path, "SELECT action, outcome, COUNT(*) FROM group_changes GROUP BY 1, 2"
    ) == [("add", "added", 3)]
    batched = len(graph_emulator.batch_items)
    assert batched == 3
    status = eidflow("status", "--config", config, "--json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    [shipment] = json.loads(status.stdout)["shipments"]
    assert shipment["steps"]["in the group"] == 3 and shipment["steps"]["enrolled"] == 0
    assert shipment["waiting"]["registered in Autopilot, not enrolled yet"] == 4

    # They enrol (the same Entra devices), and so does the PC that was never registered.
    enrolled = [*REGISTERED, LATE]
    graph_emulator.managed_devices = [d.managed_device() for d in enrolled]
    graph_emulator.autopilot_identities[:3] = [
        autopilot_identity(d.serial, d.device_id, d.intune_id) for d in REGISTERED
    ]
    graph_emulator.autopilot_queries.clear()
    done = eidflow(
        "reconcile", "--config", config, "--inventory", "graph", "--apply", "--json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    # The members still registered only are looked at again, with the others pending.
    assert outcome["pending"] == len(SHIPPED)
    assert outcome["by_intune_state"] == {
        "autopilot_registered": 1,
        "enrolled": 4,
        "not_enrolled": 1,
    }
    assert outcome["new_members"] == [LATE.object_id]  # not the three in the group already
    assert graph_emulator.batch_items[batched:] == [("POST", f"/groups/{GROUP_ID}/members/$ref")]
    # Autopilot asked by serial, each pending serial once.
    assert sorted(graph_emulator.autopilot_queries) == sorted(
        f"contains(serialNumber,'{d.serial}')" for d in SHIPPED
    )
    states = dict(ledger(tmp_path, "SELECT serial_number, intune_state FROM claims"))
    assert {states[d.serial] for d in enrolled} == {"enrolled"}
    assert ledger(tmp_path, "SELECT COUNT(*) FROM memberships") == [(4,)]
    history = ledger(tmp_path, "SELECT eid, intune_state FROM device_states")
    assert sorted(history) == sorted(
        [*((d.eid, "autopilot_registered") for d in REGISTERED), (LATE.eid, "not_enrolled")]
    )

    # Nothing left to change in the group, and no change recorded twice.
    again = eidflow("groups", "sync", "--config", config, "--apply", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "nothing to change" in again.stdout
    assert len(graph_emulator.batch_items) == batched + 1
    assert ledger(tmp_path, "SELECT COUNT(*) FROM group_changes") == [(3,)]
    later = eidflow("reconcile", "--config", config, "--inventory", "graph", "--json", cwd=tmp_path)
    assert json.loads(later.stdout)["pending"] == 2  # NO_ENTRA and TWICE: not in the group


def portal_export(devices: list[Device]) -> bytes:
    """The admin center's Windows Autopilot devices export."""
    lines = ["Serial number,Manufacturer,Model,Group tag,Enrollment state,Azure AD device ID"]
    lines += [f"{d.serial},Lenovo,T14s,SCHOOL-ESIM,Not contacted,{d.device_id}" for d in devices]
    return "\r\n".join(lines).encode("utf-8-sig")


def test_an_autopilot_export_file_without_graph(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "shipment.csv").write_bytes(manifest_csv(SHIPPED))
    (tmp_path / "autopilot.csv").write_bytes(portal_export(REGISTERED))
    entra = ["displayName,deviceId,objectId"]
    entra += [f"PC,{d.device_id},{d.object_id}" for d in REGISTERED]
    (tmp_path / "entra.csv").write_text("\n".join(entra), encoding="utf-8")
    done = eidflow(
        "ingest",
        tmp_path / "shipment.csv",
        "--config",
        config,
        "--entra-devices",
        tmp_path / "entra.csv",
        "--autopilot",
        tmp_path / "autopilot.csv",
        "--out",
        tmp_path / "run",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    states = [row["intune_state"] for row in rows(tmp_path / "run" / "decisions.csv")]
    assert states == ["autopilot_registered"] * 3 + ["not_enrolled"] * 3
    listed = (tmp_path / "run" / "entra" / "group-members.csv").read_text("utf-8-sig")
    assert sorted(listed.splitlines()[1:]) == sorted(d.object_id for d in REGISTERED)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    [autopilot] = [i for i in summary["inputs"] if i["kind"] == "autopilot"]
    assert autopilot["rows"] == 3 and autopilot["sha256"]


def test_autopilot_implied_by_graph_is_left_out_when_refused_or_turned_off(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    tenant(graph_emulator)
    graph_emulator.refuse_autopilot = 403
    graph = {"base_url": graph_emulator.base_url, "access_token": graph_emulator.token}
    config = write_config(tmp_path, graph=graph)
    (tmp_path / "shipment.csv").write_bytes(manifest_csv(SHIPPED))
    shipment = str(tmp_path / "shipment.csv")
    implied = run_ingest(IngestRequest([shipment], "graph", "graph"), load_settings(config))
    assert implied.exit_code == 0  # with a warning: the permission is missing
    states = {row["intune_state"] for row in rows(implied.run_dir / "decisions.csv")}
    assert states == {"not_enrolled"}
    asked = eidflow(
        "ingest",
        shipment,
        "--config",
        config,
        "--inventory",
        "graph",
        "--autopilot",
        "graph",
        "--reprocess",
        cwd=tmp_path,
    )
    assert asked.returncode == 2  # asked for, and refused: said so
    assert "DeviceManagementServiceConfig.Read.All" in asked.stderr
    graph_emulator.refuse_autopilot = 0
    graph_emulator.autopilot_queries.clear()
    off = IngestRequest([shipment], "graph", "graph", reprocess=True, autopilot="none")
    assert run_ingest(off, load_settings(config)).exit_code == 0
    assert graph_emulator.autopilot_queries == []
