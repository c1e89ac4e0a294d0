"""Asking the ledger: the runs and manifests it holds, and the story of one device.

Read-only; answers are plain dicts and lists, ready for a table or for JSON.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, text

from eidflow.identifiers import eid as eid_rules
from eidflow.ledger import bulk


def iso(value: Any) -> str:
    """A stored time as ISO 8601 UTC text ("" when empty)."""
    if value is None or value == "":
        return ""
    return bulk.as_datetime(value).isoformat(timespec="seconds")


def _rows(connection: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    statement = text(sql)
    if "ids" in params:
        statement = statement.bindparams(bindparam("ids", expanding=True))
    result = connection.execute(statement, params)
    return [
        {key: iso(value) if isinstance(value, datetime) else value for key, value in row.items()}
        for row in result.mappings()
    ]


def find_eids(connection: Connection, key: str) -> list[str]:
    """The EIDs a person means by ``key``: an EID as typed or printed, or a serial number."""
    compact = eid_rules.compact(key)
    if len(compact) == eid_rules.LENGTH and compact.isdigit():
        found = connection.execute(
            text(
                "SELECT eid FROM devices WHERE eid = :eid"
                " UNION SELECT eid FROM handoffs WHERE eid = :eid"
            ),
            {"eid": compact},
        )
    else:
        found = connection.execute(
            text(
                "SELECT eid FROM devices WHERE UPPER(serial_number) = :serial"
                " UNION SELECT eid FROM handoffs WHERE UPPER(serial_number) = :serial"
            ),
            {"serial": key.strip().upper()},
        )
    return sorted(row[0] for row in found)


def device_story(connection: Connection, eid: str) -> dict[str, Any]:
    """Where a device came from, its hand-offs, its Intune states and its group memberships."""
    devices = _rows(
        connection,
        "SELECT d.*, m.sha256 AS manifest_sha256 FROM devices d LEFT JOIN manifests m"
        " ON m.run_id = d.first_run AND m.name = d.source_file WHERE d.eid = :eid",
        eid=eid,
    )
    device = devices[0] if devices else {"eid": eid}
    for key in ("first_seen_at", "state_at"):
        if key in device:
            device[key] = iso(device[key])
    handoffs = _rows(
        connection,
        "SELECT operator, run_id, state, serial_number, source_file, row, file, staged_at,"
        " delivered_at, released_at, resend_reason, requested_by FROM handoffs"
        " WHERE eid = :eid ORDER BY staged_at, id",
        eid=eid,
    )
    states = _rows(
        connection,
        "SELECT recorded_at, run_id, intune_state, entra_object_id FROM device_states"
        " WHERE eid = :eid ORDER BY recorded_at, id",
        eid=eid,
    )
    if device.get("state_at"):  # the current state, after the ones before it
        states.append(
            {
                "recorded_at": device["state_at"],
                "run_id": device.get("state_run", ""),
                "intune_state": device.get("intune_state", ""),
                "entra_object_id": device.get("entra_object_id", ""),
            }
        )
    groups = _rows(
        connection,
        "SELECT group_id, entra_object_id, added_at, run_id FROM memberships"
        " WHERE eid = :eid ORDER BY added_at, id",
        eid=eid,
    )
    for line in (*handoffs, *states, *groups):
        for key in ("staged_at", "delivered_at", "released_at", "recorded_at", "added_at"):
            if key in line:
                line[key] = iso(line[key])
    return {"device": device, "handoffs": handoffs, "intune_states": states, "groups": groups}


def history(connection: Connection, limit: int) -> list[dict[str, Any]]:
    """The latest runs, newest first: manifests received and hand-offs by operator and state."""
    runs = _rows(
        connection,
        "SELECT run_id, kind, state, started_at, finished_at, host, run_dir, error, counts"
        " FROM runs ORDER BY started_at DESC, run_id DESC LIMIT :limit",
        limit=limit,
    )
    ids = sorted({run["run_id"] for run in runs}) or [""]
    manifests: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in _rows(
        connection,
        "SELECT run_id, name, sha256, rows, outcome, received_at FROM manifests"
        " WHERE run_id IN :ids ORDER BY id",
        ids=ids,
    ):
        manifests[line.pop("run_id")].append(line | {"received_at": iso(line["received_at"])})
    handoffs: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for line in _rows(
        connection,
        "SELECT run_id, operator, CASE WHEN resend_reason = '' THEN state ELSE 'resent' END"
        " AS state, COUNT(*) AS n FROM handoffs WHERE run_id IN :ids GROUP BY run_id, operator,"
        " CASE WHEN resend_reason = '' THEN state ELSE 'resent' END",
        ids=ids,
    ):
        handoffs[line["run_id"]][line["operator"]][line["state"]] = int(line["n"])
    for run in runs:
        run["started_at"], run["finished_at"] = iso(run["started_at"]), iso(run["finished_at"])
        run["counts"] = json.loads(run["counts"]) if run["counts"] else {}
        run["manifests"] = manifests.get(run["run_id"], [])
        run["handoffs"] = {name: dict(states) for name, states in handoffs[run["run_id"]].items()}
    return runs
