"""Delivery to S3 over HTTP against moto's server on loopback (tests/s3_server.py)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import boto3

from exporters.config import DeliverySettings, S3Settings
from exporters.delivery import RECEIPT_FILE, deliver, object_prefix
from exporters.files import OutputFile, write_bytes_atomic


def hand_off_files(run_dir: Path, count: int = 3) -> list[OutputFile]:
    files = []
    for number in range(1, count + 1):
        relative = f"operator/acme/acme_{number:03d}.csv"
        data = f"EID\n{number:032d}\n".encode()
        digest = write_bytes_atomic(run_dir / relative, data)
        files.append(OutputFile(path=relative, rows=1, sha256=digest, kind="operator"))
    return files


def s3_client(settings: S3Settings):
    return boto3.client("s3", endpoint_url=settings.endpoint_url, region_name=settings.region)


def keys(settings: S3Settings) -> list[str]:
    listing = s3_client(settings).list_objects_v2(Bucket=settings.bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_delivers_every_file_encrypted_with_checksums_and_receipt_last(
    tmp_path: Path, s3_bucket: S3Settings
) -> None:
    files = hand_off_files(tmp_path)
    delivered = deliver(tmp_path, files, "run-1", DeliverySettings(kind="s3", s3=s3_bucket))

    assert [f.path for f in delivered] == [*(f.path for f in files), RECEIPT_FILE]
    client = s3_client(s3_bucket)
    prefix = object_prefix(s3_bucket, "run-1")
    for output in files:
        head = client.head_object(
            Bucket=s3_bucket.bucket, Key=prefix + output.path, ChecksumMode="ENABLED"
        )
        assert head["ServerSideEncryption"] == "AES256"
        assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(output.sha256)).decode()
        body = client.get_object(Bucket=s3_bucket.bucket, Key=prefix + output.path)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == output.sha256
    remote = json.loads(
        client.get_object(Bucket=s3_bucket.bucket, Key=prefix + RECEIPT_FILE)["Body"].read()
    )
    local = json.loads((tmp_path / RECEIPT_FILE).read_text())
    assert remote == local
    assert local["run_id"] == "run-1"
    assert [(f["path"], f["rows"], f["sha256"]) for f in local["files"]] == [
        (f.path, f.rows, f.sha256) for f in files
    ]
