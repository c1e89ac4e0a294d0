"""Initial ledger: runs, manifests received, devices, hand-off claims.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
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


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="")


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        _text("run_dir"),
        sa.Column("kind", sa.String(16), nullable=False, server_default="ingest"),
        _text("host"),
        sa.Column("pid", sa.Integer, nullable=False, server_default="0"),
        _text("proc_start"),
        _when("started_at", nullable=False),
        _when("finished_at"),
        sa.Column("state", sa.String(16), nullable=False),
        _text("error"),
        _text("counts"),
        _text("files"),
    )
    op.create_index("ix_runs_state", "runs", ["state"])
    op.create_table(
        "manifests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        _text("name"),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
        _when("received_at", nullable=False),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(16), nullable=False, server_default="processed"),
        _text("error"),
    )
    op.create_index("ix_manifests_sha256", "manifests", ["sha256"])
    op.create_table(
        "devices",
        sa.Column("eid", sa.String(32), primary_key=True),
        _text("serial_number"),
        _text("imei"),
        _text("source_file"),
        *(_text(name) for name in DESCRIPTIVE),
        sa.Column("row", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_run", sa.String(64), nullable=False),
        _when("first_seen_at", nullable=False),
    )
    op.create_index("ix_devices_serial_number", "devices", ["serial_number"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("operator", sa.String(128), nullable=False),
        sa.Column("eid", sa.String(32), nullable=False),
        _text("serial_number"),
        _text("imei"),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _text("source_file"),
        sa.Column("row", sa.Integer, nullable=False, server_default="0"),
        _text("file"),
        _when("staged_at", nullable=False),
        _when("delivered_at"),
        _when("released_at"),
    )
    op.create_index("ix_handoffs_eid", "handoffs", ["eid"])
    op.create_index("ix_handoffs_serial_number", "handoffs", ["serial_number"])
    op.create_index("ix_handoffs_run_id", "handoffs", ["run_id"])
    live = sa.text("state <> 'released'")
    op.create_index(
        "uq_handoffs_live",
        "handoffs",
        ["operator", "eid"],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )
