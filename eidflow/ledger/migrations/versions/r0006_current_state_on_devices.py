"""A device's current Intune state lives on ``devices``; ``device_states`` holds the ones before.

Until now every recorded state was a ``device_states`` line, the current one too,
and ``devices.state_at`` was the last time any state was recorded. A claim now
records the state of each device it registers in the same insert (a 1,000,000-row
ingest wrote a million history lines and updated a million devices after its claim).

``devices.state_run`` is new: the run that saw the current state. For each device
with a state, its latest history line becomes the current state (``state_at`` its
time, ``state_run`` its run) and leaves the history.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LATEST = (
    "SELECT id, eid, run_id, recorded_at FROM (SELECT id, eid, run_id, recorded_at,"
    " ROW_NUMBER() OVER (PARTITION BY eid ORDER BY recorded_at DESC, id DESC) AS n"
    " FROM device_states) ranked WHERE n = 1"
)


def upgrade() -> None:
    op.add_column("devices", sa.Column("state_run", sa.Text(), nullable=False, server_default=""))
    op.execute(f"CREATE TEMPORARY TABLE latest_states AS {LATEST}")
    op.execute(
        "UPDATE devices SET"
        " state_run = (SELECT l.run_id FROM latest_states l WHERE l.eid = devices.eid),"
        " state_at = (SELECT l.recorded_at FROM latest_states l WHERE l.eid = devices.eid)"
        " WHERE state_at IS NOT NULL AND eid IN (SELECT eid FROM latest_states)"
    )
    op.execute("DELETE FROM device_states WHERE id IN (SELECT id FROM latest_states)")
    op.execute("DROP TABLE latest_states")
