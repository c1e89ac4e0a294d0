"""Exactly once across hosts: one ledger, one delivery target, no shared files.

Host A's ``eidflow ingest`` is killed with SIGKILL at each step boundary; host B (its own
working folder, config and run root; A's folder gone from its sight) runs the same
manifest. What the operator received is counted from the receipts at the target only:
every valid EID exactly once, none lost. Once with a PostgreSQL ledger and S3 (moto's
server on loopback), once on one host with a SQLite ledger and an outbox folder.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import boto3
import pytest

from eidflow.s3 import S3Settings
from tests.cli import user_env
from tests.ledger.helpers import eid
from tests.s3_server import aws_credentials, moto_server, s3_bucket, s3_endpoint

__all__ = ["aws_credentials", "moto_server", "s3_bucket", "s3_endpoint"]

DEVICES = 120

# The child is ``eidflow`` with one function wrapped to SIGKILL the process at a boundary.
KILLED_AT = """
import os, signal, sys
from app import cli, pipeline
from exporters import delivery

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

def before(module, name):
    original = getattr(module, name)
    def wrapped(*args, **kwargs):
        kill()
    setattr(module, name, wrapped)

def after(module, name, calls=1):
    original = getattr(module, name)
    seen = []
    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        seen.append(1)
        if len(seen) >= calls:
            kill()
        return result
    setattr(module, name, wrapped)

def committed_then_killed(ledger, *args, **kwargs):
    ledger._await_claim()  # the claim written in the background has committed
    kill()

step = sys.argv.pop(1)
if step == "during-claim":  # the verdict is out, the files being written; no claim is in
    from eidflow.ledger import claims
    before(claims, "write")
elif step == "after-claim":  # claims committed, files in the run folder, none delivered
    from eidflow.ledger.sql import SqlLedger
    SqlLedger.start_delivery = committed_then_killed
elif step == "during-upload":
    after(delivery, "_put")  # the first object is there, the others and the receipt not
elif step == "during-copy":
    after(delivery, "_copy_verified")
elif step == "after-receipt":  # in S3
    after(delivery, "_put_receipt")
elif step == "after-outbox-receipt":  # the first file written by the delivery: that receipt
    after(delivery, "write_bytes_atomic")
elif step == "before-summary":
    before(pipeline, "write_summary")
cli.main(sys.argv[1:])
"""
STEPS = ["during-claim", "after-claim", "during-upload", "after-receipt", "before-summary"]


def write_manifest(path: Path) -> set[str]:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["EID", "Serial Number", "Model"])
        for number in range(DEVICES):
            writer.writerow([eid(number), f"SN{number:06d}", "Laptop 7"])
        bad = eid(0)[:-1] + str((int(eid(0)[-1]) + 1) % 10)  # a wrong check digit
        writer.writerow([bad, "SN-BAD", "Laptop 7"])
    return {eid(number) for number in range(DEVICES)}


def host(root: Path, name: str, config: str) -> Path:
    """A host's working folder with its eidflow.toml; nothing in it is shared."""
    folder = root / name
    folder.mkdir()
    (folder / "eidflow.toml").write_text(config, encoding="utf-8")
    return folder


def ingest(folder: Path, manifest: Path, *, killed_at: str = "") -> int:
    prefix = (
        [sys.executable, "-c", KILLED_AT, killed_at]
        if killed_at
        else [sys.executable, "-m", "eidflow"]
    )
    done = subprocess.run(
        [*prefix, "ingest", str(manifest), "--config", "eidflow.toml"],
        cwd=folder,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


def receipts_in_s3(store: S3Settings) -> Counter[str]:
    """EIDs in the operator files of every delivery whose receipt is in the bucket."""
    client = boto3.client("s3", endpoint_url=store.endpoint_url, region_name=store.region)
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=store.bucket).get("Contents", [])]
    handed: Counter[str] = Counter()
    for receipt in (key for key in keys if key.endswith("/receipt.json")):
        prefix = receipt.removesuffix("receipt.json")
        body = json.loads(client.get_object(Bucket=store.bucket, Key=receipt)["Body"].read())
        for entry in body["files"]:
            if entry["kind"] == "operator":
                data = client.get_object(Bucket=store.bucket, Key=prefix + entry["path"])["Body"]
                handed.update(
                    row["EID"] for row in csv.DictReader(io.StringIO(data.read().decode()))
                )
    return handed


def receipts_in_outbox(outbox: Path) -> Counter[str]:
    handed: Counter[str] = Counter()
    for receipt in outbox.glob("*/receipt.json"):
        for entry in json.loads(receipt.read_text())["files"]:
            if entry["kind"] == "operator":
                with (receipt.parent / entry["path"]).open(encoding="utf-8", newline="") as handle:
                    handed.update(row["EID"] for row in csv.DictReader(handle))
    return handed


def assert_exactly_once(handed: Counter[str], expected: set[str]) -> None:
    assert sorted(e for e, n in handed.items() if n > 1) == [], "handed off twice"
    assert set(handed) == expected, f"lost: {sorted(expected - set(handed))[:3]}"


@pytest.mark.postgres
@pytest.mark.parametrize("step", STEPS)
def test_two_hosts_one_postgresql_ledger_one_bucket(
    step: str, tmp_path: Path, pg_url: str, s3_bucket: S3Settings
) -> None:
    config = (
        f'[ledger]\nurl = "{pg_url}"\n[delivery]\nkind = "s3"\n[delivery.s3]\n'
        f'bucket = "{s3_bucket.bucket}"\nprefix = "handoff"\nregion = "{s3_bucket.region}"\n'
        f'endpoint_url = "{s3_bucket.endpoint_url}"\nmax_attempts = 2\n'
    )
    host_a, host_b = host(tmp_path, "host-a", config), host(tmp_path, "host-b", config)
    expected = write_manifest(host_a / "shipment.csv")
    shutil.copy(host_a / "shipment.csv", host_b / "shipment.csv")

    assert ingest(host_a, host_a / "shipment.csv", killed_at=step) == -signal.SIGKILL
    host_a.rename(tmp_path / "host-a-unreachable")  # host B never sees A's files
    assert ingest(host_b, host_b / "shipment.csv") == 0
    assert_exactly_once(receipts_in_s3(s3_bucket), expected)


@pytest.mark.parametrize(
    "step", ["during-claim", "after-claim", "during-copy", "after-outbox-receipt", "before-summary"]
)
def test_one_host_sqlite_ledger_outbox_folder(step: str, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    config = (
        f'[ledger]\nurl = "sqlite:///{tmp_path / "ledger.db"}"\n[delivery]\nfolder = "{outbox}"\n'
    )
    first, second = host(tmp_path, "work-1", config), host(tmp_path, "work-2", config)
    expected = write_manifest(tmp_path / "shipment.csv")

    assert ingest(first, tmp_path / "shipment.csv", killed_at=step) == -signal.SIGKILL
    assert ingest(second, tmp_path / "shipment.csv") == 0
    assert_exactly_once(receipts_in_outbox(outbox), expected)
