"""integration token purpose (Open311 apps)

Revision ID: 6d977b3d9009
Revises: 287858886694
Create Date: 2026-11-25 07:04:58.118102
"""

import sqlalchemy as sa
from alembic import op

revision = "6d977b3d9009"
down_revision = "287858886694"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "integration_tokens",
        sa.Column("purpose", sa.String(length=20), server_default="liaison", nullable=False),
    )
    op.alter_column(
        "integration_tokens", "agency", existing_type=sa.VARCHAR(length=120), nullable=True
    )


def downgrade() -> None:
    op.alter_column(
        "integration_tokens", "agency", existing_type=sa.VARCHAR(length=120), nullable=False
    )
    op.drop_column("integration_tokens", "purpose")
