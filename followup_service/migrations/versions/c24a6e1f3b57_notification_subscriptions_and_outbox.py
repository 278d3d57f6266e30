"""notifications: sealed subscriptions, pending confirmations, the notification outbox

Revision ID: c24a6e1f3b57
Revises: e7a1c4d2b9f0
Create Date: 2026-12-06 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c24a6e1f3b57"
down_revision = "e7a1c4d2b9f0"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notify_subscriptions",
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=60), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("sealed_contact", sa.Text(), nullable=False),
        sa.Column("contact_digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("erase_after", TS, nullable=True),
        sa.PrimaryKeyConstraint("subscription_id"),
        sa.UniqueConstraint("case_id", "contact_digest", "channel", name="uq_notify_subscriber"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_notify_subscriptions_case_id", "notify_subscriptions", ["case_id"])
    op.create_index(
        "ix_notify_subscriptions_contact_digest", "notify_subscriptions", ["contact_digest"]
    )
    op.create_index("ix_notify_subscriptions_erase_after", "notify_subscriptions", ["erase_after"])
    op.create_table(
        "notify_confirmations",
        sa.Column("confirmation_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=60), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("sealed_contact", sa.Text(), nullable=False),
        sa.Column("contact_digest", sa.String(length=64), nullable=False),
        sa.Column("client_digest", sa.String(length=64), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("confirmation_id"),
    )
    for column in ("contact_digest", "client_digest", "created_at"):
        op.create_index(f"ix_notify_confirmations_{column}", "notify_confirmations", [column])
    op.create_table(
        "notification_outbox",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=60), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sealed_contact", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("event_id", "subscription_id"),
    )
    op.create_index("ix_notification_outbox_case_id", "notification_outbox", ["case_id"])
    op.create_index(
        "ix_notification_outbox_due", "notification_outbox", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("notification_outbox")
    op.drop_table("notify_confirmations")
    op.drop_table("notify_subscriptions")
