"""admin_case_views: every read of case content by an admin (issue 27), append-only

Revision ID: b8d2f4a6c913
Revises: f26b0c4d8e19
Create Date: 2026-12-06 10:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b8d2f4a6c913"
down_revision = "f26b0c4d8e19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_case_views",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=60), nullable=False),
        sa.Column("viewer", sa.String(length=120), nullable=False),
        sa.Column("via", sa.String(length=200), nullable=False),
        sa.Column(
            "seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_admin_case_views_case_id"), "admin_case_views", ["case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_case_views_case_id"), table_name="admin_case_views")
    op.drop_table("admin_case_views")
