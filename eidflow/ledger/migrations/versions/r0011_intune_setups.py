"""What ``eidflow intune setup --apply`` left in the tenant, per operator: the group's and the
eSIM policy's ids (they were kept in a file under the runs folder of one host).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intune_setups",
        sa.Column("operator", sa.String(128), primary_key=True),
        *(
            sa.Column(name, sa.Text, nullable=False, server_default="")
            for name in ("server", "group_id", "group_name", "policy_id", "policy_name")
        ),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("intune_setups")
