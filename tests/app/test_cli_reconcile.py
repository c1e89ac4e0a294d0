"""``eidflow reconcile`` and ``eidflow groups mark-imported``: the daily re-reconciliation
without Prefect; devices stop coming back once their memberships are recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from app.pipeline import IngestRequest, run_ingest
from app.settings import load_settings
from eidflow.s3 import S3Settings
from tests.cli import eidflow
from tests.flows.tenant import (
    ANSWER_FILES,
    GROUP_ID,
    OPERATOR,
    SAMPLES,
    Device,
    entra_export_csv,
    intune_export_csv,
    manifest_csv,
    samples_ingested,
    write_config,
)
from tests.graph_emulator import GraphEmulator, graph_emulator
from tests.s3_server import aws_credentials, moto_server, s3_bucket, s3_endpoint

__all__ = ["aws_credentials", "graph_emulator", "moto_server", "s3_bucket", "s3_endpoint"]

SHIPPED = [Device(n) for n in range(21, 25)]
ENROLLED = SHIPPED[:2]


def hand_off(tmp_path: Path, **sections: Any) -> Path:
    config = write_config(tmp_path, **sections)
    (tmp_path / "shipment.csv").write_bytes(manifest_csv(SHIPPED))
    result = run_ingest(IngestRequest([str(tmp_path / "shipment.csv")]), load_settings(config))
    assert result.exit_code == 0
    return config


def run(config: Path, *args: str) -> dict[str, Any]:
    done = eidflow("reconcile", "--config", config, "--json", *args, cwd=config.parent)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    outcome: dict[str, Any] = json.loads(done.stdout)
    return outcome


def listed(run_dir: str) -> list[str]:
    lines = (Path(run_dir) / "entra" / "group-members.csv").read_text("utf-8-sig").splitlines()
    return sorted(lines[1:])


def test_without_graph_mark_imported_stops_the_devices_coming_back(tmp_path: Path) -> None:
    config = hand_off(tmp_path)
    (tmp_path / "intune.csv").write_bytes(intune_export_csv(ENROLLED))
    (tmp_path / "entra.csv").write_bytes(entra_export_csv(SHIPPED))
    files = (
        "--inventory",
        str(tmp_path / "intune.csv"),
        "--entra-devices",
        str(tmp_path / "entra.csv"),
    )

    first = run(config, *files)
    assert first["pending"] == 4 and first["by_intune_state"] == {"enrolled": 2, "not_enrolled": 2}
    assert listed(first["run_dir"]) == sorted(d.object_id for d in ENROLLED)
    summary = json.loads((Path(first["run_dir"]) / "summary.json").read_text())
    assert summary["kind"] == "reconcile_pending" and summary["group_id"] == GROUP_ID
    again = run(config, *files)
    assert sorted(again["new_members"]) == sorted(d.object_id for d in ENROLLED)  # still new

    marked = eidflow("groups", "mark-imported", first["run_id"], "--config", config, cwd=tmp_path)
    assert marked.returncode == 0, marked.stderr
    assert f"2 member(s) of group {GROUP_ID} recorded" in marked.stdout
    twice = eidflow("groups", "mark-imported", first["run_id"], "--config", config, cwd=tmp_path)
    assert "0 member(s)" in twice.stdout and "2 recorded before" in twice.stdout

    after = run(config, *files)
    assert after["pending"] == 2 and after["new_members"] == []
    assert listed(after["run_dir"]) == []


def test_mark_imported_refuses_an_unknown_run(tmp_path: Path) -> None:
    config = hand_off(tmp_path)
    done = eidflow(
        "groups", "mark-imported", "20260101T000000Z-abcdef", "--config", config, cwd=tmp_path
    )
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "no such run" in line


def test_with_graph_the_memberships_are_applied_and_recorded(
    tmp_path: Path, graph_emulator: GraphEmulator
) -> None:
    graph = {"base_url": graph_emulator.base_url, "access_token": graph_emulator.token}
    config = hand_off(tmp_path, graph=graph)
    graph_emulator.managed_devices = [d.managed_device() for d in ENROLLED]
    graph_emulator.devices = [d.entra_device() for d in SHIPPED]
    graph_emulator.groups = {GROUP_ID: set()}
    graph_emulator.throttle_every = 4

    first = run(config, "--inventory", "graph", "--apply")
    assert sorted(first["recorded_members"]) == sorted(d.object_id for d in ENROLLED)
    assert graph_emulator.groups[GROUP_ID] == {d.object_id for d in ENROLLED}
    assert ("POST", "/beta/deviceManagement/reports/exportJobs") in graph_emulator.log

    graph_emulator.managed_devices = [d.managed_device() for d in SHIPPED]  # all enrolled now
    second = run(config, "--inventory", "graph", "--apply")
    assert second["pending"] == 2
    assert sorted(second["recorded_members"]) == sorted(d.object_id for d in SHIPPED[2:])

    third = run(config, "--inventory", "graph", "--apply")
    assert third["pending"] == 0 and third["new_members"] == []
    assert (Path(third["run_dir"]) / "summary.json").is_file()  # a run folder all the same


def test_reconcile_records_the_answer_files_of_the_answers_inbox(tmp_path: Path) -> None:
    answers = tmp_path / "answers"
    (answers / OPERATOR).mkdir(parents=True)
    shutil.copy(SAMPLES / ANSWER_FILES[0], answers / OPERATOR / ANSWER_FILES[0])
    config = samples_ingested(tmp_path, str(answers))

    outcome = run(config)

    taken = outcome["answers"]
    assert taken["rows"][OPERATOR]["recorded"] == 4  # the CSV alone: 3 accepted, 1 rejected
    assert [Path(path).name for path in taken["archived"]] == [ANSWER_FILES[0]]
    assert (answers / OPERATOR / "archive" / ANSWER_FILES[0]).is_file()
    assert run(config)["answers"]["runs"] == {}  # archived: not read again


def test_a_missing_answers_folder_stops_the_run_and_s3_trouble_does_not(
    tmp_path: Path, s3_bucket: S3Settings
) -> None:
    config = samples_ingested(tmp_path, str(tmp_path / "no-such-folder"))
    done = eidflow("reconcile", "--config", config, cwd=tmp_path)
    assert done.returncode == 2 and "the answers inbox folder does not exist" in done.stderr

    s3 = {"endpoint_url": s3_bucket.endpoint_url, "region": s3_bucket.region}
    flows = {"inventory": str(SAMPLES / "DevicesWithInventory_2026-11-27.csv")}
    flows["answers_inbox"] = "s3://no-such-bucket/answers/"
    write_config(tmp_path, flows=flows, **{"delivery.s3": s3})
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f'[[operators]]\nname = "{OPERATOR}"\n')
    done = eidflow("reconcile", "--config", config, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "could not be read" in done.stderr and "12 pending" in done.stdout
