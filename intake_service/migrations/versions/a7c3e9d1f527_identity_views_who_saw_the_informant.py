"""identity_views: who saw an informant (issue 27), append-only

One row per answer that showed a reporter's or supporter's name or contact: the viewer
(role:subject), their unit or area, the route, the moment.

Revision ID: a7c3e9d1f527
Revises: d5f7a9c1e3b2
Create Date: 2026-12-06 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7c3e9d1f527"
down_revision = "d5f7a9c1e3b2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_views",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("aspiration_id", sa.String(length=36), nullable=False),
        sa.Column("viewer", sa.String(length=120), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=True),
        sa.Column("area", sa.String(length=20), nullable=True),
        sa.Column("via", sa.String(length=200), nullable=False),
        sa.Column(
            "seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_identity_views_aspiration_id"), "identity_views", ["aspiration_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_identity_views_aspiration_id"), table_name="identity_views")
    op.drop_table("identity_views")
