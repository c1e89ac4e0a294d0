"""The ledger's tables at the head revision, for queries (the migrations create them).

Text columns are ``NOT NULL DEFAULT ''`` so that frames read back need no null checks.
A hand-off claim is *live* while its state is not ``released``; the partial unique
index on (operator, eid) over live, non-resend claims is what makes a hand-off
exactly-once even if two runs race past every other check. That index tells live
claims by ``released_at IS NULL`` (so that delivering, which changes ``state``, leaves
it alone): every write that releases a claim sets ``released_at``, every write that
restages one clears it.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

from eidflow import schema

# Claim states.
STAGED: Final = "staged"
DELIVERED: Final = "delivered"
RELEASED: Final = "released"

# Run states.
LIVE: Final = "live"
COMPLETE: Final = "complete"
RECOVERED: Final = "recovered"  # died after its folder was complete: its claims stand
ABORTED: Final = "aborted"  # failed cleanly: its claims were released
ABANDONED: Final = "abandoned"  # died before its folder was complete: its claims were released
FINISHED_STATES: Final = (COMPLETE, RECOVERED)

# Manifest outcomes.
PROCESSED: Final = "processed"
# Some rows were held by claims of runs not finished then: read it again next time.
HELD: Final = "held"

metadata = MetaData()


def _text(name: str) -> Column[str]:
    return Column(name, Text, nullable=False, server_default="")


def _when(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    _text("run_dir"),
    Column("kind", String(16), nullable=False, server_default="ingest"),
    _text("host"),
    Column("pid", Integer, nullable=False, server_default="0"),
    _text("proc_start"),
    _when("started_at", nullable=False),
    _when("finished_at"),
    Column("state", String(16), nullable=False),
    _text("error"),
    _text("counts"),
    _text("files"),
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
    Column("outcome", String(16), nullable=False, server_default=PROCESSED),
    _text("error"),
)

DEVICE_TEXT: Final = (schema.SERIAL_NUMBER, schema.IMEI, schema.SOURCE_FILE, *schema.DESCRIPTIVE)

devices = Table(
    "devices",
    metadata,
    Column("eid", String(32), primary_key=True),
    *(_text(name) for name in DEVICE_TEXT),
    Column("row", Integer, nullable=False, server_default="0"),
    Column("first_run", String(64), nullable=False),
    _when("first_seen_at", nullable=False),
    _text("intune_state"),
    _text("entra_object_id"),
    _when("state_at"),  # since when the device is in its current state
    _text("state_run"),  # the run that saw it get there
)

# PostgreSQL keeps its pages 40 % full (revision 0007): room for the delivered mark.
handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("operator", String(128), nullable=False),
    Column("eid", String(32), nullable=False),
    _text("serial_number"),
    _text("imei"),
    Column("run_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    _text("source_file"),
    Column("row", Integer, nullable=False, server_default="0"),
    _text("file"),
    _when("staged_at", nullable=False),
    _when("delivered_at"),
    _when("released_at"),
    _text("resend_reason"),
    _text("requested_by"),
)

# The states each device had before its current one (which is in ``devices``).
device_states = Table(
    "device_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("eid", String(32), nullable=False),
    Column("run_id", String(64), nullable=False),
    _text("intune_state"),
    _text("entra_object_id"),
    _when("recorded_at", nullable=False),
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
)
