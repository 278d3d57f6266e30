"""Append-only event store with optimistic concurrency, on SQLAlchemy Core.

Every method takes the caller's connection, so an append, the outbox row and any
projection update commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC

from sqlalchemy import Connection, MetaData, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from shared.events.envelope import EventEnvelope, NewEvent, utcnow
from shared.events.registry import EventRegistry
from shared.timeutil import as_utc

# Appends that publish notify this channel at commit, so the relay wakes at once.
OUTBOX_CHANNEL = "outbox"


class ConcurrencyError(Exception):
    """The stream moved on since the caller read it."""

    def __init__(self, stream_id: str, expected: int, actual: int):
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        super().__init__(f"stream {stream_id!r} is at version {actual}, expected {expected}")


class EventStore:
    def __init__(self, metadata: MetaData, registry: EventRegistry, topic: str | None = None):
        self.events = metadata.tables["events"]
        self.outbox = metadata.tables["outbox"]
        self.registry = registry
        self.topic = topic

    def stream_version(self, conn: Connection, stream_id: str) -> int:
        t = self.events
        return conn.execute(
            select(func.coalesce(func.max(t.c.stream_version), 0)).where(t.c.stream_id == stream_id)
        ).scalar_one()

    def append(
        self,
        conn: Connection,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[NewEvent],
        *,
        publish: bool = True,
        message_key: str | None = None,
    ) -> list[EventEnvelope]:
        """Append events after expected_version; raise ConcurrencyError if it moved.

        publish=False keeps events private to this service (no outbox row), e.g. a
        reporter's contact. message_key (default: the stream id) is the Kafka key,
        so events of related streams can share a partition and its order.

        The unique (stream_id, stream_version) constraint is the real guard: two
        writers that both read version N cannot both insert N+1.
        """
        actual = self.stream_version(conn, stream_id)
        if actual != expected_version:
            raise ConcurrencyError(stream_id, expected_version, actual)
        now = utcnow()
        rows = []
        for offset, event in enumerate(new_events, start=1):
            version = event.schema_version or self.registry.latest_version(event.event_type)
            rows.append(
                {
                    "event_id": event.event_id,
                    "stream_id": stream_id,
                    "stream_version": expected_version + offset,
                    "event_type": event.event_type,
                    "schema_version": version,
                    "occurred_at": as_utc(event.occurred_at),
                    "recorded_at": now,
                    "actor": event.actor,
                    "correlation_id": event.correlation_id,
                    "causation_id": event.causation_id,
                    "payload": self.registry.validate(event.event_type, version, event.payload),
                }
            )
        try:
            with conn.begin_nested():
                positions = (
                    conn.execute(
                        insert(self.events).returning(
                            self.events.c.global_position, sort_by_parameter_order=True
                        ),
                        rows,
                    )
                    .scalars()
                    .all()
                )
        except IntegrityError as exc:
            raise ConcurrencyError(
                stream_id, expected_version, self.stream_version(conn, stream_id)
            ) from exc
        envelopes = [
            envelope_from_row({**row, "global_position": position})
            for row, position in zip(rows, positions, strict=True)
        ]
        if self.topic and publish:
            conn.execute(insert(self.outbox), self.outbox_rows(envelopes, message_key, now))
            conn.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
        return envelopes

    def outbox_rows(self, envelopes, message_key: str | None, now) -> list[dict]:
        """Outbox rows carrying the records' bytes, so the relay sends without re-encoding."""
        return [
            {
                "topic": self.topic,
                "message_key": message_key or envelope.stream_id,
                "global_position": envelope.global_position,
                "created_at": now,
                "event_type": envelope.event_type,
                "schema_version": envelope.schema_version,
                "value": envelope.to_wire(),
            }
            for envelope in envelopes
        ]

    def read_stream(self, conn: Connection, stream_id: str) -> list[EventEnvelope]:
        t = self.events
        result = conn.execute(
            select(t).where(t.c.stream_id == stream_id).order_by(t.c.stream_version)
        )
        return [self.registry.upcast_stored(envelope_from_row(row._mapping)) for row in result]

    def read_all(
        self, conn: Connection, after_position: int = 0, batch_size: int = 10_000
    ) -> Iterator[EventEnvelope]:
        """All events in global order, streamed through a server-side cursor in pages of
        batch_size rows (for projection rebuilds and replays)."""
        t = self.events
        result = conn.execute(
            select(t).where(t.c.global_position > after_position).order_by(t.c.global_position),
            execution_options={"yield_per": batch_size},  # this statement only
        )
        upcast = self.registry.upcast_stored
        for row in result:
            yield upcast(envelope_from_row(row._mapping))

    def load_by_positions(self, conn: Connection, positions: Sequence[int]) -> list[EventEnvelope]:
        t = self.events
        rows = conn.execute(
            select(t).where(t.c.global_position.in_(positions)).order_by(t.c.global_position)
        )
        return [envelope_from_row(row._mapping) for row in rows]


def _aware(value):
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def envelope_from_row(row) -> EventEnvelope:
    """Build an envelope from an events-table row mapping."""
    return EventEnvelope(
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        occurred_at=_aware(row["occurred_at"]),
        recorded_at=_aware(row["recorded_at"]),
        payload=row["payload"],
        actor=row["actor"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        global_position=row["global_position"],
    )
