"""cases.location_verified (issue 11 item 2): false is "lokasi belum terverifikasi"

Existing rows are filled from their region (a kelurahan/desa code is verified), which is
what the projection computes; a rebuild gives the same.

Revision ID: d5f7b9c1e3a2
Revises: a1c3e5f70b21
Create Date: 2026-12-06 00:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d5f7b9c1e3a2"
down_revision = "a1c3e5f70b21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("location_verified", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        op.f("ix_cases_location_verified"), "cases", ["location_verified"], unique=False
    )
    op.execute(
        "UPDATE cases SET location_verified = "
        "(region ~ '^[0-9]{2}\\.[0-9]{2}\\.[0-9]{2}\\.[0-9]{4}$')"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_location_verified"), table_name="cases")
    op.drop_column("cases", "location_verified")
