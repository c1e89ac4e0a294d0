"""The operators' answers: what each operator said about the EIDs it was handed.

- ``answers``: one line per answer recorded for an (EID, operator): ``accepted`` (with the
  bound ICCID when the operator gave it) or ``rejected`` (with the operator's reason), the
  operator's own status word, SM-DP+ address, order or batch id and time, and where the
  answer came from (the file's sha256 and name, sheet, row). Its time is its run's; it
  counts once its run is complete (or recovered), like a claim.
- ``answer_files``: each answer file a run read (sha256, name, operator, rows).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="")


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("eid", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(128), nullable=False),
        sa.Column("run_no", sa.Integer, nullable=False),
        sa.Column("answer", sa.String(16), nullable=False),
        _text("operator_status"),
        _text("operator_reason"),
        _text("iccid"),
        _text("smdp_address"),
        _text("order_id"),
        _text("answered_at"),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        _text("file_name"),
        _text("sheet"),
        sa.Column("row", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_answers_eid_operator", "answers", ["eid", "operator"])
    op.create_index("ix_answers_run_no", "answers", ["run_no"])
    op.create_table(
        "answer_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        _text("name"),
        sa.Column("run_no", sa.Integer, nullable=False),
        sa.Column("operator", sa.String(128), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_answer_files_sha256", "answer_files", ["sha256"])
    op.create_index("ix_answer_files_run_no", "answer_files", ["run_no"])


def downgrade() -> None:
    op.drop_table("answer_files")
    op.drop_table("answers")
