"""Static-group membership through Graph: read who is in, add only the difference.

Each add is ``POST /groups/{id}/members/$ref`` inside a ``$batch`` of at most 20. Graph's
answers: 204 added; 400 "One or more added object references already exist" is already a
member (success); 404 the object does not exist (reported as missing); anything else failed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from eidflow.graph.client import BATCH_LIMIT, GraphClient
from eidflow.graph.config import GRAPH_RESOURCE

log = logging.getLogger(__name__)
ALREADY_EXISTS = "One or more added object references already exist"


@dataclass(frozen=True)
class MembershipResult:
    """What an apply did to one group, by Entra object id."""

    group_id: str
    added: tuple[str, ...] = ()
    already_members: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # no such directory object (404)
    failed: dict[str, str] = field(default_factory=dict)  # object id → "HTTP status: message"

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def members(self) -> tuple[str, ...]:
        """Object ids that are in the group now."""
        return self.added + self.already_members

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "already_members": len(self.already_members),
            "missing": len(self.missing),
            "failed": len(self.failed),
        }


def current_members(client: GraphClient, group_id: str) -> set[str]:
    """Object ids of the devices in the group now (paged)."""
    items = client.iter_values(
        f"/v1.0/groups/{group_id}/members/microsoft.graph.device", params={"$select": "id"}
    )
    return {str(item["id"]).lower() for item in items}


def add_members(client: GraphClient, group_id: str, object_ids: Iterable[str]) -> MembershipResult:
    """Add the devices not yet in the group; each id ends in exactly one field of the result."""
    wanted = list(dict.fromkeys(oid.strip().lower() for oid in object_ids if oid.strip()))
    present = current_members(client, group_id)
    to_add = [oid for oid in wanted if oid not in present]
    added: list[str] = []
    already = [oid for oid in wanted if oid in present]
    missing: list[str] = []
    failed: dict[str, str] = {}
    for start in range(0, len(to_add), BATCH_LIMIT):
        chunk = to_add[start : start + BATCH_LIMIT]
        requests = [
            {
                "id": str(index),
                "method": "POST",
                "url": f"/groups/{group_id}/members/$ref",
                "body": {"@odata.id": f"{GRAPH_RESOURCE}/v1.0/directoryObjects/{oid}"},
            }
            for index, oid in enumerate(chunk)
        ]
        answers = client.batch(requests)
        for index, oid in enumerate(chunk):
            answer = answers.get(str(index))
            if answer is None:
                failed[oid] = "no answer in the $batch response"
            elif answer.status == 204:
                added.append(oid)
            elif answer.status == 400 and ALREADY_EXISTS in answer.message:
                already.append(oid)
            elif answer.status == 404:
                missing.append(oid)
            else:
                failed[oid] = f"HTTP {answer.status}: {answer.message}"
    result = MembershipResult(group_id, tuple(added), tuple(already), tuple(missing), failed)
    log.info("group %s: %s", group_id, result.counts())
    return result
