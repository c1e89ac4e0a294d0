"""Adding devices to a static group through Graph: only the difference, every id accounted for."""

from __future__ import annotations

import pytest

from eidflow.graph import GraphClient, add_members, current_members, static_token
from tests.graph_emulator import GraphEmulator

GROUP = "9f1c2d3e-0000-4000-8000-00000000aaaa"


def oid(n: int) -> str:
    return f"{n:08d}-0000-4000-8000-000000000000"


def tenant(emulator: GraphEmulator, devices: int, members: set[str]) -> None:
    emulator.devices = [
        {"id": oid(n), "deviceId": f"d{n}", "displayName": f"PC{n}"} for n in range(devices)
    ]
    emulator.groups = {GROUP: set(members)}


def client(emulator: GraphEmulator, waits: list[float] | None = None) -> GraphClient:
    sleep = (waits if waits is not None else []).append
    return GraphClient(static_token(emulator.token), base_url=emulator.base_url, sleep=sleep)


def test_current_members_pages_through_the_group(graph_emulator: GraphEmulator) -> None:
    tenant(graph_emulator, 5, {oid(n) for n in range(5)})
    with client(graph_emulator) as graph:
        assert current_members(graph, GROUP) == {oid(n) for n in range(5)}
    assert len(graph_emulator.log) == 3  # page size 2


def test_adds_only_the_difference(graph_emulator: GraphEmulator) -> None:
    tenant(graph_emulator, 4, {oid(0)})
    with client(graph_emulator) as graph:
        result = add_members(graph, GROUP, [oid(0), oid(1), oid(2).upper(), oid(1)])
    assert result.added == (oid(1), oid(2))
    assert result.already_members == (oid(0),)
    assert result.missing == ()
    assert result.ok
    assert graph_emulator.groups[GROUP] == {oid(0), oid(1), oid(2)}
    assert [url for _, url in graph_emulator.batch_items] == [f"/groups/{GROUP}/members/$ref"] * 2


def test_already_a_member_answer_counts_as_success(graph_emulator: GraphEmulator) -> None:
    # The listing lags behind the directory: Graph answers 400 "already exist" on the add.
    tenant(graph_emulator, 3, {oid(1)})
    graph_emulator.unlisted_members = {oid(1)}
    with client(graph_emulator) as graph:
        result = add_members(graph, GROUP, [oid(1), oid(2)])
    assert result.added == (oid(2),)
    assert result.already_members == (oid(1),)
    assert result.ok


def test_unknown_object_is_reported_missing(graph_emulator: GraphEmulator) -> None:
    tenant(graph_emulator, 2, set())
    with client(graph_emulator) as graph:
        result = add_members(graph, GROUP, [oid(1), oid(77)])
    assert result.added == (oid(1),)
    assert result.missing == (oid(77),)
    assert result.ok
    assert graph_emulator.groups[GROUP] == {oid(1)}


@pytest.mark.parametrize(("wanted", "batches"), [(1, 1), (20, 1), (21, 2), (45, 3)])
def test_batches_hold_at_most_twenty_requests(
    graph_emulator: GraphEmulator, wanted: int, batches: int
) -> None:
    tenant(graph_emulator, wanted, set())
    graph_emulator.page_size = 100
    with client(graph_emulator) as graph:
        result = add_members(graph, GROUP, [oid(n) for n in range(wanted)])
    assert len(result.added) == wanted
    assert graph_emulator.log.count(("POST", "/v1.0/$batch")) == batches
    assert graph_emulator.groups[GROUP] == {oid(n) for n in range(wanted)}


def test_throttled_requests_inside_a_batch_are_sent_again_alone(
    graph_emulator: GraphEmulator,
) -> None:
    tenant(graph_emulator, 5, set())
    graph_emulator.throttle_batch_items = {2: "0.5", 4: "1.25"}
    waits: list[float] = []
    with client(graph_emulator, waits) as graph:
        result = add_members(graph, GROUP, [oid(n) for n in range(5)])
    assert sorted(result.added) == [oid(n) for n in range(5)]
    assert waits == [1.25]  # the longest Retry-After of the throttled items
    assert len(graph_emulator.batch_items) == 5 + 2  # only the two throttled ones again
    assert graph_emulator.groups[GROUP] == {oid(n) for n in range(5)}


def test_a_request_throttled_every_time_ends_failed(graph_emulator: GraphEmulator) -> None:
    tenant(graph_emulator, 2, set())
    # Item 1 is oid(0); when retried it is alone, so it is items 3, 4, 5, ... in turn.
    graph_emulator.throttle_batch_items = {1: "0.1", **{n: "0.1" for n in range(3, 20)}}
    with client(graph_emulator) as graph:
        result = add_members(graph, GROUP, [oid(0), oid(1)])
    assert result.added == (oid(1),)
    assert list(result.failed) == [oid(0)]
    assert "429" in result.failed[oid(0)]
    assert not result.ok
