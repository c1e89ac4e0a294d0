"""Manifests from S3: bytes back, or a ManifestError naming the URL like a missing local file."""

from __future__ import annotations

import boto3
import pytest

from app.settings import Settings
from eidflow.errors import ManifestError
from eidflow.s3 import S3Settings, parse_url, read_object
from exporters.config import DeliverySettings
from tests.s3_server import S3Proxy


def test_reads_the_object(s3_bucket: S3Settings) -> None:
    client = boto3.client("s3", endpoint_url=s3_bucket.endpoint_url, region_name=s3_bucket.region)
    client.put_object(Bucket=s3_bucket.bucket, Key="in/dell 0309.csv", Body=b"EID,Serial\n")
    url = f"s3://{s3_bucket.bucket}/in/dell 0309.csv"
    assert read_object(url, s3_bucket) == b"EID,Serial\n"
    # the whole settings object works too: its [delivery.s3] gives endpoint and region
    settings = Settings(delivery=DeliverySettings(s3=s3_bucket))
    assert read_object(url, settings) == b"EID,Serial\n"


@pytest.mark.parametrize(
    ("key", "bucket", "what"),
    [("in/missing.csv", None, "file not found"), ("in/x.csv", "no-such-bucket", "no such bucket")],
)
def test_missing_object_or_bucket(
    s3_bucket: S3Settings, key: str, bucket: str | None, what: str
) -> None:
    url = f"s3://{bucket or s3_bucket.bucket}/{key}"
    with pytest.raises(ManifestError) as caught:
        read_object(url, s3_bucket)
    assert caught.value.file == url
    assert str(caught.value).startswith(f"{url}: {what}.")
    assert not caught.value.transient  # reading it again will not help


def test_access_denied(s3_proxy: S3Proxy) -> None:
    s3_proxy.deny_reads = True
    url = f"s3://{s3_proxy.settings.bucket}/in/x.csv"
    with pytest.raises(ManifestError, match="access denied") as caught:
        read_object(url, s3_proxy.settings)
    assert "s3:GetObject" in caught.value.todo
    assert not caught.value.transient


def test_unreachable_store(s3_bucket: S3Settings) -> None:
    settings = s3_bucket.model_copy(
        update={"endpoint_url": "http://127.0.0.1:9", "max_attempts": 1}
    )
    with pytest.raises(ManifestError, match="could not read from S3") as caught:
        read_object(f"s3://{s3_bucket.bucket}/in/x.csv", settings)
    assert caught.value.transient  # the network may come back


def test_throttled_read_may_pass(s3_proxy: S3Proxy) -> None:
    s3_proxy.fail_reads_of = "in/x.csv"
    url = f"s3://{s3_proxy.settings.bucket}/in/x.csv"
    with pytest.raises(ManifestError, match="SlowDown") as caught:
        read_object(url, s3_proxy.settings)
    assert caught.value.transient and caught.value.todo == "Retry later."


@pytest.mark.parametrize("url", ["s3://", "s3://bucket", "s3://bucket/", "https://bucket/key"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_url(url)
    with pytest.raises(ManifestError, match=r"s3://bucket/path/file\.csv"):
        read_object(url, S3Settings())


def test_parse_url() -> None:
    assert parse_url("s3://bucket/in/a b.csv") == ("bucket", "in/a b.csv")
