"""A lean ledger: one narrow claim line per (EID, operator), delivery recorded per run.

Until now a claim wrote a 15-column ``handoffs`` line (five B-trees) and a 19-column
``devices`` line, and delivering rewrote every ``handoffs`` line: 745 MB per 1,000,000
EIDs and most of a run's time. Now:

- ``claims``: the live claims, keyed by ``(eid, operator)`` (the exactly-once key itself,
  ``WITHOUT ROWID`` on SQLite), with the device's serial, IMEI, manifest, row, its
  descriptive fields by reference and its current Intune state. A claim's state is its
  run's: staged while the run is live, delivered once it is complete or recovered.
- ``serials``: (serial, EID), the conflict checks' index by serial, filled in serial order.
- ``descriptions``: each distinct set of descriptive fields once.
- ``released``: claims given back (audit); ``resends``: deliberate re-sends.
- ``runs``: ``run_no`` (claims refer to runs by it), ``destination`` (where the run's files
  go) and ``delivery`` (``delivering`` once the first file has left), so that a run that
  died is settled from the ledger and its target, never from a host's local folder.

Every live claim, released claim, re-send, device state and manifest is carried over;
the hand-off times become those of their runs.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

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
SAME_DESCRIPTION = " AND ".join(f"x.{name} = d.{name}" for name in DESCRIPTIVE)
# The claim's manifest: the first one of that name its run recorded.
MANIFEST_OF = (
    "(SELECT MIN(m.id) FROM manifests m WHERE m.run_id = h.run_id AND m.name = h.source_file)"
)
DESCRIPTION_OF = f"(SELECT x.id FROM descriptions x WHERE {SAME_DESCRIPTION})"


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="")


def _number(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default="0")


def _claim_columns(key: bool) -> list[sa.Column]:
    return [
        sa.Column("eid", sa.String(32), primary_key=key, nullable=False),
        sa.Column("operator", sa.String(128), primary_key=key, nullable=False),
        sa.Column("run_no", sa.Integer, nullable=False),
        _text("serial_number"),
        _text("imei"),
        _number("manifest"),
        _number("row"),
        _number("description"),
        _text("intune_state"),
        _text("entra_object_id"),
        _number("state_run"),
    ]


def upgrade() -> None:
    _runs()
    _tables()
    _descriptions()
    _manifests_of_claims()
    _claims()
    _released_and_resends()
    op.drop_table("handoffs")
    op.drop_table("devices")


def _runs() -> None:
    op.add_column("runs", _number("run_no"))
    op.add_column("runs", _text("destination"))
    op.add_column("runs", _text("delivery"))
    # A claim whose run the ledger lost (hand-edited) keeps a run to belong to.
    op.execute(
        "INSERT INTO runs (run_id, run_dir, kind, started_at, finished_at, state)"
        " SELECT DISTINCT h.run_id, '', 'ingest', h.staged_at, h.staged_at, 'complete'"
        " FROM handoffs h WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = h.run_id)"
    )
    op.execute(
        "UPDATE runs SET run_no = (SELECT COUNT(*) FROM runs o WHERE o.started_at < "
        "runs.started_at OR (o.started_at = runs.started_at AND o.run_id <= runs.run_id))"
    )
    op.create_index("uq_runs_run_no", "runs", ["run_no"], unique=True)
    # A run live now (an older eidflow running, or one that died) is settled as its folder
    # says, as before: its destination is its folder, and it may have started delivering.
    op.execute(
        "UPDATE runs SET destination = run_dir, delivery = 'delivering' WHERE state = 'live'"
        " AND EXISTS (SELECT 1 FROM handoffs h WHERE h.run_id = runs.run_id"
        " AND h.state = 'delivered')"
    )
    op.execute("UPDATE runs SET destination = run_dir WHERE destination = ''")


def _tables() -> None:
    op.create_table(
        "descriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *(_text(name) for name in DESCRIPTIVE),
    )
    op.create_index("uq_descriptions", "descriptions", list(DESCRIPTIVE), unique=True)
    op.create_table("claims", *_claim_columns(key=True), sqlite_with_rowid=False)
    op.create_table(
        "serials",
        sa.Column("serial_number", sa.Text, primary_key=True),
        sa.Column("eid", sa.String(32), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "released",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_claim_columns(key=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_released_eid", "released", ["eid"])
    op.create_index("ix_released_run_no", "released", ["run_no"])
    op.create_table(
        "resends",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("eid", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(128), nullable=False),
        sa.Column("run_no", sa.Integer, nullable=False),
        _text("reason"),
        _text("requested_by"),
    )
    op.create_index("ix_resends_eid", "resends", ["eid"])
    op.create_index("ix_resends_run_no", "resends", ["run_no"])


def _descriptions() -> None:
    fields = ", ".join(DESCRIPTIVE)
    anything = " OR ".join(f"{name} <> ''" for name in DESCRIPTIVE)
    op.execute(
        f"INSERT INTO descriptions ({fields}) SELECT DISTINCT {fields} FROM devices"
        f" WHERE {anything}"
    )


def _manifests_of_claims() -> None:
    """A manifest known only as where claims came from (a run that died before recording
    it) is recorded so that claims can name it; it never counts as processed."""
    op.execute(
        "INSERT INTO manifests (sha256, name, run_id, received_at, rows, outcome, error)"
        " SELECT DISTINCT '', h.source_file, h.run_id, r.started_at, 0, 'source', ''"
        " FROM handoffs h JOIN runs r ON r.run_id = h.run_id WHERE h.source_file <> ''"
        " AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.run_id = h.run_id"
        " AND m.name = h.source_file)"
    )


def _claims() -> None:
    op.execute(
        "INSERT INTO claims (eid, operator, run_no, serial_number, imei, manifest, row,"
        " description, intune_state, entra_object_id, state_run)"
        " SELECT h.eid, h.operator, r.run_no, h.serial_number, h.imei,"
        f" COALESCE({MANIFEST_OF}, 0), h.row,"
        f" COALESCE({DESCRIPTION_OF}, 0),"
        " COALESCE(d.intune_state, ''), COALESCE(d.entra_object_id, ''),"
        " COALESCE((SELECT s.run_no FROM runs s WHERE s.run_id = d.state_run), 0)"
        " FROM handoffs h JOIN runs r ON r.run_id = h.run_id"
        " LEFT JOIN devices d ON d.eid = h.eid"
        " WHERE h.released_at IS NULL AND h.resend_reason = ''"
    )
    op.execute(
        "INSERT INTO serials (serial_number, eid)"
        " SELECT DISTINCT serial_number, eid FROM claims WHERE serial_number <> ''"
    )


def _released_and_resends() -> None:
    op.execute(
        "INSERT INTO released (eid, operator, run_no, serial_number, imei, manifest, row,"
        " description, intune_state, entra_object_id, state_run, released_at)"
        " SELECT h.eid, h.operator, r.run_no, h.serial_number, h.imei,"
        f" COALESCE({MANIFEST_OF}, 0), h.row, 0, '', '', 0, h.released_at"
        " FROM handoffs h JOIN runs r ON r.run_id = h.run_id"
        " WHERE h.released_at IS NOT NULL AND h.resend_reason = ''"
    )
    op.execute(
        "INSERT INTO resends (eid, operator, run_no, reason, requested_by)"
        " SELECT h.eid, h.operator, r.run_no, h.resend_reason, h.requested_by"
        " FROM handoffs h JOIN runs r ON r.run_id = h.run_id WHERE h.resend_reason <> ''"
        " ORDER BY h.id"
    )
