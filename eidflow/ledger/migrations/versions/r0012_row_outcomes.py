"""The rows a complete run did not hand off (rejected, duplicate in the run, held back as a
conflict), so that ``eidflow show`` finds every PC eidflow has read, not only the claimed.

One line per manifest row (its file, sheet and row; the file by the ``manifests`` line that
first received its bytes, a number rather than a sha256 twice a line): a file read again
updates its lines and names the run that read it last.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _text(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "row_outcomes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_no", sa.Integer, nullable=False),
        sa.Column("first_run_no", sa.Integer, nullable=False),
        sa.Column("manifest", sa.Integer, nullable=False, server_default="0"),
        sa.Column("file", sa.Integer, nullable=False),
        _text("sheet"),
        sa.Column("row", sa.Integer, nullable=False, server_default="0"),
        _text("eid"),
        _text("eid_raw"),
        _text("serial_number"),
        _text("imei"),
        sa.Column("description", sa.Integer, nullable=False, server_default="0"),
        _text("operator"),
        sa.Column("status", sa.String(16), nullable=False),
        _text("reason"),
        _text("detail"),
    )
    op.create_index("uq_row_outcomes_row", "row_outcomes", ["file", "sheet", "row"], unique=True)
    for column in ("eid", "eid_raw", "serial_number", "imei"):
        op.create_index(f"ix_row_outcomes_{column}", "row_outcomes", [column])


def downgrade() -> None:
    op.drop_table("row_outcomes")
