"""case photos (issue 25): the photos an aspiration names, kept with its case

Revision ID: f25b8e1d4c62
Revises: c9e1a3b5d724
Create Date: 2026-12-06 10:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f25b8e1d4c62"
down_revision = "c9e1a3b5d724"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_photos",
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=60), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("kind", sa.String(length=10), server_default="before", nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("photo_id"),
    )
    op.create_index("ix_case_photos_case_id", "case_photos", ["case_id"])


def downgrade() -> None:
    op.drop_table("case_photos")
