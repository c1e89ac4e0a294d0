"""The ledger's tables at the head revision, as SQLAlchemy metadata (the migrations create
them; ``tests/ledger/test_migrations.py`` holds the two together). The ledger's own code
queries with plain SQL and never imports this module.

What the ledger keeps per EID is one ``claims`` line per operator it was handed to (the
exactly-once key is its primary key, ``(eid, operator)``), with the device's serial, IMEI,
manifest and row, descriptive fields by reference (``descriptions``) and its current
Intune state; and one ``serials`` line, the index by serial number the conflict checks use.
Times are the runs': a claim was staged when its run started and delivered when it finished.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text

from eidflow import schema
from eidflow.ledger import states

metadata = MetaData()


def _text(name: str) -> Column[str]:
    return Column(name, Text, nullable=False, server_default="")


def _number(name: str) -> Column[int]:
    return Column(name, Integer, nullable=False, server_default="0")


def _when(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    _number("run_no"),  # claims refer to runs by this number (a few bytes a line)
    _text("run_dir"),
    Column("kind", String(16), nullable=False, server_default="ingest"),
    _text("host"),
    _number("pid"),
    _text("proc_start"),
    _when("started_at", nullable=False),
    _when("finished_at"),
    Column("state", String(16), nullable=False),
    _text("error"),
    _text("counts"),
    _text("files"),
    _text("destination"),  # where its files go: s3://bucket/prefix/run/, a folder, the run folder
    _text("delivery"),  # "" until the first file leaves, then "delivering"
    Index("uq_runs_run_no", "run_no", unique=True),
    Index("ix_runs_state", "state"),
)

manifests = Table(
    "manifests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False),
    _text("name"),
    Column("run_id", String(64), nullable=False),
    _when("received_at", nullable=False),
    Column("rows", Integer, nullable=False, server_default="0"),
    Column("outcome", String(16), nullable=False, server_default=states.PROCESSED),
    _text("error"),
    Index("ix_manifests_sha256", "sha256"),
)

DESCRIPTIVE = schema.DESCRIPTIVE

# One line per distinct set of descriptive fields (a shipment has a handful).
descriptions = Table(
    "descriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *(_text(name) for name in DESCRIPTIVE),
    Index("uq_descriptions", *DESCRIPTIVE, unique=True),
)


def _claim_columns(key: bool) -> list[Column[Any]]:
    """A claim's columns; ``key``: (eid, operator) is the primary key (live claims)."""
    return [
        Column("eid", String(32), primary_key=key, nullable=False),
        Column("operator", String(128), primary_key=key, nullable=False),
        Column("run_no", Integer, nullable=False),
        _text("serial_number"),
        _text("imei"),
        _number("manifest"),  # manifests.id of the file it came from (0: unknown)
        _number("row"),
        _number("description"),  # descriptions.id (0: none)
        _text("intune_state"),
        _text("entra_object_id"),
        _number("state_run"),  # the run (run_no) that saw the device get into this state
    ]


claims = Table(
    "claims",
    metadata,
    *_claim_columns(key=True),
    # No index on run_no: filling it cost a third of a claim's writes on PostgreSQL; what
    # looks claims up by run (releasing a failed run's, history's counts) reads the table.
    sqlite_with_rowid=False,
)

serials = Table(
    "serials",
    metadata,
    Column("serial_number", Text, primary_key=True),
    Column("eid", String(32), primary_key=True),
    sqlite_with_rowid=False,
)

# Claims given back (their run failed or died before handing off), for the audit trail.
released = Table(
    "released",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_claim_columns(key=False),
    _when("released_at", nullable=False),
    _number("released_by"),  # the void or retirement (run_no) that gave it back; 0: its run
    Index("ix_released_eid", "eid"),
    Index("ix_released_run_no", "run_no"),
)

# Deliberate re-sends: outside the exactly-once key, in the state of their run.
resends = Table(
    "resends",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("eid", String(32), nullable=False),
    Column("operator", String(128), nullable=False),
    Column("run_no", Integer, nullable=False),
    _text("reason"),
    _text("requested_by"),
    Index("ix_resends_eid", "eid"),
    Index("ix_resends_run_no", "run_no"),
)

# The states each device had before its current one (which is on its claims).
device_states = Table(
    "device_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("eid", String(32), nullable=False),
    Column("run_id", String(64), nullable=False),
    _text("intune_state"),
    _text("entra_object_id"),
    _when("recorded_at", nullable=False),
    Index("ix_device_states_eid", "eid"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", String(64), nullable=False),
    Column("eid", String(32), nullable=False),
    Column("entra_object_id", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),
    _when("added_at", nullable=False),
    Index("ix_memberships_eid", "eid"),
    Index("uq_memberships_group_object", "group_id", "entra_object_id", unique=True),
)

# Every change ``eidflow groups sync --apply`` asked of a static group, with Graph's answer.
group_changes = Table(
    "group_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("group_id", String(64), nullable=False),
    Column("entra_object_id", String(64), nullable=False),
    _text("eid"),  # "" for a member the ledger does not know (a foreign one)
    Column("action", String(16), nullable=False),  # add | remove
    Column("outcome", String(32), nullable=False),  # added, already_member, removed, ...
    _number("http_status"),
    _text("answer"),  # Graph's error message, "" on success
    _when("changed_at", nullable=False),
    Index("ix_group_changes_group_object", "group_id", "entra_object_id"),
    Index("ix_group_changes_run", "run_id"),
)

# Operators' answers (revision 0010): accepted (with the ICCID) or rejected (with the reason),
# with where each came from; counted once their run is complete, like claims.
answers = Table(
    "answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("eid", String(32), nullable=False),
    Column("operator", String(128), nullable=False),
    Column("run_no", Integer, nullable=False),
    Column("answer", String(16), nullable=False),
    _text("operator_status"),
    _text("operator_reason"),
    _text("iccid"),
    _text("smdp_address"),
    _text("order_id"),
    _text("answered_at"),
    Column("file_sha256", String(64), nullable=False),
    _text("file_name"),
    _text("sheet"),
    _number("row"),
    Index("ix_answers_eid_operator", "eid", "operator"),
    Index("ix_answers_run_no", "run_no"),
)

answer_files = Table(
    "answer_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False),
    _text("name"),
    Column("run_no", Integer, nullable=False),
    Column("operator", String(128), nullable=False),
    _number("rows"),
    Index("ix_answer_files_sha256", "sha256"),
    Index("ix_answer_files_run_no", "run_no"),
)

# What ``eidflow intune setup --apply`` left in the tenant, per operator (revision 0011).
intune_setups = Table(
    "intune_setups",
    metadata,
    Column("operator", String(128), primary_key=True),
    _text("server"),
    _text("group_id"),
    _text("group_name"),
    _text("policy_id"),
    _text("policy_name"),
    _when("applied_at", nullable=False),
)

# The rows a run did not hand off (revision 0012): rejected, duplicate in the run, held back
# as a conflict; one line per manifest row, naming the run that read it first and last.
# ``already_registered`` rows are not kept: their claim tells their story.
row_outcomes = Table(
    "row_outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_no", Integer, nullable=False),
    Column("first_run_no", Integer, nullable=False),
    _number("manifest"),  # manifests.id of the run that read it last
    Column("file", Integer, nullable=False),  # manifests.id that first received its bytes
    _text("sheet"),
    _number("row"),
    _text("eid"),  # the digits of the EID where there are any
    _text("eid_raw"),  # the cell as written, where it is not the EID itself
    _text("serial_number"),
    _text("imei"),
    _number("description"),  # descriptions.id (0: none)
    _text("operator"),  # "" for a row refused before it was routed
    Column("status", String(16), nullable=False),
    _text("reason"),
    _text("detail"),
    Index("uq_row_outcomes_row", "file", "sheet", "row", unique=True),
    Index("ix_row_outcomes_eid", "eid"),
    Index("ix_row_outcomes_eid_raw", "eid_raw"),
    Index("ix_row_outcomes_serial_number", "serial_number"),
    Index("ix_row_outcomes_imei", "imei"),
)

# Hand-offs voided (``eidflow void``, revision 0013): one line per run and operator. The
# claims go to ``released`` (``released_by``); the withdrawal file is delivered by the run
# ``run_no`` (the latest attempt: one whose delivery failed is tried again by a new one).
voids = Table(
    "voids",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("voided_run_no", Integer, nullable=False),
    Column("operator", String(128), nullable=False),
    Column("released_by", Integer, nullable=False),
    Column("run_no", Integer, nullable=False),
    Column("eids", Integer, nullable=False, server_default="0"),
    _text("reason"),
    _text("requested_by"),
    Index("uq_voids_run_operator", "voided_run_no", "operator", unique=True),
)

# PCs taken out (``eidflow retire``) and put back (``--undo``): the latest line of an EID
# says whether it is retired now.
retirements = Table(
    "retirements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("eid", String(32), nullable=False),
    _text("serial_number"),
    _text("entra_object_id"),
    Column("action", String(16), nullable=False),  # retire | undo
    Column("run_no", Integer, nullable=False),
    _text("reason"),
    _text("requested_by"),
    Index("ix_retirements_eid", "eid"),
)

# The eSIM profile's status per PC from Intune's report, and the EID its device reports
# (revision 0014): one line per claim, replaced by each read.
profile_statuses = Table(
    "profile_statuses",
    metadata,
    Column("eid", String(32), primary_key=True),
    Column("operator", String(128), primary_key=True),
    _text("intune_device_id"),
    _text("policy_id"),
    _text("status"),  # applied | pending | error | conflict | not applicable
    _text("policy_status"),  # the report's PolicyStatus, as read
    _text("reported_at"),  # the report's PspdpuLastModifiedTimeUtc, as read
    _text("device_eid"),  # what the device reports ("" when the tenant does not say)
    _text("eid_check"),  # confirmed | differs | unknown
    _when("read_at", nullable=False),
)
