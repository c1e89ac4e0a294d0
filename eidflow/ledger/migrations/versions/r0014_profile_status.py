"""The eSIM profile's status on each PC handed off, as Intune's report gave it, and the EID
the device reports compared with the manifest's (``eidflow intune status``).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profile_statuses",
        sa.Column("eid", sa.String(32), primary_key=True),
        sa.Column("operator", sa.String(128), primary_key=True),
        *(
            sa.Column(name, sa.Text, nullable=False, server_default="")
            for name in (
                "intune_device_id",
                "policy_id",
                "status",
                "policy_status",
                "reported_at",
                "device_eid",
                "eid_check",
            )
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("profile_statuses")
