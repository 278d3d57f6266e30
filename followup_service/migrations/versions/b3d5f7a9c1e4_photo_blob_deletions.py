"""photo_blob_deletions: a removed photo's blob stays queued until the store deleted it

A removal (an erasure request) records PhotoRemoved and, in the same transaction, the
blob to delete; the store is asked right after the commit, and the worker asks again
while the store is away, so an erasure is never forgotten between the two.

Revision ID: b3d5f7a9c1e4
Revises: a7c3e5f90b12
Create Date: 2026-12-06 13:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b3d5f7a9c1e4"
down_revision = "a7c3e5f90b12"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo_blob_deletions",
        sa.Column("sha256", sa.String(length=64), primary_key=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
    )
    op.create_index(
        "ix_photo_blob_deletions_next_attempt_at", "photo_blob_deletions", ["next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_photo_blob_deletions_next_attempt_at", table_name="photo_blob_deletions")
    op.drop_table("photo_blob_deletions")
