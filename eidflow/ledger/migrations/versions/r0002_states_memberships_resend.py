"""Intune state history, Entra group memberships, deliberate re-sends.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="")


def upgrade() -> None:
    op.add_column("devices", _text("intune_state"))
    op.add_column("devices", _text("entra_object_id"))
    op.add_column("devices", sa.Column("state_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "device_states",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("eid", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
        _text("intune_state"),
        _text("entra_object_id"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_device_states_eid", "device_states", ["eid"])
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("eid", sa.String(32), nullable=False),
        sa.Column("entra_object_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_memberships_eid", "memberships", ["eid"])
    op.create_index(
        "uq_memberships_group_object", "memberships", ["group_id", "entra_object_id"], unique=True
    )
    # A re-send is a second hand-off of the same (operator, eid), on purpose and with a
    # reason: it stays out of the exactly-once index.
    op.add_column("handoffs", _text("resend_reason"))
    op.add_column("handoffs", _text("requested_by"))
    op.drop_index("uq_handoffs_live", table_name="handoffs")
    live = sa.text("state <> 'released' AND resend_reason = ''")
    op.create_index(
        "uq_handoffs_live",
        "handoffs",
        ["operator", "eid"],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )
