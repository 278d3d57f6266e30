"""The follow-up database's notification tables (defined on the service's metadata).

- notify_subscriptions: the private contact store. One row per (case, address, channel);
  the address only sealed (Fernet) and as a keyed digest; erase_after is set when the
  case closes (retention) and the row is deleted then.
- notify_confirmations: an address given on /lacak waiting for its one-time code.
- notification_outbox: one row per (event id, subscription id), written in the
  notifier's poll transaction; the sender delivers it and marks it sent (or dead). The
  sealed contact is copied in for the sender and blanked once the message is sent.
"""

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)


def define_notification_tables(metadata: MetaData) -> dict[str, Table]:
    subscriptions = Table(
        "notify_subscriptions",
        metadata,
        Column("subscription_id", String(36), primary_key=True),
        Column("case_id", String(60), nullable=False, index=True),
        Column("channel", String(10), nullable=False),
        Column("language", String(2), nullable=False),
        Column("sealed_contact", Text, nullable=False),
        Column("contact_digest", String(64), nullable=False, index=True),
        Column("source", String(10), nullable=False),  # intake | lacak
        Column("token", String(64), nullable=False, unique=True),  # unsubscribe/links
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("erase_after", DateTime(timezone=True), index=True),
        UniqueConstraint("case_id", "contact_digest", "channel", name="uq_notify_subscriber"),
    )
    confirmations = Table(
        "notify_confirmations",
        metadata,
        Column("confirmation_id", String(36), primary_key=True),
        Column("case_id", String(60), nullable=False),
        Column("channel", String(10), nullable=False),
        Column("language", String(2), nullable=False),
        Column("sealed_contact", Text, nullable=False),
        Column("contact_digest", String(64), nullable=False, index=True),
        Column("client_digest", String(64), nullable=False, index=True),
        Column("code_digest", String(64), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    outbox = Table(
        "notification_outbox",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("subscription_id", String(36), primary_key=True),
        Column("case_id", String(60), nullable=False, index=True),
        Column("channel", String(10), nullable=False),
        Column("language", String(2), nullable=False),
        Column("event_type", String(40), nullable=False),
        Column("subject", Text, nullable=False),
        Column("body", Text, nullable=False),
        Column("sealed_contact", Text, nullable=False),  # blanked once sent
        Column("status", String(10), nullable=False),  # pending|sending|sent|dead
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True)),
        Column("last_error", String(200)),  # an error class and provider code, no contact
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    )
    return {"subscriptions": subscriptions, "confirmations": confirmations, "outbox": outbox}
