"""Each change ``eidflow groups sync --apply`` made to a static group, and Graph's answer.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("entra_object_id", sa.String(64), nullable=False),
        sa.Column("eid", sa.Text, nullable=False, server_default=""),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("http_status", sa.Integer, nullable=False, server_default="0"),
        sa.Column("answer", sa.Text, nullable=False, server_default=""),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_group_changes_group_object", "group_changes", ["group_id", "entra_object_id"]
    )
    op.create_index("ix_group_changes_run", "group_changes", ["run_id"])


def downgrade() -> None:
    op.drop_table("group_changes")
