"""watch-inbox under the Prefect harness: new manifests in, archived or quarantined, once."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from prefect.artifacts import Artifact

from eidflow.ledger import open_ledger
from eidflow.s3 import S3Settings
from flows.inbox import inbox_lock
from flows.watch import WatchParameters, watch_inbox
from tests.flows.runs import finished
from tests.flows.tenant import GROUP_ID, Device, manifest_csv, write_config
from tests.s3_server import REGION, S3Proxy

pytestmark = pytest.mark.usefixtures("prefect_harness")

DEVICES = [Device(n) for n in range(1, 4)]


def operator_eids(run_dir: Path) -> list[str]:
    files = sorted((run_dir / "operator").rglob("*.csv"))
    assert files, f"no operator file in {run_dir}"
    eids: list[str] = []
    for path in files:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            eids += [row["EID"] for row in csv.DictReader(handle)]
    return eids


def s3_inbox(
    tmp_path: Path, proxy: S3Proxy, manifests: dict[str, list[Device]], **s3: object
) -> tuple[str, Any, Path]:
    """An S3 inbox behind ``proxy`` holding ``manifests`` (name: its devices), and a config
    whose flows read it through the proxy: ``(bucket, client, config)``."""
    bucket = proxy.settings.bucket
    client = boto3.client("s3", endpoint_url=proxy.settings.endpoint_url, region_name=REGION)
    for name, devices in manifests.items():
        client.put_object(Bucket=bucket, Key=f"inbox/{name}", Body=manifest_csv(devices))
    config = write_config(
        tmp_path,
        flows={"inbox": f"s3://{bucket}/inbox/"},
        **{"delivery.s3": {"endpoint_url": proxy.url, "region": REGION, **s3}},
    )
    return bucket, client, config


def test_good_manifest_handed_off_and_archived_bad_one_quarantined(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = manifest_csv(DEVICES)
    (inbox / "lenovo-4401190.csv").write_bytes(good)
    (inbox / "dell-asn.xlsx").write_bytes(b"this is not a workbook at all\n")
    config = write_config(tmp_path, flows={"inbox": str(inbox)})

    first = finished(
        watch_inbox,
        WatchParameters(config_file=str(config)),
        "Failed",  # a person must look at the quarantined file
        says="1 file(s) quarantined (1 archived, 1 quarantined, 0 left for the next run)",
    )

    assert first.archived == [str(inbox / "archive" / "lenovo-4401190.csv")]
    assert first.quarantined == [str(inbox / "quarantine" / "dell-asn.xlsx")]
    reason = (inbox / "quarantine" / "dell-asn.xlsx.reason.txt").read_text()
    assert "dell-asn.xlsx" in reason and reason.strip()
    assert first.exit_code == 1  # one manifest could not be read
    run_dir = tmp_path / "runs" / first.run_id
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["unreadable"] == [str(inbox / "dell-asn.xlsx")]
    assert sorted(operator_eids(run_dir)) == sorted(d.eid for d in DEVICES)
    assert [p.name for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")] == []

    counts = Artifact.get("watch-inbox-counts")
    assert counts is not None and counts.type == "table"
    rows = json.loads(str(counts.data))
    assert {"dimension": "status", "code": "accepted", "rows": 3} in rows
    handoff = Artifact.get("watch-inbox-handoff")
    assert handoff is not None and first.run_id in str(handoff.data)
    assert "receipt" in str(handoff.data)
    progress = Artifact.get("watch-inbox-progress")
    assert progress is not None and float(str(progress.data)) == 100.0

    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        seen = ledger.manifest_seen(hashlib.sha256(good).hexdigest())
        assert seen is not None and seen.run_id == first.run_id
        assert sorted(ledger.pending_enrollment(GROUP_ID)["eid"]) == sorted(d.eid for d in DEVICES)
    finally:
        ledger.close()

    second = finished(watch_inbox, WatchParameters(config_file=str(config)))
    assert (second.run_id, second.archived, second.quarantined) == ("", [], [])
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [first.run_id]

    # The same bytes dropped again are recognised by their sha256: archived, no second run.
    (inbox / "lenovo-4401190-resent.csv").write_bytes(good)
    third = finished(watch_inbox, WatchParameters(config_file=str(config)))
    assert third.run_id == ""
    assert third.already_processed == [str(inbox / "archive" / "lenovo-4401190-resent.csv")]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [first.run_id]


def test_s3_inbox(tmp_path: Path, s3_bucket: S3Settings) -> None:
    client = boto3.client("s3", endpoint_url=s3_bucket.endpoint_url, region_name=s3_bucket.region)
    client.put_object(Bucket=s3_bucket.bucket, Key="inbox/ship.csv", Body=manifest_csv(DEVICES))
    client.put_object(Bucket=s3_bucket.bucket, Key="inbox/empty.csv", Body=b"")
    config = write_config(
        tmp_path,
        flows={"inbox": f"s3://{s3_bucket.bucket}/inbox/"},
        **{"delivery.s3": {"endpoint_url": s3_bucket.endpoint_url, "region": s3_bucket.region}},
    )

    outcome = finished(
        watch_inbox,
        WatchParameters(config_file=str(config)),
        "Failed",
        says="1 file(s) quarantined",
    )

    assert outcome.archived == [f"s3://{s3_bucket.bucket}/inbox/archive/ship.csv"]
    assert outcome.quarantined == [f"s3://{s3_bucket.bucket}/inbox/quarantine/empty.csv"]
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=s3_bucket.bucket)["Contents"]}
    assert keys == {
        "inbox/archive/ship.csv",
        "inbox/quarantine/empty.csv",
        "inbox/quarantine/empty.csv.reason.txt",
    }
    run_dir = tmp_path / "runs" / outcome.run_id
    assert sorted(operator_eids(run_dir)) == sorted(d.eid for d in DEVICES)


def test_a_manifest_s3_fails_to_serve_for_now_stays_in_the_inbox(
    tmp_path: Path, s3_proxy: S3Proxy
) -> None:
    """Throttled or unavailable is not unreadable: no quarantine, the next run takes it."""
    later = [Device(n) for n in range(10, 12)]
    bucket, client, config = s3_inbox(
        tmp_path, s3_proxy, {"ship.csv": DEVICES, "flaky.csv": later}, max_attempts=2
    )
    s3_proxy.fail_reads_of, s3_proxy.fail_reads_after = "inbox/flaky.csv", 0  # 503 for now

    first = finished(
        watch_inbox,
        WatchParameters(config_file=str(config)),
        "Failed",
        says="1 file(s) unreadable for now, left in the inbox",
    )

    assert first.archived == [f"s3://{bucket}/inbox/archive/ship.csv"]
    assert (first.quarantined, first.left_for_next_run) == ([], [f"s3://{bucket}/inbox/flaky.csv"])
    summary = json.loads((tmp_path / "runs" / first.run_id / "summary.json").read_text())
    assert [item["path"] for item in summary["inputs"]] == [f"s3://{bucket}/inbox/ship.csv"]

    s3_proxy.heal()
    second = finished(watch_inbox, WatchParameters(config_file=str(config)))

    assert second.archived == [f"s3://{bucket}/inbox/archive/flaky.csv"]
    assert sorted(operator_eids(tmp_path / "runs" / second.run_id)) == sorted(d.eid for d in later)
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {"inbox/archive/ship.csv", "inbox/archive/flaky.csv"}


def test_a_second_run_while_one_holds_the_inbox_leaves_it_alone(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ship.csv").write_bytes(manifest_csv(DEVICES))
    config = write_config(tmp_path, flows={"inbox": str(inbox)})
    with inbox_lock(str(inbox)) as mine:
        assert mine
        outcome = finished(watch_inbox, WatchParameters(config_file=str(config)))
    assert outcome.skipped_busy and outcome.run_id == ""
    assert (inbox / "ship.csv").is_file() and not (tmp_path / "runs").exists()


def test_each_s3_inbox_object_is_downloaded_once_per_run(tmp_path: Path, s3_proxy: S3Proxy) -> None:
    """Listed, hashed and ingested from one GET; filed away by its ETag (a copy, no GET)."""
    later = [Device(n) for n in range(10, 12)]
    bucket, _, config = s3_inbox(tmp_path, s3_proxy, {"ship.csv": DEVICES, "more.csv": later})

    outcome = finished(watch_inbox, WatchParameters(config_file=str(config)))

    assert sorted(outcome.archived) == [
        f"s3://{bucket}/inbox/archive/more.csv",
        f"s3://{bucket}/inbox/archive/ship.csv",
    ]
    inbox_gets = {path: n for path, n in s3_proxy.gets.items() if "/inbox/" in path}
    assert inbox_gets == {f"/{bucket}/inbox/ship.csv": 1, f"/{bucket}/inbox/more.csv": 1}
    run_dir = tmp_path / "runs" / outcome.run_id
    assert sorted(operator_eids(run_dir)) == sorted(d.eid for d in DEVICES + later)
    summary = json.loads((run_dir / "summary.json").read_text())
    read = {item["path"]: item["sha256"] for item in summary["inputs"]}
    assert (
        read[f"s3://{bucket}/inbox/ship.csv"] == hashlib.sha256(manifest_csv(DEVICES)).hexdigest()
    )
