"""Asking the ledger about operators' answers: for ``show``, ``history``, ``resend`` and the
judging of new answers. Read-only and without pandas, like ``queries``.

An answer counts once its run is complete or recovered (``FINISHED``); one of a live run
counts for judging new answers too (its run may complete). An answer is *superseded* once
the EID was re-sent to that operator by a later run that delivered: the operator's next
answer is about the new hand-off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from eidflow.ledger import states as s
from eidflow.ledger.db import Connection, as_datetime

FINISHED = ", ".join(f"'{state}'" for state in s.FINISHED_STATES)
COUNTING = ", ".join(f"'{state}'" for state in (*s.FINISHED_STATES, s.LIVE))
SUPERSEDED_BY = (
    "(SELECT MIN(xr.run_id) FROM resends x JOIN runs xr ON xr.run_no = x.run_no"
    " WHERE x.eid = a.eid AND x.operator = a.operator AND x.run_no > a.run_no"
    f" AND xr.state IN ({FINISHED}))"
)
SELECT = (
    "SELECT a.id, a.eid, a.operator, a.answer, a.operator_status, a.operator_reason, a.iccid,"
    " a.smdp_address, a.order_id, a.answered_at, a.file_sha256, a.file_name, a.sheet, a.row,"
    f" r.run_id, r.run_no, r.started_at, r.state AS run_state, {SUPERSEDED_BY} AS superseded_by"
    " FROM answers a JOIN runs r ON r.run_no = a.run_no"
)
BATCH = 500
WHOLE_OPERATOR = 5_000  # more EIDs than this: read all the operator's answers, keep theirs


def _iso(value: Any) -> str:
    return "" if value in (None, "") else as_datetime(value).isoformat(timespec="seconds")


def _line(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "operator": row["operator"],
        "answer": row["answer"],
        "operator_status": row["operator_status"],
        "reason": row["operator_reason"],
        "iccid": row["iccid"],
        "smdp_address": row["smdp_address"],
        "order_id": row["order_id"],
        "answered_at": row["answered_at"],
        "source_file": row["file_name"],
        "sheet": row["sheet"],
        "row": int(row["row"]),
        "file_sha256": row["file_sha256"],
        "run_id": row["run_id"],
        "recorded_at": _iso(row["started_at"]),
        "superseded_by": row["superseded_by"] or "",
    }


def answer_lines(connection: Connection, eid: str) -> list[dict[str, Any]]:
    """Every answer recorded for the EID by a finished run, oldest first (``show``)."""
    found = connection.rows(
        f"{SELECT} WHERE a.eid = :eid AND r.state IN ({FINISHED}) ORDER BY r.run_no, a.id",
        {"eid": eid},
    )
    return [_line(row) for row in found]


def in_force(
    connection: Connection, operator: str, eids: Iterable[str], *, live_too: bool = True
) -> dict[str, dict[str, Any]]:
    """The answer in force for each of ``eids`` from ``operator``: the latest one not
    superseded by a re-send (of a finished run; with ``live_too``, of a live run too)."""
    states = COUNTING if live_too else FINISHED
    wanted = set(eids)
    where = f"a.operator = :operator AND r.state IN ({states})"
    if len(wanted) > WHOLE_OPERATOR:  # a funnel: one pass over the operator's answers
        queries = [(where, {"operator": operator})]
    else:
        ordered = sorted(wanted)
        queries = []
        for start in range(0, len(ordered), BATCH):
            part = ordered[start : start + BATCH]
            marks = ", ".join(f":e{n}" for n in range(len(part)))
            values = {f"e{n}": eid for n, eid in enumerate(part)}
            queries.append((f"{where} AND a.eid IN ({marks})", {"operator": operator} | values))
    latest: dict[str, dict[str, Any]] = {}
    for condition, values in queries:
        for row in connection.rows(f"{SELECT} WHERE {condition} ORDER BY r.run_no, a.id", values):
            if row["eid"] not in wanted:
                continue
            if not row["superseded_by"]:
                latest[row["eid"]] = _line(row)
            else:
                latest.pop(row["eid"], None)
    return latest


def rows_recorded(
    connection: Connection, operator: str, digests: Iterable[str]
) -> dict[tuple[str, str, int], str]:
    """The rows of these files (by sha256) already recorded for ``operator``, by a run that
    counts: (sha256, sheet, row) -> that run's id. Read again, such a row changes nothing,
    even after a re-send superseded its answer."""
    wanted = sorted(set(digests))
    marks = ", ".join(f":f{n}" for n in range(len(wanted))) or "''"
    found = connection.all(
        "SELECT a.file_sha256, a.sheet, a.row, r.run_id FROM answers a"
        " JOIN runs r ON r.run_no = a.run_no WHERE a.operator = :operator"
        f" AND a.file_sha256 IN ({marks}) AND r.state IN ({COUNTING})",
        {"operator": operator} | {f"f{n}": digest for n, digest in enumerate(wanted)},
    )
    return {(str(sha), str(sheet), int(row)): str(run_id) for sha, sheet, row, run_id in found}


def handed_off(connection: Connection, operator: str, eids: Iterable[str]) -> set[str]:
    """Those of ``eids`` delivered to ``operator`` (by a complete or recovered run)."""
    wanted = sorted(set(eids))
    found: set[str] = set()
    for start in range(0, len(wanted), BATCH):
        part = wanted[start : start + BATCH]
        marks = ", ".join(f":e{n}" for n in range(len(part)))
        values = {"operator": operator} | {f"e{n}": eid for n, eid in enumerate(part)}
        found |= {
            str(row[0])
            for row in connection.all(
                "SELECT c.eid FROM claims c JOIN runs r ON r.run_no = c.run_no"
                f" WHERE c.operator = :operator AND c.eid IN ({marks})"
                f" AND r.state IN ({FINISHED})",
                values,
            )
        }
    return found


def operators_holding(connection: Connection, eids: Iterable[str]) -> dict[str, list[str]]:
    """For each of ``eids``, the operators it was delivered to (to say where it went)."""
    wanted = sorted(set(eids))
    held: dict[str, list[str]] = defaultdict(list)
    for start in range(0, len(wanted), BATCH):
        part = wanted[start : start + BATCH]
        marks = ", ".join(f":e{n}" for n in range(len(part)))
        for eid, operator in connection.all(
            "SELECT c.eid, c.operator FROM claims c JOIN runs r ON r.run_no = c.run_no"
            f" WHERE c.eid IN ({marks}) AND r.state IN ({FINISHED}) ORDER BY c.operator",
            {f"e{n}": eid for n, eid in enumerate(part)},
        ):
            held[str(eid)].append(str(operator))
    return dict(held)


def answers_by_run(connection: Connection, run_nos: Iterable[int]) -> dict[int, dict[str, Any]]:
    """For ``history``: per run, the answer files it read and its answers by operator."""
    wanted = ", ".join(str(int(number)) for number in run_nos) or "0"
    runs: dict[int, dict[str, Any]] = defaultdict(lambda: {"answer_files": [], "answers": {}})
    for run_no, name, sha256, operator, rows in connection.all(
        "SELECT run_no, name, sha256, operator, rows FROM answer_files"
        f" WHERE run_no IN ({wanted}) ORDER BY id"
    ):
        runs[int(run_no)]["answer_files"].append(
            {"name": name, "sha256": sha256, "operator": operator, "rows": int(rows)}
        )
    for run_no, operator, answer, count in connection.all(
        "SELECT run_no, operator, answer, COUNT(*) FROM answers"
        f" WHERE run_no IN ({wanted}) GROUP BY run_no, operator, answer"
    ):
        runs[int(run_no)]["answers"].setdefault(operator, {})[answer] = int(count)
    return dict(runs)
