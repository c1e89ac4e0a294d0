"""Delivery to S3 over HTTP against moto's server on loopback (tests/s3_server.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import boto3
import pytest

from eidflow.errors import DeliveryError
from eidflow.s3 import S3Settings
from exporters.config import DeliverySettings
from exporters.delivery import RECEIPT_FILE, deliver, destination_of, object_prefix, receipt_at
from exporters.files import OutputFile, write_bytes_atomic
from tests.s3_server import S3Proxy


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

    assert [(f.path, f.kind, f.rows) for f in delivered] == [(RECEIPT_FILE, "receipt", len(files))]
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


def test_kms_encryption_with_key_id(tmp_path: Path, s3_bucket: S3Settings) -> None:
    kms = boto3.client("kms", endpoint_url=s3_bucket.endpoint_url, region_name=s3_bucket.region)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    settings = s3_bucket.model_copy(update={"sse": "aws:kms", "kms_key_id": key_id})
    [output] = hand_off_files(tmp_path, 1)
    deliver(tmp_path, [output], "run-1", DeliverySettings(kind="s3", s3=settings))
    head = s3_client(settings).head_object(
        Bucket=settings.bucket, Key=object_prefix(settings, "run-1") + output.path
    )
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]


def test_delivering_the_same_run_again_is_a_no_op(tmp_path: Path, s3_bucket: S3Settings) -> None:
    files = hand_off_files(tmp_path)
    settings = DeliverySettings(kind="s3", s3=s3_bucket)
    deliver(tmp_path, files, "run-1", settings)
    before = keys(s3_bucket)
    deliver(tmp_path, files, "run-1", settings)  # 412 on each object, same checksum: done
    assert keys(s3_bucket) == before


def test_never_overwrites_an_object_with_other_content(
    tmp_path: Path, s3_bucket: S3Settings
) -> None:
    [output] = hand_off_files(tmp_path, 1)
    key = object_prefix(s3_bucket, "run-1") + output.path
    s3_client(s3_bucket).put_object(Bucket=s3_bucket.bucket, Key=key, Body=b"someone else's")
    with pytest.raises(DeliveryError, match="already exists with other content") as caught:
        deliver(tmp_path, [output], "run-1", DeliverySettings(kind="s3", s3=s3_bucket))
    assert "Not delivered: operator/acme/acme_001.csv" in str(caught.value)
    body = s3_client(s3_bucket).get_object(Bucket=s3_bucket.bucket, Key=key)["Body"].read()
    assert body == b"someone else's"
    assert not (tmp_path / RECEIPT_FILE).exists()


def test_corrupted_upload_is_caught_by_reading_back(tmp_path: Path, s3_proxy: S3Proxy) -> None:
    """moto stores a body that does not match its checksum; only the client can tell."""
    s3_proxy.corrupt_put_bodies = True
    files = hand_off_files(tmp_path, 2)
    settings = DeliverySettings(
        kind="s3", s3=s3_proxy.settings
    )  # verify=auto: endpoint → read back
    with pytest.raises(
        DeliveryError, match=r"read back (does not match its|with) SHA-256"
    ) as caught:
        deliver(tmp_path, files, "run-1", settings)
    message = str(caught.value)
    assert "Delivered: none" in message
    assert "Not delivered: operator/acme/acme_001.csv, operator/acme/acme_002.csv" in message
    assert RECEIPT_FILE not in " ".join(keys(s3_proxy.settings))
    assert not (tmp_path / RECEIPT_FILE).exists()


def test_checksum_s3_reports_must_equal_ours(tmp_path: Path, s3_proxy: S3Proxy) -> None:
    """With verify=checksum the SHA-256 S3 returns is compared with the one computed here."""
    other = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    s3_proxy.replace_checksum = other
    settings = s3_proxy.settings.model_copy(update={"verify": "checksum"})
    with pytest.raises(DeliveryError, match=re.escape(f"S3 reports SHA-256 {other}")):
        deliver(
            tmp_path, hand_off_files(tmp_path, 1), "run-1", DeliverySettings(kind="s3", s3=settings)
        )
    assert not (tmp_path / RECEIPT_FILE).exists()


def test_uncorrupted_delivery_through_the_proxy_passes_read_back(
    tmp_path: Path, s3_proxy: S3Proxy
) -> None:
    files = hand_off_files(tmp_path, 2)
    deliver(tmp_path, files, "run-1", DeliverySettings(kind="s3", s3=s3_proxy.settings))
    assert (tmp_path / RECEIPT_FILE).exists()


@pytest.mark.parametrize("failure", [500, 503, 0], ids=["500", "503", "connection-dropped"])
def test_server_failing_mid_delivery_then_a_rerun_completes(
    tmp_path: Path, s3_proxy: S3Proxy, failure: int
) -> None:
    files = hand_off_files(tmp_path, 3)
    s3_proxy.fail_puts_after = 1  # the first file arrives, then the server fails for good
    s3_proxy.fail_status = failure
    settings = DeliverySettings(kind="s3", s3=s3_proxy.settings)
    with pytest.raises(DeliveryError) as caught:
        deliver(tmp_path, files, "run-1", settings)
    message = str(caught.value)
    assert "Delivered: operator/acme/acme_001.csv." in message
    assert "Not delivered: operator/acme/acme_002.csv, operator/acme/acme_003.csv" in message
    assert "rerun" in message
    assert s3_proxy.failures >= s3_proxy.settings.max_attempts  # botocore retried before giving up
    assert not (tmp_path / RECEIPT_FILE).exists()
    first_run = keys(s3_proxy.settings)
    assert first_run == ["handoff/run-1/operator/acme/acme_001.csv"]  # no receipt: void

    s3_proxy.heal()
    delivered = deliver(tmp_path, files, "run-2", settings)
    assert delivered[-1].path == RECEIPT_FILE
    after = keys(s3_proxy.settings)
    assert [k for k in after if k.startswith("handoff/run-1/")] == first_run  # untouched
    assert sorted(k for k in after if k.startswith("handoff/run-2/")) == sorted(
        [f"handoff/run-2/{f.path}" for f in files] + ["handoff/run-2/receipt.json"]
    )
    assert json.loads((tmp_path / RECEIPT_FILE).read_text())["run_id"] == "run-2"


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalError"), (503, "SlowDown"), (429, "TooManyRequests")]
)
def test_throttling_and_server_errors_are_retried(
    tmp_path: Path, s3_proxy: S3Proxy, status: int, code: str
) -> None:
    s3_proxy.fail_puts_after = 0
    s3_proxy.fail_limit = 1  # one failure, then healthy
    s3_proxy.fail_status, s3_proxy.fail_code = status, code
    settings = s3_proxy.settings.model_copy(update={"max_attempts": 3})
    deliver(
        tmp_path, hand_off_files(tmp_path, 1), "run-1", DeliverySettings(kind="s3", s3=settings)
    )
    assert s3_proxy.failures == 1
    assert (tmp_path / RECEIPT_FILE).exists()


def test_failure_on_the_receipt_leaves_no_local_receipt(tmp_path: Path, s3_proxy: S3Proxy) -> None:
    files = hand_off_files(tmp_path, 2)
    s3_proxy.fail_puts_after = 2  # both files arrive, the receipt does not
    with pytest.raises(DeliveryError, match=r"Not delivered: receipt\.json"):
        deliver(tmp_path, files, "run-1", DeliverySettings(kind="s3", s3=s3_proxy.settings))
    assert not (tmp_path / RECEIPT_FILE).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_file_changed_after_writing_is_not_delivered(
    tmp_path: Path, s3_bucket: S3Settings
) -> None:
    files = hand_off_files(tmp_path, 2)
    (tmp_path / files[1].path).write_text("EID\n00000000000000000000000000000000\n")
    with pytest.raises(DeliveryError, match="changed after it was written"):
        deliver(tmp_path, files, "run-1", DeliverySettings(kind="s3", s3=s3_bucket))
    assert keys(s3_bucket) == []


def test_unreachable_endpoint_is_a_delivery_error(tmp_path: Path, s3_bucket: S3Settings) -> None:
    settings = s3_bucket.model_copy(
        update={"endpoint_url": "http://127.0.0.1:9", "max_attempts": 1}
    )
    with pytest.raises(DeliveryError, match="Delivered: none"):
        deliver(
            tmp_path, hand_off_files(tmp_path, 1), "run-1", DeliverySettings(kind="s3", s3=settings)
        )


def test_missing_bucket_is_a_delivery_error(tmp_path: Path, s3_bucket: S3Settings) -> None:
    settings = s3_bucket.model_copy(update={"bucket": "no-such-bucket"})
    with pytest.raises(DeliveryError, match="NoSuchBucket"):
        deliver(
            tmp_path, hand_off_files(tmp_path, 1), "run-1", DeliverySettings(kind="s3", s3=settings)
        )


def test_the_receipt_is_found_where_the_run_said_it_delivers(
    tmp_path: Path, s3_bucket: S3Settings
) -> None:
    settings = DeliverySettings(kind="s3", s3=s3_bucket)
    destination = f"s3://{s3_bucket.bucket}/{object_prefix(s3_bucket, 'run-1')}"
    assert destination_of(settings, tmp_path, "run-1") == destination  # the ledger records it
    assert receipt_at(destination, settings) is None
    deliver(tmp_path, hand_off_files(tmp_path, 1), "run-1", settings)
    # asked with another bucket and prefix configured: the destination names its own
    elsewhere = DeliverySettings(
        kind="s3", s3=s3_bucket.model_copy(update={"bucket": "other", "prefix": "x"})
    )
    receipt = receipt_at(destination, elsewhere)
    assert receipt is not None and receipt["run_id"] == "run-1"
    assert receipt_at(destination.replace("run-1", "run-2"), settings) is None
