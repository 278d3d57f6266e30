"""notify requests: a reporter's sealed contact until the follow-up notifier takes it

Revision ID: b24e1a7c9d03
Revises: a7c3e9d1f527
Create Date: 2026-12-06 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b24e1a7c9d03"
down_revision = "a7c3e9d1f527"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_requests",
        sa.Column("aspiration_id", sa.String(length=36), nullable=False),
        sa.Column("sealed_contact", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("aspiration_id"),
    )


def downgrade() -> None:
    op.drop_table("notify_requests")
