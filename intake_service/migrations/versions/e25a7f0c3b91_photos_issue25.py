"""photos (issue 25): uploaded photos, who uploaded them, which aspiration names them

Revision ID: e25a7f0c3b91
Revises: b24e1a7c9d03
Create Date: 2026-12-06 10:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e25a7f0c3b91"
down_revision = "b24e1a7c9d03"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=120), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aspiration_id", sa.String(length=36), nullable=True),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("photo_id"),
    )
    op.create_index("ix_photos_sha256", "photos", ["sha256"])
    op.create_index("ix_photos_unit", "photos", ["unit"])
    op.create_index("ix_photos_aspiration_id", "photos", ["aspiration_id"])


def downgrade() -> None:
    op.drop_table("photos")
