"""case photos from the case's own events (issue 25): who attached a proof photo

`case_photos` becomes the read model of PhotoAttached/PhotoRemoved in the case streams
(rebuilt by replay); a proof photo records the agency whose staff attached it (a liaison
may remove only those) and the actor. Rows written before have neither (NULL).

Revision ID: a7c3e5f90b12
Revises: f25b8e1d4c62
Create Date: 2026-12-06 13:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7c3e5f90b12"
down_revision = "f25b8e1d4c62"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_photos", sa.Column("agency_id", sa.String(length=120), nullable=True))
    op.add_column("case_photos", sa.Column("added_by", sa.String(length=120), nullable=True))


def downgrade() -> None:
    op.drop_column("case_photos", "added_by")
    op.drop_column("case_photos", "agency_id")
