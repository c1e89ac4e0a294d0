"""One Prefect test harness for the whole session (about 9 s to start); the Graph emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.databases import pg_server, pg_url
from tests.graph_emulator import graph_emulator
from tests.s3_server import aws_credentials, moto_server, s3_bucket, s3_endpoint, s3_proxy

__all__ = [
    "aws_credentials",
    "graph_emulator",
    "moto_server",
    "pg_server",
    "pg_url",
    "s3_bucket",
    "s3_endpoint",
    "s3_proxy",
]


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect server and database shared by every flow test."""
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield
