"""A flow run waits for a ledger that is down for a moment; a wrong ledger URL fails at once."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from flows.ingest import IngestParameters, ingest_manifests
from tests.flows.prefect_server import free_port
from tests.flows.tenant import Device, manifest_csv, write_config
from tests.ledger.test_failures import TcpProxy

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.postgres]


def parameters(tmp_path: Path, ledger_url: str) -> IngestParameters:
    manifest = tmp_path / "ship.csv"
    manifest.write_bytes(manifest_csv([Device(n) for n in range(1, 4)]))
    config = write_config(tmp_path, flows={"ledger_retry_seconds": [2, 2, 2]})
    return IngestParameters(
        manifests=[str(manifest)], config_file=str(config), ledger_url=ledger_url
    )


def test_a_ledger_that_refuses_connections_for_now_is_waited_for(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there yet: connections are refused
    proxies: list[TcpProxy] = []

    def server_back() -> None:
        time.sleep(3)
        proxies.append(TcpProxy(5432, listen_port=port))

    threading.Thread(target=server_back, daemon=True).start()
    caplog.set_level(logging.WARNING, logger="flows")
    url = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    try:
        state = ingest_manifests(parameters(tmp_path, url), return_state=True)
    finally:
        for proxy in proxies:
            proxy.pull()
    assert state.name == "Completed", state.message
    retries = [r.getMessage() for r in caplog.records if "trying again in 2 s" in r.getMessage()]
    assert retries and "cannot reach the ledger" in retries[0]
    result = state.result()
    assert result.summary["counts"]["by_status"] == {"accepted": 3}


def test_a_wrong_ledger_host_is_not_retried(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flows")
    started = time.monotonic()
    state = ingest_manifests(
        parameters(tmp_path, "postgresql://postgres@no-such-host.invalid/test"), return_state=True
    )
    assert state.name == "Failed"
    assert "no-such-host.invalid" in (state.message or "")
    assert not [r for r in caplog.records if "trying again" in r.getMessage()]
    assert time.monotonic() - started < 2 * 2  # not one retry delay spent
