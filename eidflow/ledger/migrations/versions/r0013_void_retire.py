"""Corrections: a hand-off voided (``eidflow void``) and a PC retired (``eidflow retire``).

``voids``: one line per run and operator voided, with why and who; ``retirements``: one line
per retirement and per undo. ``released.released_by``: the run (``run_no``) of the void or
retirement that gave the claim back (0: its own run failed or died).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default="")


def upgrade() -> None:
    op.add_column(
        "released", sa.Column("released_by", sa.Integer, nullable=False, server_default="0")
    )
    op.create_table(
        "voids",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("voided_run_no", sa.Integer, nullable=False),
        sa.Column("operator", sa.String(128), nullable=False),
        sa.Column("released_by", sa.Integer, nullable=False),
        sa.Column("run_no", sa.Integer, nullable=False),
        sa.Column("eids", sa.Integer, nullable=False, server_default="0"),
        _text("reason"),
        _text("requested_by"),
    )
    op.create_index("uq_voids_run_operator", "voids", ["voided_run_no", "operator"], unique=True)
    op.create_table(
        "retirements",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("eid", sa.String(32), nullable=False),
        _text("serial_number"),
        _text("entra_object_id"),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("run_no", sa.Integer, nullable=False),
        _text("reason"),
        _text("requested_by"),
    )
    op.create_index("ix_retirements_eid", "retirements", ["eid"])


def downgrade() -> None:
    op.drop_table("retirements")
    op.drop_table("voids")
    op.drop_column("released", "released_by")
