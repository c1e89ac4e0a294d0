"""Judge the rows of operators' answer files: frames in, frames out, no I/O.

1. ``judge_rows``: each row's EID (the manifest rules: MOD 97-10, spreadsheet damage),
   its status as an answer (``accepted``, ``rejected``, ``pending``), its ICCID (19-20
   digits, Luhn, a trailing ``F`` dropped); a row that fails is ``invalid`` with a reason.
2. ``judge_in_run``: one answer per EID across the run's files: the same answer again is a
   ``duplicate``; two different answers for one EID are a ``conflict`` (every row), never
   a guess.
3. ``judge_against``: against the ledger: an EID never delivered to the operator is
   ``not_handed_off``; the answer the ledger holds already is ``already_recorded``; a
   different one is a ``conflict``; else ``recorded``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from eidflow import schema
from eidflow.core import answer_codes as a
from eidflow.core.answer_codes import Answer, AnswerReason, AnswerWarning, Verdict
from eidflow.identifiers import columns

# Status words operators use (compared in lower case, letters and digits only), from
# vendor bulk-import answers and GSMA SGP.22 ES2+ execution statuses.
# fmt: off
ACCEPTED_WORDS = (
    "accepted", "accept", "success", "successful", "succeeded", "ok", "installed", "enabled",
    "released", "confirmed", "executedsuccess", "executedwithwarning", "done", "completed",
    "complete", "activated", "active", "provisioned", "bound", "approved", "downloaded",
)
REJECTED_WORDS = (
    "rejected", "reject", "error", "failed", "failure", "fail", "cancelled", "canceled",
    "cancel", "expired", "executedfailed", "executedexpired", "invalid", "declined", "denied",
    "refused", "nok",
)
PENDING_WORDS = (
    "pending", "inprogress", "processing", "queued", "submitted", "received", "waiting",
)
# fmt: on
_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def status_key(text: str) -> str:
    """``"Executed-Success "`` -> ``"executedsuccess"``."""
    return _NOT_ALNUM.sub("", text).casefold()


def vocabulary(
    accepted: Iterable[str] = (), rejected: Iterable[str] = (), pending: Iterable[str] = ()
) -> dict[str, str]:
    """Status key -> answer: the built-in words, then an operator's own (which win)."""
    words: dict[str, str] = {}
    for answer, built_in in (
        (Answer.PENDING, PENDING_WORDS),
        (Answer.REJECTED, REJECTED_WORDS),
        (Answer.ACCEPTED, ACCEPTED_WORDS),
    ):
        words |= dict.fromkeys(built_in, answer.value)
    for answer, extra in ((Answer.PENDING, pending), (Answer.REJECTED, rejected)):
        words |= {status_key(word): answer.value for word in extra}
    words |= {status_key(word): Answer.ACCEPTED.value for word in accepted}
    return words


def judge_rows(rows: pd.DataFrame, words: dict[str, str] | None = None) -> pd.DataFrame:
    """Every row with ``eid``, ``answer``, ``iccid`` and its first verdict (``invalid`` or
    ``pending`` with a reason, else ``""``: to be judged further)."""
    words = words if words is not None else vocabulary()
    frame = rows.copy()
    eid, eid_reason = columns.eid_reasons(frame[schema.EID_RAW], frame[schema.EID_NUMERIC])
    frame[schema.EID] = eid
    keys = frame[a.OPERATOR_STATUS].astype("str").map(status_key)
    frame[a.ANSWER] = keys.map(words).fillna("").astype("str")
    iccid, iccid_reason, padded = columns.iccid_reasons(frame[a.ICCID_RAW])
    frame[a.ICCID] = iccid
    reason = eid_reason.copy()
    reason = reason.mask((reason == "") & (keys == ""), AnswerReason.STATUS_MISSING.value)
    reason = reason.mask(
        (reason == "") & (frame[a.ANSWER] == ""), AnswerReason.STATUS_UNKNOWN.value
    )
    reason = reason.mask(reason == "", iccid_reason)
    pending = (reason == "") & (frame[a.ANSWER] == Answer.PENDING)
    reason = reason.mask(pending, AnswerReason.ANSWER_PENDING.value)
    status = pd.Series("", index=frame.index, dtype="str")
    status = status.mask(reason != "", Verdict.INVALID.value).mask(pending, Verdict.PENDING.value)
    frame[schema.STATUS], frame[schema.REASON] = status, reason
    usable = status == ""
    accepted = usable & (frame[a.ANSWER] == Answer.ACCEPTED)
    rejected = usable & (frame[a.ANSWER] == Answer.REJECTED)
    frame[schema.WARNINGS] = _join(
        {
            AnswerWarning.ICCID_MISSING: accepted & (frame[a.ICCID] == ""),
            AnswerWarning.ICCID_PADDED: usable & padded & (frame[a.ICCID] != ""),
            AnswerWarning.ICCID_IGNORED: rejected & (frame[a.ICCID] != ""),
        },
        frame.index,
    )
    frame.loc[rejected, a.ICCID] = ""
    frame[schema.DETAIL] = ""
    return frame


def _join(flags: dict[AnswerWarning, pd.Series], index: pd.Index) -> pd.Series:
    """``;``-joined codes of the flags that hold on each row."""
    joined = pd.Series("", index=index, dtype="str")
    for code, holds in flags.items():
        joined = joined.mask(holds, joined + ";" + code.value)
    return joined.str.lstrip(";")


def judge_in_run(frame: pd.DataFrame) -> pd.DataFrame:
    """One answer per EID among the rows still to judge: duplicates and conflicts marked.

    Two answers agree when they are the same answer and do not name two ICCIDs (an
    acceptance without its ICCID and one with it agree: the one with the ICCID counts).
    """
    frame = frame.copy()
    open_rows = frame.index[frame[schema.STATUS] == ""]
    todo = frame.loc[open_rows, [schema.EID, a.ANSWER, a.ICCID]]
    by_eid = todo.groupby(schema.EID, sort=False)
    answers = by_eid[a.ANSWER].transform("nunique")
    iccids = todo[a.ICCID].where(todo[a.ICCID] != "").groupby(todo[schema.EID]).transform("nunique")
    conflict = (answers > 1) | (iccids.fillna(0) > 1)
    # the row that counts: the first with an ICCID, else the first
    ranked = todo.assign(_no_iccid=(todo[a.ICCID] == ""), _order=np.arange(len(todo)))
    first = ranked.sort_values(["_no_iccid", "_order"]).drop_duplicates(schema.EID).index
    duplicate = ~todo.index.isin(first) & ~conflict
    frame.loc[conflict[conflict].index, schema.STATUS] = Verdict.CONFLICT.value
    frame.loc[conflict[conflict].index, schema.REASON] = AnswerReason.CONFLICT_IN_RUN.value
    dupes = todo.index[duplicate]
    frame.loc[dupes, schema.STATUS] = Verdict.DUPLICATE.value
    frame.loc[dupes, schema.REASON] = AnswerReason.DUPLICATE_IN_RUN.value
    return frame


def judge_against(frame: pd.DataFrame, handed_off: set[str], earlier: pd.DataFrame) -> pd.DataFrame:
    """The rows still to judge, against the ledger: ``handed_off`` (the EIDs delivered to
    this operator) and ``earlier`` (the answer in force for each EID: ``eid``, ``answer``,
    ``iccid``, ``source_file``, ``row``)."""
    frame = frame.copy()
    todo = frame.index[frame[schema.STATUS] == ""]
    not_sent = todo[~frame.loc[todo, schema.EID].isin(handed_off)]
    frame.loc[not_sent, schema.STATUS] = Verdict.NOT_HANDED_OFF.value
    frame.loc[not_sent, schema.REASON] = AnswerReason.NOT_HANDED_OFF.value
    todo = todo.difference(not_sent)
    known = earlier.drop_duplicates(schema.EID, keep="last").set_index(schema.EID)
    eids = frame.loc[todo, schema.EID]

    def before(column: str) -> pd.Series:
        return eids.map(known[column]).astype("object").fillna("").astype("str")

    has = eids.isin(known.index)
    answer, iccid = frame.loc[todo, a.ANSWER], frame.loc[todo, a.ICCID]
    old_answer, old_iccid = before(a.ANSWER), before(a.ICCID)
    conflict = has & (
        (answer != old_answer) | ((iccid != "") & (old_iccid != "") & (iccid != old_iccid))
    )
    same = has & ~conflict & ((iccid == "") | (iccid == old_iccid))
    status = pd.Series(Verdict.RECORDED.value, index=todo, dtype="str")
    status = status.mask(conflict, Verdict.CONFLICT.value).mask(
        same, Verdict.ALREADY_RECORDED.value
    )
    clash = todo[conflict.to_numpy(dtype=bool)]
    if len(clash):
        said = old_answer[clash].where(
            old_iccid[clash] == "", old_answer[clash] + " ICCID " + old_iccid[clash]
        )
        frame.loc[clash, schema.DETAIL] = (
            "The ledger holds another answer for this EID: " + said
            + " (" + before(schema.SOURCE_FILE)[clash] + " row " + before(schema.ROW)[clash] + ")."
            " Nothing is overwritten: ask the operator which stands; after `eidflow resend` a"
            " new answer is taken."
        )  # fmt: skip
    frame.loc[todo, schema.STATUS] = status
    codes = {
        Verdict.CONFLICT.value: AnswerReason.CONFLICT_EARLIER_ANSWER.value,
        Verdict.ALREADY_RECORDED.value: AnswerReason.ALREADY_RECORDED.value,
        Verdict.RECORDED.value: "",
    }
    frame.loc[todo, schema.REASON] = status.map(codes)
    return frame


def details(frame: pd.DataFrame) -> pd.Series:
    """A sentence per row: the one already set (a conflict's), else its reason's."""
    current = frame[schema.DETAIL] if schema.DETAIL in frame else pd.Series("", index=frame.index)
    current = current.fillna("").astype("str")
    return current.mask(current == "", frame[schema.REASON].map(a.DETAILS).fillna("")).astype("str")


def no_rows() -> pd.DataFrame:
    """The judged frame of no rows (every answer file unreadable)."""
    empty = pd.DataFrame({name: pd.Series([], dtype="str") for name in a.ANSWER_COLUMNS})
    empty[schema.ROW] = empty[schema.ROW].astype("int64")
    empty[schema.EID_NUMERIC] = empty[schema.EID_NUMERIC].astype(bool)
    return judge_rows(empty)


def counts(decided: pd.DataFrame) -> dict[str, Any]:
    """Rows by verdict, reason and answer, and the answers recorded: for summary.json."""

    def by(values: pd.Series) -> dict[str, int]:
        counted = values[values != ""].value_counts()
        return {str(key): int(value) for key, value in sorted(counted.items())}

    recorded = decided[schema.STATUS] == Verdict.RECORDED
    return {
        "rows": len(decided),
        "by_status": by(decided[schema.STATUS]),
        "by_reason": by(decided[schema.REASON]),
        "by_answer": by(decided[a.ANSWER]),
        "recorded_by_answer": by(decided.loc[recorded, a.ANSWER]),
    }
