"""Asking the ledger: the runs and manifests it holds, and the story of one device.

Read-only; answers are plain dicts and lists, ready for a table or for JSON. No pandas:
``eidflow history`` and ``show`` start in a fraction of a second.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from eidflow.identifiers import eid as eid_rules
from eidflow.ledger import answer_queries
from eidflow.ledger import states as s
from eidflow.ledger.db import Connection, as_datetime

DESCRIPTIVE = (
    "manufacturer",
    "model",
    "sku",
    "po_number",
    "order_number",
    "asn",
    "ship_date",
    "customer",
)
FINISHED = ", ".join(f"'{state}'" for state in s.FINISHED_STATES)
# A claim's state is its run's: staged while the run is live, delivered once it finished.
CLAIM_STATE = f"CASE WHEN r.state IN ({FINISHED}) THEN '{s.DELIVERED}' ELSE '{s.STAGED}' END"
RESEND_STATE = (
    f"CASE WHEN r.state IN ({FINISHED}) THEN '{s.DELIVERED}'"
    f" WHEN r.state = '{s.LIVE}' THEN '{s.STAGED}' ELSE '{s.RELEASED}' END"
)


def iso(value: Any) -> str:
    """A stored time as ISO 8601 UTC text ("" when empty)."""
    if value is None or value == "":
        return ""
    return as_datetime(value).isoformat(timespec="seconds")


def _rows(
    connection: Connection, sql: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    return [
        {key: iso(value) if isinstance(value, datetime) else value for key, value in row.items()}
        for row in connection.rows(sql, params)
    ]


def find_eids(connection: Connection, key: str) -> list[str]:
    """The EIDs a person means by ``key``: an EID as typed or printed, or a serial number."""
    compact = eid_rules.compact(key)
    if len(compact) == eid_rules.LENGTH and compact.isdigit():
        found = connection.all(
            "SELECT eid FROM claims WHERE eid = :eid UNION SELECT eid FROM released"
            " WHERE eid = :eid UNION SELECT eid FROM resends WHERE eid = :eid",
            {"eid": compact},
        )
    else:
        found = connection.all(
            "SELECT eid FROM serials WHERE serial_number = :serial UNION SELECT eid FROM"
            " released WHERE UPPER(serial_number) = :serial",
            {"serial": key.strip().upper()},
        )
    return sorted(str(row[0]) for row in found)


def device_story(connection: Connection, eid: str) -> dict[str, Any]:
    """Where a device came from, its hand-offs, its Intune states and its group memberships."""
    lines = _claim_lines(connection, eid)
    device = _device(connection, eid, lines)
    handoffs = [_handoff(line) for line in lines] + _resends(connection, eid)
    handoffs.sort(key=lambda line: (line.pop("run_no"), line["operator"]))
    states = _rows(
        connection,
        "SELECT recorded_at, run_id, intune_state, entra_object_id FROM device_states"
        " WHERE eid = :eid ORDER BY recorded_at, id",
        {"eid": eid},
    )
    if device.get("state_run"):  # the current state, after the ones before it
        states.append(
            {
                "recorded_at": device["state_at"],
                "run_id": device["state_run"],
                "intune_state": device.get("intune_state", ""),
                "entra_object_id": device.get("entra_object_id", ""),
            }
        )
    groups = _rows(
        connection,
        "SELECT group_id, entra_object_id, added_at, run_id FROM memberships"
        " WHERE eid = :eid ORDER BY added_at, id",
        {"eid": eid},
    )
    changes = _rows(
        connection,
        "SELECT changed_at, group_id, action, outcome, http_status, run_id FROM group_changes"
        " WHERE eid = :eid ORDER BY id",
        {"eid": eid},
    )
    for line in (*states, *groups, *changes):
        for key in ("recorded_at", "added_at", "changed_at"):
            if key in line:
                line[key] = iso(line[key])
    corrections = _corrections(connection, eid)
    device["retired"] = bool(corrections) and corrections[-1]["action"] == "retire"
    return {
        "device": device,
        "handoffs": handoffs,
        "corrections": corrections,
        "answers": answer_queries.answer_lines(connection, eid),
        "intune_states": states,
        "groups": groups,
        "group_changes": changes,
    }


CLAIM_SELECT = (
    "SELECT c.eid, c.operator, r.run_id, r.run_no, r.state AS run_state, r.started_at, r.finished_at,"
    " r.files, c.serial_number, c.imei, c.row, c.intune_state, c.entra_object_id,"
    " m.name AS source_file, m.sha256 AS manifest_sha256, c.description,"
    " sr.run_id AS state_run, sr.started_at AS state_at, {released} AS released_at,"
    " b.kind AS released_by"
    " FROM {table} c JOIN runs r ON r.run_no = c.run_no"
    " LEFT JOIN manifests m ON m.id = c.manifest LEFT JOIN runs sr ON sr.run_no = c.state_run"
    " LEFT JOIN runs b ON b.run_no = {by} AND {by} > 0"
    " WHERE c.eid = :eid"
)
# A claim given back by a correction: by its run's kind (``released_by``), as shown.
RELEASED_BY = {"void": "voided", "retire": "retired"}


def _claim_lines(connection: Connection, eid: str) -> list[dict[str, Any]]:
    """The device's claims, live and released, oldest run first."""
    live = connection.rows(
        CLAIM_SELECT.format(released="NULL", table="claims", by="0"), {"eid": eid}
    )
    gone = connection.rows(
        CLAIM_SELECT.format(released="c.released_at", table="released", by="c.released_by"),
        {"eid": eid},
    )
    return sorted([*live, *gone], key=lambda line: int(line["run_no"]))


def _device(connection: Connection, eid: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The device as its first live claim saw it (else its latest released one)."""
    live = [line for line in lines if line["released_at"] is None]
    if not lines:
        return {"eid": eid}
    first = live[0] if live else lines[-1]
    current = live[-1] if live else lines[-1]
    device: dict[str, Any] = {
        "eid": eid,
        "serial_number": first["serial_number"],
        "imei": first["imei"],
        "source_file": first["source_file"] or "",
        "row": first["row"],
        "manifest_sha256": first["manifest_sha256"] or "",
        "first_run": first["run_id"],
        "first_seen_at": iso(first["started_at"]),
        "intune_state": current["intune_state"] if live else "",
        "entra_object_id": current["entra_object_id"] if live else "",
        "state_run": (current["state_run"] or "") if live else "",
        "state_at": iso(current["state_at"]) if live else "",
    }
    device |= _description(connection, int(first["description"] or 0))
    return device


def _corrections(connection: Connection, eid: str) -> list[dict[str, Any]]:
    """The device's voids and retirements, oldest first: what, when, why, who, which run."""
    voids = connection.rows(
        "SELECT 'void' AS action, f.started_at AS recorded_at, v.reason, v.requested_by,"
        " f.run_id, o.run_id AS voided_run, v.operator, d.state AS run_state, f.run_no"
        " FROM released x JOIN voids v ON v.voided_run_no = x.run_no"
        " AND v.operator = x.operator AND v.released_by = x.released_by"
        " JOIN runs o ON o.run_no = v.voided_run_no JOIN runs f ON f.run_no = v.released_by"
        " JOIN runs d ON d.run_no = v.run_no WHERE x.eid = :eid",
        {"eid": eid},
    )
    retirements = connection.rows(
        "SELECT t.action, r.started_at AS recorded_at, t.reason, t.requested_by, r.run_id,"
        " '' AS voided_run, '' AS operator, r.state AS run_state, r.run_no"
        " FROM retirements t JOIN runs r ON r.run_no = t.run_no WHERE t.eid = :eid",
        {"eid": eid},
    )
    lines = sorted([*voids, *retirements], key=lambda line: int(line["run_no"]))
    for line in lines:
        line.pop("run_no")
        line["recorded_at"] = iso(line["recorded_at"])
        if line["action"] == "void":  # its withdrawal file: delivered, or still owed
            finished = line.pop("run_state") in s.FINISHED_STATES
            line["withdrawal"] = "delivered" if finished else "owed"
        else:
            line.pop("run_state")
    return lines


def _description(connection: Connection, number: int) -> dict[str, str]:
    if not number:
        return dict.fromkeys(DESCRIPTIVE, "")
    found = connection.rows(
        f"SELECT {', '.join(DESCRIPTIVE)} FROM descriptions WHERE id = :id", {"id": number}
    )
    return found[0] if found else dict.fromkeys(DESCRIPTIVE, "")


def _handoff(line: dict[str, Any]) -> dict[str, Any]:
    finished = line["run_state"] in s.FINISHED_STATES
    released = line["released_at"] is not None
    return {
        "operator": line["operator"],
        "run_id": line["run_id"],
        "run_no": int(line["run_no"]),
        "state": RELEASED_BY.get(line["released_by"] or "", s.RELEASED)
        if released
        else (s.DELIVERED if finished else s.STAGED),
        "serial_number": line["serial_number"],
        "source_file": line["source_file"] or "",
        "row": line["row"],
        "file": _files_for(line["files"], line["operator"]),
        "staged_at": iso(line["started_at"]),
        "delivered_at": iso(line["finished_at"]) if finished and not released else "",
        "released_at": iso(line["released_at"]),
        "resend_reason": "",
        "requested_by": "",
    }


def _resends(connection: Connection, eid: str) -> list[dict[str, Any]]:
    lines = connection.rows(
        f"SELECT x.operator, r.run_id, r.run_no, {RESEND_STATE} AS state, r.started_at, r.finished_at,"
        " r.files, x.reason, x.requested_by FROM resends x JOIN runs r ON r.run_no = x.run_no"
        " WHERE x.eid = :eid ORDER BY x.id",
        {"eid": eid},
    )
    return [
        {
            "operator": line["operator"],
            "run_id": line["run_id"],
            "run_no": int(line["run_no"]),
            "state": line["state"],
            "serial_number": "",
            "source_file": "",
            "row": 0,
            "file": _files_for(line["files"], line["operator"]),
            "staged_at": iso(line["started_at"]),
            "delivered_at": iso(line["finished_at"]) if line["state"] == s.DELIVERED else "",
            "released_at": iso(line["finished_at"]) if line["state"] == s.RELEASED else "",
            "resend_reason": line["reason"],
            "requested_by": line["requested_by"],
        }
        for line in lines
    ]


def _files_for(files: str, operator: str) -> str:
    """The run's hand-off files for ``operator``, ``; ``-joined."""
    listed = json.loads(files) if files else []
    paths = [str(item.get("path", "")) for item in listed if item.get("operator") == operator]
    return "; ".join(dict.fromkeys(paths))


def history(connection: Connection, limit: int) -> list[dict[str, Any]]:
    """The latest runs, newest first: manifests received and hand-offs by operator and state."""
    runs = _rows(
        connection,
        "SELECT run_id, run_no, kind, state, started_at, finished_at, host, run_dir,"
        " destination, error, counts FROM runs WHERE state <> :foreign"
        " ORDER BY started_at DESC, run_id DESC LIMIT :limit",
        {"limit": limit, "foreign": s.FOREIGN},
    )
    numbers = {int(run["run_no"]): run for run in runs}
    wanted = ", ".join(str(number) for number in numbers) or "0"
    manifests: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in _rows(
        connection,
        "SELECT m.run_id, m.name, m.sha256, m.rows, m.outcome, m.received_at FROM manifests m"
        f" JOIN runs r ON r.run_id = m.run_id WHERE r.run_no IN ({wanted}) ORDER BY m.id",
    ):
        manifests[line.pop("run_id")].append(line | {"received_at": iso(line["received_at"])})
    counted: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for table, state in (("claims", None), ("released", s.RELEASED), ("resends", "resent")):
        by, join = "MIN('')", ""
        if table == "released":  # given back by a void or a retirement: said so
            by, join = "COALESCE(b.kind, '')", " LEFT JOIN runs b ON b.run_no = x.released_by"
        group = "x.run_no, x.operator" + (f", {by}" if join else "")
        for run_no, operator, kind, count in connection.all(
            f"SELECT x.run_no, x.operator, {by}, COUNT(*) FROM {table} x{join}"
            f" WHERE x.run_no IN ({wanted}) GROUP BY {group}"
        ):
            run = numbers[int(run_no)]
            label = state or (s.DELIVERED if run["state"] in s.FINISHED_STATES else s.STAGED)
            counted[int(run_no)][operator][RELEASED_BY.get(str(kind), label)] = int(count)
    corrected = _corrections_by_run(connection, wanted)
    answered = answer_queries.answers_by_run(connection, numbers)
    for number, run in numbers.items():
        run |= answered.get(number, {"answer_files": [], "answers": {}})
        run.pop("run_no")
        run["started_at"], run["finished_at"] = iso(run["started_at"]), iso(run["finished_at"])
        run["counts"] = json.loads(run["counts"]) if run["counts"] else {}
        run["manifests"] = manifests.get(run["run_id"], [])
        run["handoffs"] = {name: dict(states) for name, states in counted[number].items()}
        run["correction"] = corrected.get(number, "")
    return runs


def _corrections_by_run(connection: Connection, wanted: str) -> dict[int, str]:
    """What each void or retirement run did, in a line (``history``)."""
    said: dict[int, str] = {}
    for line in connection.rows(
        "SELECT v.run_no, v.released_by, o.run_id, v.operator, v.eids, v.reason FROM voids v"
        f" JOIN runs o ON o.run_no = v.voided_run_no WHERE v.run_no IN ({wanted})"
        f" OR v.released_by IN ({wanted})"
    ):
        text = f"void of {line['run_id']} for {line['operator']}: {line['eids']} EID(s) ({line['reason']})"
        said[int(line["released_by"])] = text
        if int(line["run_no"]) != int(line["released_by"]):
            said[int(line["run_no"])] = f"withdrawal delivered again: {text}"
    for run_no, action, count, reason in connection.all(
        "SELECT run_no, MIN(action), COUNT(*), MIN(reason) FROM retirements"
        f" WHERE run_no IN ({wanted}) GROUP BY run_no"
    ):
        verb = "put back" if action == "undo" else "retired"
        said[int(run_no)] = f"{verb} {count} PC(s) ({reason})"
    return said


DESCRIBED_EARLIER = 10_000  # rows whose earlier hand-off is named in detail; beyond: see show


def earlier_handoffs(
    connection: Connection, eids: list[str]
) -> dict[tuple[str, str], dict[str, str]]:
    """The finished hand-off of each EID, by (EID, operator): run id, its start, serial."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    wanted = sorted(set(eids))
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        marks = ", ".join(f":e{n}" for n in range(len(part)))
        for row in connection.rows(
            "SELECT c.eid, c.operator, c.serial_number, r.run_id, r.started_at"
            " FROM claims c JOIN runs r ON r.run_no = c.run_no"
            f" WHERE c.eid IN ({marks}) AND r.state IN ({FINISHED})",
            {f"e{n}": eid for n, eid in enumerate(part)},
        ):
            found[(row["eid"], row["operator"])] = {
                "run_id": str(row["run_id"]),
                "started_at": iso(row["started_at"])[:16].replace("T", " "),
                "serial_number": str(row["serial_number"]),
            }
    return found


def shipment_filter(
    connection: Connection,
    operator_column: str,
    sha256_column: str,
    *,
    operator: str = "",
    po: str = "",
    manifest: str = "",
    since: datetime | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """The conditions and parameters of ``status``' and ``pending``'s filters: the operator,
    the PO (``d``: descriptions), the manifest by name (``m``) or sha256 prefix, received since."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if operator:
        where.append(f"{operator_column} = :operator")
        params["operator"] = operator
    if po:
        where.append("d.po_number = :po")
        params["po"] = po
    if manifest:
        where.append(f"(m.name = :manifest OR {sha256_column} LIKE :prefix)")
        params |= {"manifest": manifest, "prefix": f"{manifest.lower()}%"}
    if since is not None:
        where.append("m.received_at >= :since")
        params["since"] = since if connection.postgres else since.strftime("%Y-%m-%d %H:%M:%S")
    return where, params
