"""location region code and verification (issue 11 item 2)

Rows recorded before this revision get their codes when the read models are rebuilt
(`python -m intake_service.cli rebuild-projections`): replay upcasts the old events,
matching their place names in the region directory.

Revision ID: c4e6a8b0d2f1
Revises: b2d4f6a81c32
Create Date: 2026-12-06 00:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c4e6a8b0d2f1"
down_revision = "b2d4f6a81c32"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meetings", sa.Column("region_code", sa.String(length=13)))
    op.create_index(op.f("ix_meetings_region_code"), "meetings", ["region_code"], unique=False)
    op.add_column("aspirations", sa.Column("region_code", sa.String(length=13)))
    op.add_column(
        "aspirations",
        sa.Column("location_verified", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        op.f("ix_aspirations_region_code"), "aspirations", ["region_code"], unique=False
    )
    op.create_index(
        op.f("ix_aspirations_location_verified"),
        "aspirations",
        ["location_verified"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_aspirations_location_verified"), table_name="aspirations")
    op.drop_index(op.f("ix_aspirations_region_code"), table_name="aspirations")
    op.drop_column("aspirations", "location_verified")
    op.drop_column("aspirations", "region_code")
    op.drop_index(op.f("ix_meetings_region_code"), table_name="meetings")
    op.drop_column("meetings", "region_code")
