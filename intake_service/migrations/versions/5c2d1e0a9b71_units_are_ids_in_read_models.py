"""units are ids in the read models

The events are upcast on read (MeetingRecorded v2, AspirationRecorded v3); this brings
rows projected before then to the same ids, as a rebuild by replay would. The SQL is
shared/units.py unit_id for the ASCII names units have.

Revision ID: 5c2d1e0a9b71
Revises: e67ef0041db1
Create Date: 2026-11-25
"""

from alembic import op

revision = "5c2d1e0a9b71"
down_revision = "e67ef0041db1"
branch_labels = None
depends_on = None

SLUG = "trim(both '-' from regexp_replace(lower(unit), '[^a-z0-9]+', '-', 'g'))"


def upgrade() -> None:
    for table in ("meetings", "aspirations"):
        op.execute(f"UPDATE {table} SET unit = {SLUG} WHERE unit IS NOT NULL AND unit <> {SLUG}")


def downgrade() -> None:
    pass  # display names are looked up from ids; nothing to restore
