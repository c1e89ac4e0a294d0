"""Drop the index on ``devices.serial_number``: no query uses it.

The only look-up of a device by serial (``eidflow show``) compares
``UPPER(serial_number)``, which a plain index cannot serve; the claim checks look
serials up in ``handoffs``. Each new device paid a random insert into it: about 1 s
of a 1,000,000-device ingest on SQLite.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_devices_serial_number", table_name="devices")
