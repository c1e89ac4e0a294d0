"""Record an operator's answers: judged against the ledger and written in one transaction.

Under the claim lock, so that two runs reading answers at once, or an ingest claiming,
see each other's committed lines: what was handed off to the operator, the answers in
force (``answer_queries.in_force``), then the rows to record (``eidflow.core.answers``)
are written, with the files read. The answers count once the run is complete.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from eidflow import schema
from eidflow.core import answer_codes as a
from eidflow.core import answers as judging
from eidflow.core.answer_codes import AnswerReason, Verdict
from eidflow.ledger import answer_queries
from eidflow.ledger.sql import SqlLedger

EARLIER_COLUMNS = (schema.EID, a.ANSWER, a.ICCID, schema.SOURCE_FILE, schema.ROW)


def record_answers(
    ledger: SqlLedger,
    run_id: str,
    operator: str,
    rows: pd.DataFrame,
    files: list[dict[str, Any]],
) -> pd.DataFrame:
    """Judge ``rows`` (from ``judging.judge_in_run``) against the ledger, record those that
    are ``recorded`` and the ``files`` (``sha256``, ``name``, ``rows``); returns the rows
    with their final verdicts."""
    with ledger.write(claim_lock=True) as connection:
        run_no = int(
            connection.scalar("SELECT run_no FROM runs WHERE run_id = :id", {"id": run_id})
        )
        digests = {item["name"]: item["sha256"] for item in files}
        rows = _recorded_before(
            rows, answer_queries.rows_recorded(connection, operator, digests.values()), digests
        )
        open_rows = rows[schema.STATUS] == ""
        eids = rows.loc[open_rows, schema.EID].unique().tolist()
        sent = answer_queries.handed_off(connection, operator, eids)
        force = answer_queries.in_force(connection, operator, sent)
        earlier = pd.DataFrame(
            [
                {
                    schema.EID: eid,
                    a.ANSWER: line["answer"],
                    a.ICCID: line["iccid"],
                    schema.SOURCE_FILE: line["source_file"],
                    schema.ROW: line["row"],
                }
                for eid, line in force.items()
            ],
            columns=list(EARLIER_COLUMNS),
        )
        judged = judging.judge_against(rows, sent, earlier)
        elsewhere = answer_queries.operators_holding(
            connection, judged.loc[judged[schema.STATUS] == Verdict.NOT_HANDED_OFF, schema.EID]
        )
        _say_where(judged, elsewhere, operator)
        recorded = judged[judged[schema.STATUS] == Verdict.RECORDED]
        connection.executemany(
            "INSERT INTO answers (eid, operator, run_no, answer, operator_status,"
            " operator_reason, iccid, smdp_address, order_id, answered_at, file_sha256,"
            " file_name, sheet, row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    line[schema.EID],
                    operator,
                    run_no,
                    line[a.ANSWER],
                    line[a.OPERATOR_STATUS].strip(),
                    line[a.OPERATOR_REASON].strip(),
                    line[a.ICCID],
                    line[a.SMDP_ADDRESS].strip(),
                    line[a.ORDER_ID].strip(),
                    line[a.ANSWERED_AT].strip(),
                    digests.get(line[schema.SOURCE_FILE], ""),
                    line[schema.SOURCE_FILE],
                    line[schema.SHEET],
                    int(line[schema.ROW]),
                )
                for line in recorded.to_dict("records")
            ],
        )
        connection.executemany(
            "INSERT INTO answer_files (sha256, name, run_no, operator, rows)"
            " VALUES (?, ?, ?, ?, ?)",
            [(item["sha256"], item["name"], run_no, operator, int(item["rows"])) for item in files],
        )
    return judged


def _recorded_before(
    rows: pd.DataFrame, before: dict[tuple[str, str, int], str], digests: dict[str, str]
) -> pd.DataFrame:
    """Rows still to judge that this very file recorded before: ``already_recorded``."""
    if not before:
        return rows
    rows = rows.copy()
    keys = {"\0".join((sha, sheet, str(row))): run for (sha, sheet, row), run in before.items()}
    key = (
        rows[schema.SOURCE_FILE].map(digests).fillna("").astype("str")
        + "\0" + rows[schema.SHEET].astype("str") + "\0" + rows[schema.ROW].astype("str")
    )  # fmt: skip
    again = (rows[schema.STATUS] == "") & key.isin(keys)
    rows.loc[again, schema.STATUS] = Verdict.ALREADY_RECORDED.value
    rows.loc[again, schema.REASON] = AnswerReason.ALREADY_RECORDED.value
    rows.loc[again, schema.DETAIL] = (
        "This row of this file was recorded by run " + key[again].map(keys) + ": nothing changed."
    )
    return rows


def _say_where(judged: pd.DataFrame, elsewhere: dict[str, list[str]], operator: str) -> None:
    """A not-handed-off row says where the EID went instead, when it went anywhere."""
    for index in judged.index[judged[schema.STATUS] == Verdict.NOT_HANDED_OFF]:
        others = elsewhere.get(judged.at[index, schema.EID], [])
        where = f"it went to {', '.join(others)}" if others else "nor to any operator"
        judged.at[index, schema.DETAIL] = (
            f"This EID was never delivered to {operator} ({where}): the answer is not taken."
        )
