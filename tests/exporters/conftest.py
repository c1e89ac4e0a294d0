"""Fixtures for the exporters' tests: S3 on loopback, and hand-off/decision frames."""

from __future__ import annotations

from tests.s3_server import aws_credentials, moto_server, s3_bucket, s3_endpoint, s3_proxy

__all__ = ["aws_credentials", "moto_server", "s3_bucket", "s3_endpoint", "s3_proxy"]
