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
    assert "eidflow graph check" in str(caught.value)  # which permissions, and which are missing
    assert "wrong-secret-token" not in str(caught.value)
    assert "/v1.0/devices" in str(caught.value)


class RenewingToken:
    """A token provider that hands out ``tokens`` in turn, the next one on each renewal."""

    def __init__(self, *tokens: str) -> None:
        self.tokens, self.renewals = list(tokens), 0

    def __call__(self, *, renew: bool = False) -> str:
        if renew:
            self.renewals += 1
            self.tokens = self.tokens[1:] or self.tokens
        return self.tokens[0]


def test_an_expired_token_is_renewed_once_and_the_request_sent_again(
    graph_emulator: GraphEmulator,
) -> None:
    graph_emulator.devices = entra(3)
    graph_emulator.token, graph_emulator.expired_tokens = "fresh", {"stale"}
    token = RenewingToken("stale", "fresh")
    with GraphClient(token, base_url=graph_emulator.base_url) as client:
        items = list(client.iter_values("/v1.0/devices"))
    assert len(items) == 3
    assert token.renewals == 1
    assert graph_emulator.log[0] == graph_emulator.log[1]  # the first page, asked again
    assert len(graph_emulator.log) == 3  # then the second page, with the new token


def test_a_token_refused_again_once_renewed_fails_saying_the_token_was_refused(
    graph_emulator: GraphEmulator,
) -> None:
    graph_emulator.expired_tokens = {"stale"}
    token = RenewingToken("stale")  # the same token again (a fixed [graph] access_token)
    client = GraphClient(token, base_url=graph_emulator.base_url, sleep=lambda _: None)
    with client, pytest.raises(GraphError) as caught:
        list(client.iter_values("/v1.0/devices"))
    assert (token.renewals, len(graph_emulator.log)) == (1, 2)  # one new token, one retry
    message = str(caught.value)
    assert caught.value.status == 401
    assert "token" in message and "expired" in message and "refused" in message
    assert "permission" not in message.lower() and "client_id" not in message
    assert "stale" not in message


def test_a_refused_token_that_did_not_expire_is_not_renewed(
    graph_emulator: GraphEmulator,
) -> None:
    token = RenewingToken("wrong", "emulator-token")
    with (
        GraphClient(token, base_url=graph_emulator.base_url) as client,
        pytest.raises(GraphAccessDenied),
    ):
        client.request("GET", "/v1.0/devices")
    assert (token.renewals, len(graph_emulator.log)) == (0, 1)


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
