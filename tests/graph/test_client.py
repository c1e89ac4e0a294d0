"""The Graph client against the emulator: paging, throttling, errors, tokens."""

from __future__ import annotations

import pytest

from eidflow.graph import GraphAccessDenied, GraphClient, GraphError, static_token
from eidflow.graph.client import parse_retry_after
from tests.graph_emulator import GraphEmulator


def client_for(emulator: GraphEmulator, waits: list[float], **kwargs: object) -> GraphClient:
    return GraphClient(
        static_token(emulator.token), base_url=emulator.base_url, sleep=waits.append, **kwargs
    )  # type: ignore[arg-type]


def entra(count: int) -> list[dict[str, str]]:
    return [
        {
            "id": f"0000000{n}-aaaa-4aaa-8aaa-00000000000{n}",
            "deviceId": f"d{n}",
            "displayName": f"PC{n}",
        }
        for n in range(count)
    ]


def test_follows_next_link_to_the_last_page(graph_emulator: GraphEmulator) -> None:
    graph_emulator.devices = entra(5)
    graph_emulator.page_size = 2
    with client_for(graph_emulator, []) as client:
        items = list(client.iter_values("/v1.0/devices", params={"$select": "id,deviceId"}))
    assert [item["deviceId"] for item in items] == ["d0", "d1", "d2", "d3", "d4"]
    assert all(set(item) == {"id", "deviceId"} for item in items)
    assert len(graph_emulator.log) == 3


@pytest.mark.parametrize("retry_after", ["0.25", "2", "1.5"])
def test_throttled_request_waits_retry_after_then_succeeds(
    graph_emulator: GraphEmulator, retry_after: str
) -> None:
    graph_emulator.devices = entra(3)
    graph_emulator.throttle_requests = {2: retry_after}  # the second page
    waits: list[float] = []
    with client_for(graph_emulator, waits) as client:
        items = list(client.iter_values("/v1.0/devices"))
    assert len(items) == 3
    assert waits == [float(retry_after)]
    assert graph_emulator.log[1] == graph_emulator.log[2]  # the same page asked again


def test_retry_after_is_capped(graph_emulator: GraphEmulator) -> None:
    graph_emulator.throttle_requests = {1: "3600"}
    waits: list[float] = []
    with client_for(graph_emulator, waits, max_retry_wait_seconds=5.0) as client:
        list(client.iter_values("/v1.0/devices"))
    assert waits == [5.0]


def test_gives_up_after_max_attempts(graph_emulator: GraphEmulator) -> None:
    graph_emulator.throttle_requests = {n: "0.1" for n in range(1, 10)}
    waits: list[float] = []
    with (
        client_for(graph_emulator, waits, max_attempts=3) as client,
        pytest.raises(GraphError) as caught,
    ):
        list(client.iter_values("/v1.0/devices"))
    assert caught.value.status == 429
    assert len(graph_emulator.log) == 3
    assert waits == [0.1, 0.1]


def test_wrong_token_is_an_error_naming_the_status_not_the_token(
    graph_emulator: GraphEmulator,
) -> None:
    client = GraphClient(static_token("wrong-secret-token"), base_url=graph_emulator.base_url)
    with client, pytest.raises(GraphError) as caught:
        list(client.iter_values("/v1.0/devices"))
    assert caught.value.status == 401
    assert isinstance(caught.value, GraphAccessDenied)  # a ConfigError: not worth retrying
    assert "GroupMember.ReadWrite.All" in str(caught.value)
    assert "wrong-secret-token" not in str(caught.value)
    assert "/v1.0/devices" in str(caught.value)


def test_no_server_is_a_graph_error() -> None:
    waits: list[float] = []
    client = GraphClient(
        static_token("t"), base_url="http://127.0.0.1:9", max_attempts=2, sleep=waits.append
    )
    with client, pytest.raises(GraphError) as caught:
        client.request("GET", "/v1.0/devices")
    assert caught.value.status == 0
    assert len(waits) == 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), (None, None), ("nan", None)],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds
