"""Tables every service's database has: the event log, its outbox, consumer tracking."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
)

Position = BigInteger()


def define_event_tables(metadata: MetaData) -> None:
    """Add the event-sourcing tables to a service's metadata."""
    Table(
        "events",
        metadata,
        Column("global_position", Position, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("stream_id", String(120), nullable=False),
        Column("stream_version", Integer, nullable=False),
        Column("event_type", String(80), nullable=False),
        Column("schema_version", Integer, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("actor", String(120)),
        Column("correlation_id", String(64)),
        Column("causation_id", String(64)),
        Column("payload", JSON, nullable=False),
        UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    )
    # Rows written in the same transaction as the event; the relay deletes them once
    # Kafka has acknowledged, so a row here means "not yet published".
    Table(
        "outbox",
        metadata,
        Column("id", Position, primary_key=True, autoincrement=True),
        Column("topic", String(200), nullable=False),
        Column("message_key", String(120), nullable=False),
        Column("global_position", Position, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        # The Kafka record as it will be sent, encoded once at append time. NULL only on
        # rows written before these columns existed; the relay encodes those itself.
        Column("event_type", String(80)),
        Column("schema_version", Integer),
        Column("value", LargeBinary),
        # sent as a record header and logged by the relay (shared/logs.py)
        Column("correlation_id", String(64)),
    )
    Table(
        "consumer_offsets",
        metadata,
        Column("group_id", String(200), primary_key=True),
        Column("topic", String(200), primary_key=True),
        Column("partition", Integer, primary_key=True),
        Column("next_offset", BigInteger, nullable=False),
    )
    # Ids a consumer group has handled, to drop redeliveries; pruned once Kafka can no
    # longer redeliver them (see OffsetStore.prune and kafka_io.redelivery_horizon).
    Table(
        "processed_events",
        metadata,
        Column("group_id", String(200), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column(
            "processed_at",
            DateTime(timezone=True),
            nullable=False,
            server_default=func.now(),
            index=True,
        ),
    )
    # Dead-lettered records replayed into a consumer group (shared/eventstore/dead_letters.py),
    # written in the same transaction as the replay's effects: a record is replayed once.
    Table(
        "dead_letter_replays",
        metadata,
        Column("group_id", String(200), primary_key=True),
        Column("topic", String(200), primary_key=True),
        Column("partition", Integer, primary_key=True),
        Column("offset", BigInteger, primary_key=True),
        Column("event_id", String(36)),
        Column("outcome", String(40), nullable=False),
        Column("replayed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
