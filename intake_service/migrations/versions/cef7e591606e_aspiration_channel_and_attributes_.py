"""aspiration channel and attributes (Open311 requests)

Revision ID: cef7e591606e
Revises: 03d4beb28afb
Create Date: 2026-11-25 07:04:57.594947
"""

import sqlalchemy as sa
from alembic import op

revision = "cef7e591606e"
down_revision = "03d4beb28afb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "aspirations",
        sa.Column("channel", sa.String(length=20), server_default="officer", nullable=False),
    )
    op.add_column("aspirations", sa.Column("channel_client", sa.String(length=200)))
    op.add_column("aspirations", sa.Column("attributes", sa.JSON()))
    op.create_index(op.f("ix_aspirations_channel"), "aspirations", ["channel"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_aspirations_channel"), table_name="aspirations")
    op.drop_column("aspirations", "attributes")
    op.drop_column("aspirations", "channel_client")
    op.drop_column("aspirations", "channel")
