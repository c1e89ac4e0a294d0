"""The exactly-once index tells live claims by ``released_at``, not by ``state``.

A claim is live while it is not released; releasing a claim always sets
``released_at`` and restaging one clears it, so ``released_at IS NULL`` picks the
same claims as ``state <> 'released'``. Marking a run's claims delivered changes
``state``: with ``state`` in the index's condition, SQLite rewrote the index entry of
every claim (2.5 of the 3 s of marking 1,000,000 claims delivered). Nothing in the
index's condition changes on delivery any more.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every release eidflow wrote set released_at; a released claim without one (written
    # by hand) takes its last known time, so that it stays out of the index.
    op.execute(
        "UPDATE handoffs SET released_at = COALESCE(delivered_at, staged_at)"
        " WHERE state = 'released' AND released_at IS NULL"
    )
    op.drop_index("uq_handoffs_live", table_name="handoffs")
    live = sa.text("released_at IS NULL AND resend_reason = ''")
    op.create_index(
        "uq_handoffs_live",
        "handoffs",
        ["operator", "eid"],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )
