"""``eidflow groups sync`` and ``mark-imported`` against the Graph emulator, as a user runs them."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from app.pipeline import IngestRequest, run_ingest
from app.settings import load_settings
from tests.cli import eidflow
from tests.flows.tenant import (
    GROUP_ID,
    Device,
    entra_export_csv,
    intune_export_csv,
    manifest_csv,
    write_config,
)
from tests.graph_emulator import GraphEmulator, graph_emulator

__all__ = ["graph_emulator"]


def foreign(n: int) -> dict[str, str]:
    return {"id": f"f0f0f0f0-0000-4000-8000-{n:012d}", "deviceId": f"fd{n}", "displayName": "X"}


def hand_off(
    tmp_path: Path, shipped: list[Device], in_entra: list[Device], **sections: Any
) -> Path:
    """Hand ``shipped`` off, all enrolled, ``in_entra`` of them with an Entra object."""
    config = write_config(tmp_path, **sections)
    (tmp_path / "shipment.csv").write_bytes(manifest_csv(shipped))
    (tmp_path / "intune.csv").write_bytes(intune_export_csv(shipped))
    (tmp_path / "entra.csv").write_bytes(entra_export_csv(in_entra))
    request = IngestRequest(
        [str(tmp_path / "shipment.csv")], str(tmp_path / "intune.csv"), str(tmp_path / "entra.csv")
    )
    assert run_ingest(request, load_settings(config)).exit_code == 0
    return config


def graph_config(tmp_path: Path, emulator: GraphEmulator) -> dict[str, Any]:
    return {"graph": {"base_url": emulator.base_url, "access_token": emulator.token}}


def sync(config: Path, *flags: str) -> Any:
    return eidflow("groups", "sync", "--config", config, *flags, cwd=config.parent)


def ledger_rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "ledger.db") as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.slow
def test_sync_over_a_thousand_devices_with_throttling(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    shipped = [Device(n) for n in range(1, 1001)]
    not_in_entra = shipped[-5:]
    in_entra = shipped[:-5]
    config = hand_off(tmp_path, shipped, in_entra, **graph_config(tmp_path, graph_emulator))
    wanted = {d.object_id for d in in_entra}
    strangers = {foreign(n)["id"] for n in range(10)}
    graph_emulator.devices = [d.entra_device() for d in in_entra] + [foreign(n) for n in range(10)]
    removed_by_hand = {d.object_id for d in in_entra[100:150]}
    graph_emulator.groups = {GROUP_ID: (wanted - removed_by_hand) | strangers}
    graph_emulator.page_size = 100
    graph_emulator.throttle_every = 9
    graph_emulator.unavailable_every = 23
    graph_emulator.throttle_every_batch_item = 13

    plan = sync(config, "--json")
    assert plan.returncode == 0, plan.stderr
    report = json.loads(plan.stdout)
    assert report["counts"] == {
        "add": 50,
        "remove": 0,
        "unchanged": 945,
        "kept": 10,
        "unresolved": 5,
    }
    unresolved = [line for line in report["plan"] if line["verdict"] == "unresolved"]
    assert {line["why"] for line in unresolved} == {"no_entra_object_id"}
    assert sorted(line["eid"] for line in unresolved) == sorted(d.eid for d in not_in_entra)
    assert graph_emulator.groups[GROUP_ID] == (wanted - removed_by_hand) | strangers  # a plan

    applied = sync(config, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert graph_emulator.groups[GROUP_ID] == wanted | strangers  # foreign members kept
    assert "50 added" in applied.stdout and "945 recorded_unchanged" in applied.stdout
    assert sorted(
        ledger_rows(tmp_path, "SELECT action, outcome, COUNT(*) FROM group_changes GROUP BY 1, 2")
    ) == [("add", "added", 50)]
    assert ledger_rows(tmp_path, "SELECT COUNT(*) FROM memberships") == [(995,)]

    # An admin removes fifty others by hand: the sync puts them back, and says why.
    again_removed = {d.object_id for d in in_entra[500:550]}
    graph_emulator.groups[GROUP_ID] -= again_removed
    plan = json.loads(sync(config, "--json").stdout)
    back = [line for line in plan["plan"] if line["verdict"] == "add"]
    assert {line["entra_object_id"] for line in back} == again_removed
    assert {line["why"] for line in back} == {"removed_by_hand"}
    assert sync(config, "--apply").returncode == 0
    assert graph_emulator.groups[GROUP_ID] == wanted | strangers

    before = list(graph_emulator.batch_items)
    second = sync(config, "--apply")
    assert second.returncode == 0, second.stderr
    assert "nothing to change" in second.stdout
    assert graph_emulator.batch_items == before  # no change asked of Graph
    assert graph_emulator.groups[GROUP_ID] == wanted | strangers
    changes = ledger_rows(tmp_path, "SELECT run_id, http_status FROM group_changes")
    assert len(changes) == 100 and {status for _, status in changes} == {204}
    assert len({run for run, _ in changes}) == 2  # each change under the run that made it
    assert graph_emulator.token not in applied.stdout + applied.stderr


def test_pruning_removes_only_what_it_is_told_to(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    shipped = [Device(n) for n in range(1, 6)]
    config = hand_off(tmp_path, shipped, shipped, **graph_config(tmp_path, graph_emulator))
    graph_emulator.devices = [d.entra_device() for d in shipped] + [foreign(1)]
    graph_emulator.groups = {GROUP_ID: {d.object_id for d in shipped} | {foreign(1)["id"]}}
    assert sync(config, "--apply").returncode == 0  # records the five as eidflow's
    # One device is no longer enrolled (seen so by a later reconcile).
    with sqlite3.connect(tmp_path / "ledger.db") as connection:
        connection.execute(
            "UPDATE claims SET intune_state = 'not_enrolled' WHERE eid = ?", (shipped[0].eid,)
        )
    table = sync(config)
    assert table.returncode == 0
    assert (
        "kept" in table.stdout and "no_longer_wanted" in table.stdout and "foreign" in table.stdout
    )
    assert "add --apply" not in table.stdout

    assert sync(config, "--apply").returncode == 0  # nothing is removed without --prune
    assert shipped[0].object_id in graph_emulator.groups[GROUP_ID]

    assert sync(config, "--apply", "--prune").returncode == 0
    assert shipped[0].object_id not in graph_emulator.groups[GROUP_ID]
    assert foreign(1)["id"] in graph_emulator.groups[GROUP_ID]
    assert ledger_rows(
        tmp_path,
        f"SELECT COUNT(*) FROM memberships WHERE entra_object_id = '{shipped[0].object_id}'",
    ) == [(0,)]

    assert sync(config, "--apply", "--prune-foreign").returncode == 0
    assert graph_emulator.groups[GROUP_ID] == {d.object_id for d in shipped[1:]}
    assert ledger_rows(tmp_path, "SELECT action, outcome FROM group_changes ORDER BY id") == [
        ("remove", "removed"),
        ("remove", "removed"),
    ]
    history = eidflow("history", "--config", config, "--json", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    assert "groups-sync" in {run["kind"] for run in json.loads(history.stdout)["runs"]}
    shown = eidflow("show", shipped[0].eid, "--config", config, "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    [change] = json.loads(shown.stdout)["devices"][0]["group_changes"]
    assert (change["action"], change["outcome"], change["group_id"]) == (
        "remove",
        "removed",
        GROUP_ID,
    )
    table = eidflow("show", shipped[0].eid, "--config", config, cwd=tmp_path)
    assert "group changes" in table.stdout and "removed" in table.stdout


def test_a_refused_batch_is_tried_member_by_member(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    shipped = [Device(n) for n in range(1, 8)]
    config = hand_off(tmp_path, shipped, shipped, **graph_config(tmp_path, graph_emulator))
    # One device's Entra object is gone since the hand-off: 404, reported as missing.
    graph_emulator.devices = [d.entra_device() for d in shipped[1:]]
    graph_emulator.groups = {GROUP_ID: set()}
    graph_emulator.refuse_batches = {1}
    done = sync(config, "--apply")
    assert done.returncode == 0, done.stderr
    assert graph_emulator.groups[GROUP_ID] == {d.object_id for d in shipped[1:]}
    assert "6 added" in done.stdout and "1 missing" in done.stdout
    singles = [path for method, path in graph_emulator.log if path.endswith("/members/$ref")]
    assert len(singles) == 7  # each change alone after the refused $batch
    [run_dir] = [line.rsplit("-> ", 1)[1] for line in done.stdout.splitlines() if "-> " in line]
    with (Path(run_dir) / "group-changes.csv").open(encoding="utf-8") as handle:
        outcomes = sorted(row["outcome"] for row in csv.DictReader(handle))
    assert outcomes == ["added"] * 6 + ["missing"]
    assert json.loads((Path(run_dir) / "summary.json").read_text())["kind"] == "groups_sync"


def test_a_change_graph_keeps_refusing_ends_with_exit_3(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    shipped = [Device(1), Device(2)]
    config = hand_off(tmp_path, shipped, shipped, **graph_config(tmp_path, graph_emulator))
    graph_emulator.devices = [d.entra_device() for d in shipped]
    graph_emulator.groups = {GROUP_ID: set()}
    graph_emulator.throttle_batch_items = {1: "0", **{n: "0" for n in range(3, 30)}}
    done = sync(config, "--apply")
    assert done.returncode == 3
    [line] = done.stderr.splitlines()
    assert "1 change(s) to group" in line and "failed" in line and "Traceback" not in done.stderr
    assert ledger_rows(tmp_path, "SELECT outcome, http_status FROM group_changes ORDER BY id") == [
        ("failed", 429),
        ("added", 204),
    ]


@pytest.mark.parametrize(
    ("sections", "flags", "says"),
    [
        ({"entra": {"group_id": ""}}, (), "[entra] group_id is empty"),
        ({}, (), "[graph] is not configured"),
        ({}, ("--operator", "nobody"), "no operator profile"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    tmp_path: Path, sections: dict[str, Any], flags: tuple[str, ...], says: str
) -> None:
    config = hand_off(tmp_path, [Device(1)], [Device(1)], **sections)
    done = sync(config, *flags)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert says in line and "Traceback" not in done.stderr


def test_an_unknown_group_is_named(tmp_path: Path, graph_emulator: GraphEmulator) -> None:
    config = hand_off(tmp_path, [Device(1)], [Device(1)], **graph_config(tmp_path, graph_emulator))
    done = sync(config)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert f"group {GROUP_ID}: Graph knows no such group" in line


@pytest.mark.postgres
def test_sync_on_a_postgresql_ledger(
    tmp_path: Path, graph_emulator: GraphEmulator, pg_url: str
) -> None:
    shipped = [Device(n) for n in range(1, 26)]
    sections = {**graph_config(tmp_path, graph_emulator), "ledger": {"url": pg_url}}
    config = hand_off(tmp_path, shipped, shipped, **sections)
    graph_emulator.devices = [d.entra_device() for d in shipped]
    graph_emulator.groups = {GROUP_ID: {d.object_id for d in shipped[:3]}}
    done = sync(config, "--apply", "--operator", "operator")
    assert done.returncode == 0, done.stderr
    assert "22 added" in done.stdout and "3 recorded_unchanged" in done.stdout
    assert graph_emulator.groups[GROUP_ID] == {d.object_id for d in shipped}
    assert "nothing to change" in sync(config, "--apply").stdout


def test_a_refused_token_is_one_line_and_never_shown(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    graph = {"base_url": graph_emulator.base_url, "access_token": "expired-secret-token-123"}
    config = hand_off(tmp_path, [Device(1)], [Device(1)], graph=graph)
    graph_emulator.groups = {GROUP_ID: set()}
    done = sync(config, "--apply")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "HTTP 401" in line and "expired-secret-token-123" not in done.stdout + done.stderr


def test_sync_removes_a_retired_pc_without_prune(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    shipped = [Device(n) for n in range(1, 4)]
    config = hand_off(tmp_path, shipped, shipped, **graph_config(tmp_path, graph_emulator))
    graph_emulator.devices = [d.entra_device() for d in shipped]
    graph_emulator.groups = {GROUP_ID: {d.object_id for d in shipped}}
    assert sync(config, "--apply").returncode == 0  # records the three as eidflow's
    retired = eidflow(
        "retire", shipped[0].serial, "--reason", "stolen", "--apply", "--config", config,
        cwd=tmp_path,
    )  # fmt: skip
    assert retired.returncode == 0, retired.stderr

    plan = json.loads(sync(config, "--json").stdout)
    assert plan["counts"]["remove"] == 1
    [line] = [line for line in plan["plan"] if line["verdict"] == "remove"]
    assert (line["entra_object_id"], line["eid"], line["why"]) == (
        shipped[0].object_id,
        shipped[0].eid,
        "retired",
    )
    assert sync(config, "--apply").returncode == 0
    assert graph_emulator.groups[GROUP_ID] == {d.object_id for d in shipped[1:]}
