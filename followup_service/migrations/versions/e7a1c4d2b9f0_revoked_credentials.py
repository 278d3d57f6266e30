"""revoked credentials: sign-outs and operator-token revocations kept durably

Revision ID: e7a1c4d2b9f0
Revises: d5f7b9c1e3a2
Create Date: 2026-12-06 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e7a1c4d2b9f0"
down_revision = "d5f7b9c1e3a2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_credentials",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id"),
    )
    op.create_index(
        "ix_revoked_credentials_expires_at", "revoked_credentials", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_revoked_credentials_expires_at", table_name="revoked_credentials")
    op.drop_table("revoked_credentials")
