"""Adding and removing static-group members through Graph, every answer kept.

Changes go in ``$batch`` documents of at most 20 (``POST /groups/{id}/members/$ref`` to add,
``DELETE /groups/{id}/members/{objectId}/$ref`` to remove); throttled items are sent again
by the client. A chunk Graph refuses as a whole is tried again member by member. Graph's
answers: 204 done; 400 "already exist" on an add means already a member (success); 404
means no such directory object on an add, not a member on a removal. When Graph refuses
the token or the permissions (401/403), the changes not yet made are failed, not tried: the
caller records what was done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from eidflow.graph.client import BATCH_LIMIT, GraphAccessDenied, GraphClient, GraphError
from eidflow.graph.config import GRAPH_RESOURCE
from eidflow.graph.membership import ALREADY_EXISTS

log = logging.getLogger(__name__)

ADD = "add"
REMOVE = "remove"


@dataclass(frozen=True)
class Change:
    """One member added or removed, and what Graph answered."""

    entra_object_id: str
    action: str  # add | remove
    outcome: str  # added, already_member, missing | removed, not_member | failed
    http_status: int
    answer: str = ""  # Graph's message when it was not a plain success

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"


def read_members(client: GraphClient, group_id: str) -> list[dict[str, str]]:
    """The group's device members now: object id and deviceId (paged)."""
    items = client.iter_values(
        f"/v1.0/groups/{group_id}/members/microsoft.graph.device",
        params={"$select": "id,deviceId"},
    )
    return [
        {"id": str(item.get("id", "")).lower(), "deviceId": str(item.get("deviceId") or "")}
        for item in items
    ]


def apply_changes(
    client: GraphClient, group_id: str, adds: list[str], removes: list[str]
) -> list[Change]:
    """Add ``adds`` and remove ``removes``; one :class:`Change` per object id, in order."""
    wanted = [(ADD, oid) for oid in adds] + [(REMOVE, oid) for oid in removes]
    changes: list[Change] = []
    for start in range(0, len(wanted), BATCH_LIMIT):
        chunk = wanted[start : start + BATCH_LIMIT]
        try:
            answers = client.batch(
                [_request(group_id, action, oid, n) for n, (action, oid) in enumerate(chunk)]
            )
        except GraphAccessDenied as error:  # the token or the permissions: the rest would fail too
            changes += [
                Change(oid, action, "failed", error.status, error.what)
                for action, oid in wanted[start:]
            ]
            break
        except GraphError as error:
            log.warning(
                "a $batch of %d changes was refused (%s); trying each alone",
                len(chunk),
                error.status,
            )
            changes += [_one_by_one(client, group_id, action, oid) for action, oid in chunk]
            continue
        for n, (action, oid) in enumerate(chunk):
            answer = answers.get(str(n))
            if answer is None:
                changes.append(Change(oid, action, "failed", 0, "no answer in the $batch response"))
            else:
                changes.append(_classify(oid, action, answer.status, answer.message))
    return changes


def _one_by_one(client: GraphClient, group_id: str, action: str, oid: str) -> Change:
    request = _request(group_id, action, oid, 0)
    try:
        response = client.request(
            request["method"],
            f"/v1.0{request['url']}",
            **({"json": request["body"]} if "body" in request else {}),
        )
    except GraphError as error:
        return _classify(oid, action, error.status, error.what)
    return _classify(oid, action, response.status_code, "")


def _request(group_id: str, action: str, oid: str, number: int) -> dict[str, Any]:
    if action == ADD:
        return {
            "id": str(number),
            "method": "POST",
            "url": f"/groups/{group_id}/members/$ref",
            "body": {"@odata.id": f"{GRAPH_RESOURCE}/v1.0/directoryObjects/{oid}"},
        }
    return {"id": str(number), "method": "DELETE", "url": f"/groups/{group_id}/members/{oid}/$ref"}


def _classify(oid: str, action: str, status: int, message: str) -> Change:
    if 200 <= status < 300:
        return Change(oid, action, "added" if action == ADD else "removed", status)
    if action == ADD and status == 400 and ALREADY_EXISTS in message:
        return Change(oid, action, "already_member", status, message)
    if status == 404:
        return Change(oid, action, "missing" if action == ADD else "not_member", status, message)
    return Change(oid, action, "failed", status, message)
