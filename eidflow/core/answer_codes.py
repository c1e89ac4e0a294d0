"""The operator's answer: its columns, the answers, the verdicts and reason codes, defined once.

An answer file (what an operator sends back about the EIDs it was handed) is read into a
frame of ``ANSWER_COLUMNS``; every row then gets a verdict (``status``) and a ``reason``
code, written to ``answer-decisions.csv`` in the order of ``ANSWER_DECISION_COLUMNS``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from eidflow import schema

# What the answer reader returns, one line per data row (text; "" for empty).
OPERATOR_STATUS: Final = "operator_status"  # the status cell as read: Success, Error, ...
OPERATOR_REASON: Final = "operator_reason"  # the operator's reason or error text
ICCID_RAW: Final = "iccid_raw"
SMDP_ADDRESS: Final = "smdp_address"
ORDER_ID: Final = "order_id"  # an order, batch or request id
ANSWERED_AT: Final = "answered_at"  # the operator's time, as read
ANSWER_FIELDS: Final = (
    OPERATOR_STATUS,
    OPERATOR_REASON,
    ICCID_RAW,
    SMDP_ADDRESS,
    ORDER_ID,
    ANSWERED_AT,
)
ANSWER_COLUMNS: Final = (
    schema.SOURCE_FILE,
    schema.SHEET,
    schema.ROW,
    schema.EID_RAW,
    schema.EID_NUMERIC,
    *ANSWER_FIELDS,
)

# What judging adds.
ANSWER: Final = "answer"  # accepted | rejected | pending ("" when the status is not understood)
ICCID: Final = "iccid"
ANSWER_DECISION_COLUMNS: Final = (
    schema.SOURCE_FILE,
    schema.SHEET,
    schema.ROW,
    schema.EID_RAW,
    schema.EID,
    OPERATOR_STATUS,
    ANSWER,
    OPERATOR_REASON,
    ICCID_RAW,
    ICCID,
    SMDP_ADDRESS,
    ORDER_ID,
    ANSWERED_AT,
    schema.STATUS,
    schema.REASON,
    schema.WARNINGS,
    schema.DETAIL,
    schema.OPERATOR,
)


class Answer(StrEnum):
    ACCEPTED = "accepted"  # the operator took the EID (a profile is, or will be, bound to it)
    REJECTED = "rejected"  # refused, failed, cancelled, expired: nothing bound
    PENDING = "pending"  # still in progress: not an answer yet


class Verdict(StrEnum):
    """What eidflow did with a row of an answer file (``status`` in answer-decisions.csv)."""

    RECORDED = "recorded"  # the ledger holds this answer now
    ALREADY_RECORDED = "already_recorded"  # the ledger held this very answer: nothing changed
    DUPLICATE = "duplicate"  # the same answer again in this run (the first one counts)
    CONFLICT = "conflict"  # another answer for this EID, in this run or in the ledger
    NOT_HANDED_OFF = "not_handed_off"  # the EID was never delivered to this operator
    PENDING = "pending"  # the operator has not decided yet
    INVALID = "invalid"  # the row cannot be used (EID, status or ICCID)


class AnswerReason(StrEnum):
    STATUS_MISSING = "status_missing"
    STATUS_UNKNOWN = "status_unknown"
    ICCID_NOT_DIGITS = "iccid_not_digits"
    ICCID_LENGTH = "iccid_length"
    ICCID_CHECKSUM = "iccid_checksum"
    ICCID_PRECISION_LOST = "iccid_precision_lost"
    ANSWER_PENDING = "answer_pending"
    DUPLICATE_IN_RUN = "duplicate_in_run"
    ALREADY_RECORDED = "already_recorded"
    CONFLICT_IN_RUN = "conflict_in_run"
    CONFLICT_EARLIER_ANSWER = "conflict_earlier_answer"
    NOT_HANDED_OFF = "not_handed_off"


class AnswerWarning(StrEnum):
    ICCID_MISSING = "iccid_missing"  # accepted, but no ICCID (yet): the operator may send it later
    ICCID_PADDED = "iccid_padded"  # a trailing F (padding) was dropped
    ICCID_IGNORED = "iccid_ignored"  # a rejected EID came with an ICCID: not recorded


DETAILS: dict[str, str] = {
    "eid_missing": "No EID in this row.",
    "eid_not_digits": "The EID holds characters other than digits.",
    "eid_length": "The EID does not have 32 digits.",
    "eid_checksum": "The EID's check digits (last two) are wrong: not an EID eidflow sent.",
    "eid_precision_lost": (
        "The EID went through a spreadsheet number and lost digits. Ask the operator for the"
        " file with the EID column formatted as text."
    ),
    AnswerReason.STATUS_MISSING: "No status in this row: accepted or rejected cannot be told.",
    AnswerReason.STATUS_UNKNOWN: (
        "The status is not one eidflow knows. Add it to the operator's response profile"
        " (accepted = [...] or rejected = [...])."
    ),
    AnswerReason.ICCID_NOT_DIGITS: "The ICCID holds characters other than digits (a trailing F aside).",
    AnswerReason.ICCID_LENGTH: "The ICCID does not have 19 or 20 digits.",
    AnswerReason.ICCID_CHECKSUM: "The ICCID's Luhn check digit (its last) is wrong: a digit was mistyped.",
    AnswerReason.ICCID_PRECISION_LOST: (
        "The ICCID went through a spreadsheet number and lost digits. Ask the operator for"
        " the file with the ICCID column formatted as text."
    ),
    AnswerReason.ANSWER_PENDING: "The operator has not decided yet: nothing is recorded.",
    AnswerReason.DUPLICATE_IN_RUN: "The same answer earlier in this run (the first one counts).",
    AnswerReason.ALREADY_RECORDED: "The ledger already holds this answer: nothing changed.",
    AnswerReason.CONFLICT_IN_RUN: (
        "Other rows of this run answer differently for this EID: none is recorded. Ask the"
        " operator which answer stands."
    ),
    AnswerReason.NOT_HANDED_OFF: (
        "This EID was never delivered to this operator: the answer is not taken."
    ),
}
