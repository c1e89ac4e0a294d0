"""Adding and removing members through $batch: each object id gets one answer."""

from __future__ import annotations

from eidflow.graph import GraphClient, static_token
from eidflow.graph.groups_sync import apply_changes, read_members
from tests.graph_emulator import GraphEmulator

GROUP = "9f1c2d3e-0000-4000-8000-00000000bbbb"


def oid(n: int) -> str:
    return f"{n:08d}-0000-4000-8000-000000000000"


def client(emulator: GraphEmulator, waits: list[float]) -> GraphClient:
    return GraphClient(static_token(emulator.token), base_url=emulator.base_url, sleep=waits.append)


def test_every_answer_is_classified(graph_emulator: GraphEmulator) -> None:
    graph_emulator.devices = [{"id": oid(n), "deviceId": f"d{n}"} for n in range(5)]
    graph_emulator.groups = {GROUP: {oid(0), oid(3)}}
    graph_emulator.unlisted_members = {oid(0)}  # listed late: the add answers "already exist"
    waits: list[float] = []
    with client(graph_emulator, waits) as graph:
        changes = apply_changes(graph, GROUP, [oid(0), oid(1), oid(77)], [oid(3), oid(4)])
        members = read_members(graph, GROUP)
    assert [(c.entra_object_id, c.action, c.outcome, c.http_status) for c in changes] == [
        (oid(0), "add", "already_member", 400),
        (oid(1), "add", "added", 204),
        (oid(77), "add", "missing", 404),
        (oid(3), "remove", "removed", 204),
        (oid(4), "remove", "not_member", 404),
    ]
    assert all(change.ok for change in changes)
    assert members == [{"id": oid(1), "deviceId": "d1"}]


def test_forty_five_changes_take_three_batches_and_throttled_items_are_resent(
    graph_emulator: GraphEmulator,
) -> None:
    graph_emulator.devices = [{"id": oid(n), "deviceId": f"d{n}"} for n in range(45)]
    graph_emulator.groups = {GROUP: set()}
    graph_emulator.throttle_every_batch_item = 7
    graph_emulator.throttle_retry_after = "0.25"
    waits: list[float] = []
    with client(graph_emulator, waits) as graph:
        changes = apply_changes(graph, GROUP, [oid(n) for n in range(45)], [])
    assert {change.outcome for change in changes} == {"added"}
    assert graph_emulator.groups[GROUP] == {oid(n) for n in range(45)}
    assert waits and set(waits) == {0.25}


def test_transient_503_is_retried(graph_emulator: GraphEmulator) -> None:
    graph_emulator.devices = [{"id": oid(1), "deviceId": "d1"}]
    graph_emulator.groups = {GROUP: {oid(1)}}
    graph_emulator.unavailable_every = 2
    waits: list[float] = []
    with client(graph_emulator, waits) as graph:
        assert read_members(graph, GROUP) == [{"id": oid(1), "deviceId": "d1"}]
        assert [c.outcome for c in apply_changes(graph, GROUP, [], [oid(1)])] == ["removed"]
    assert len(waits) >= 1


def test_a_refused_token_fails_the_rest_and_keeps_what_was_done(
    graph_emulator: GraphEmulator,
) -> None:
    graph_emulator.devices = [{"id": oid(n), "deviceId": f"d{n}"} for n in range(25)]
    graph_emulator.groups = {GROUP: set()}
    tokens = iter(["emulator-token"] + ["expired"] * 50)
    waits: list[float] = []
    graph = GraphClient(lambda: next(tokens), base_url=graph_emulator.base_url, sleep=waits.append)
    with graph:
        changes = apply_changes(graph, GROUP, [oid(n) for n in range(25)], [])
    assert [c.outcome for c in changes] == ["added"] * 20 + ["failed"] * 5
    assert {c.http_status for c in changes[20:]} == {401}
    assert "expired" not in changes[-1].answer
