"""Append-only event store with optimistic concurrency, on SQLAlchemy Core.

Every method takes the caller's connection, so an append, the outbox row and any
projection update commit or roll back together.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC

from sqlalchemy import Connection, MetaData, bindparam, delete, exists, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from shared import logs
from shared.bulk import insert_rows, rows_parameter
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


EVENT_COLUMNS = (
    "event_id",
    "stream_id",
    "stream_version",
    "event_type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "actor",
    "correlation_id",
    "causation_id",
    "payload",
)
OUTBOX_COLUMNS = (
    "topic",
    "message_key",
    "global_position",
    "created_at",
    "event_type",
    "schema_version",
    "value",
    "correlation_id",
)


_CURSOR_NUMBERS = itertools.count()  # server-side cursors of one connection need their own names
ENVELOPE_FIELDS = tuple(f.name for f in fields(EventEnvelope))  # all columns of `events`


@dataclass(frozen=True)
class StreamAppend:
    """New events for one stream, to go after expected_version (see EventStore.append)."""

    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]
    publish: bool = True
    message_key: str | None = None


class EventStore:
    def __init__(self, metadata: MetaData, registry: EventRegistry, topic: str | None = None):
        self.events = metadata.tables["events"]
        self.outbox = metadata.tables["outbox"]
        self.registry = registry
        self.topic = topic
        # A row whose stream version is taken is skipped, not an error: the append sees the
        # missing row, undoes its own and raises ConcurrencyError, so no savepoint (two
        # more round trips on every write) is needed to keep the transaction usable.
        self._insert_events = (
            insert_rows(self.events, EVENT_COLUMNS)
            .on_conflict_do_nothing(index_elements=["stream_id", "stream_version"])
            .returning(self.events.c.event_id, self.events.c.global_position)
        )
        # The outbox rows and the relay's wake-up call (delivered at commit) in one statement.
        outbox = (
            insert_rows(self.outbox, OUTBOX_COLUMNS).returning(self.outbox.c.id).cte("published")
        )
        self._insert_outbox = select(func.pg_notify(OUTBOX_CHANNEL, "")).where(
            exists(select(outbox.c.id))
        )

    def stream_version(self, conn: Connection, stream_id: str) -> int:
        return self.stream_versions(conn, [stream_id]).get(stream_id, 0)

    def stream_versions(self, conn: Connection, stream_ids: Iterable[str]) -> dict[str, int]:
        """The current version of each stream that exists (absent streams are left out)."""
        t = self.events
        rows = conn.execute(
            select(t.c.stream_id, func.max(t.c.stream_version))
            .where(t.c.stream_id.in_(sorted(set(stream_ids))))
            .group_by(t.c.stream_id)
        )
        return {stream_id: version for stream_id, version in rows}

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
        append = StreamAppend(stream_id, expected_version, new_events, publish, message_key)
        return self.append_many(conn, [append]).get(stream_id, [])

    def append_many(
        self, conn: Connection, appends: Sequence[StreamAppend]
    ) -> dict[str, list[EventEnvelope]]:
        """Append to several streams at once: one INSERT for the events, one for the outbox.

        Each append's expected version is what the caller read in this transaction, and
        is not queried again: the unique (stream_id, stream_version) constraint turns a
        stream that moved meanwhile into ConcurrencyError (naming the first stream that
        moved), after undoing this append's rows, so the caller's transaction stays
        usable. Returns the stored envelopes per stream. A stream may appear once.
        Round trips: one INSERT for the events, one for the outbox and its NOTIFY.
        """
        appends = [a for a in appends if a.events]
        if not appends:
            return {}
        if len({a.stream_id for a in appends}) != len(appends):
            raise ValueError("append_many takes each stream once")
        now = utcnow()
        rows = [
            self._row(a.stream_id, a.expected_version + offset, event, now)
            for a in appends
            for offset, event in enumerate(a.events, start=1)
        ]
        positions = dict(conn.execute(self._insert_events, rows_parameter(rows)).all())
        if len(positions) != len(rows):
            self._undo_and_raise(conn, appends, rows, positions)
        stored = [
            envelope_from_row({**row, "global_position": positions[row["event_id"]]})
            for row in rows
        ]
        keys = {a.stream_id: a.message_key or a.stream_id for a in appends if a.publish}
        if self.topic and keys:
            outbox = [
                {
                    "topic": self.topic,
                    "message_key": keys[e.stream_id],
                    "global_position": e.global_position,
                    "created_at": now,
                    # the record as the relay will send it, encoded once (bytea hex)
                    "event_type": e.event_type,
                    "schema_version": e.schema_version,
                    "value": "\\x" + e.to_wire().hex(),
                    "correlation_id": e.correlation_id,
                }
                for e in stored
                if e.stream_id in keys
            ]
            conn.execute(self._insert_outbox, rows_parameter(outbox))
        by_stream: dict[str, list[EventEnvelope]] = {a.stream_id: [] for a in appends}
        for envelope in stored:
            by_stream[envelope.stream_id].append(envelope)
        return by_stream

    def _undo_and_raise(self, conn: Connection, appends, rows: list[dict], inserted) -> None:
        """Another writer holds a version this append wanted: delete the rows this append
        did insert (the caller's transaction is as it was) and raise ConcurrencyError
        for the first stream that moved."""
        if inserted:
            e = self.events
            conn.execute(delete(e).where(e.c.event_id == func.any(_texts(list(inserted)))))
        taken = [row for row in rows if row["event_id"] not in inserted]
        actual = self.stream_versions(conn, [a.stream_id for a in appends])
        moved = [a for a in appends if actual.get(a.stream_id, 0) != a.expected_version]
        first = (
            moved[0] if moved else next(a for a in appends if a.stream_id == taken[0]["stream_id"])
        )
        raise ConcurrencyError(
            first.stream_id, first.expected_version, actual.get(first.stream_id, 0)
        )

    def _row(self, stream_id: str, stream_version: int, event: NewEvent, now) -> dict:
        version = event.schema_version or self.registry.latest_version(event.event_type)
        return {
            "event_id": event.event_id,
            "stream_id": stream_id,
            "stream_version": stream_version,
            "event_type": event.event_type,
            "schema_version": version,
            "occurred_at": as_utc(event.occurred_at),
            "recorded_at": now,
            "actor": event.actor,
            # an event appended while serving a request carries that request's id
            "correlation_id": event.correlation_id or logs.current("correlation_id"),
            "causation_id": event.causation_id,
            "payload": self.registry.validate(event.event_type, version, event.payload),
        }

    def read_stream(self, conn: Connection, stream_id: str) -> list[EventEnvelope]:
        t = self.events
        result = conn.execute(
            select(t).where(t.c.stream_id == stream_id).order_by(t.c.stream_version)
        )
        return [self.registry.upcast_stored(envelope_from_row(row._mapping)) for row in result]

    def read_streams(
        self, conn: Connection, stream_ids: Iterable[str]
    ) -> dict[str, list[EventEnvelope]]:
        """Several streams in one query: each stream id -> its events in order ([] if none)."""
        t = self.events
        wanted = set(stream_ids)
        streams: dict[str, list[EventEnvelope]] = {stream_id: [] for stream_id in wanted}
        if not wanted:
            return streams
        result = conn.execute(
            select(t)
            .where(t.c.stream_id.in_(sorted(wanted)))
            .order_by(t.c.stream_id, t.c.stream_version)
        )
        for row in result:
            envelope = self.registry.upcast_stored(envelope_from_row(row._mapping))
            streams[envelope.stream_id].append(envelope)
        return streams

    def read_all(
        self,
        conn: Connection,
        after_position: int = 0,
        batch_size: int = 10_000,
        stream_prefix: str | None = None,
        upcast: bool = True,
    ) -> Iterator[EventEnvelope]:
        """All events in global order, streamed through a server-side cursor in pages of
        batch_size rows (for projection rebuilds and replays); stream_prefix keeps one
        kind of stream (e.g. "case-"). upcast=False gives them as stored (the caller
        upcasts, e.g. to tell which were written at an older version)."""
        # The envelope's fields in order, through psycopg's own server-side cursor: rows
        # become envelopes positionally, skipping SQLAlchemy's result rows, the cheapest
        # way through a replay's millions of rows (the payloads are decoded by the
        # engine's JSON loader all the same).
        sql = (
            f"SELECT {', '.join(ENVELOPE_FIELDS)} FROM {self.events.name}"
            " WHERE global_position > %(after)s"
            + (" AND starts_with(stream_id, %(prefix)s)" if stream_prefix else "")
            + " ORDER BY global_position"
        )
        cursor = conn.connection.driver_connection.cursor(name=f"read_all_{next(_CURSOR_NUMBERS)}")
        cursor.itersize = batch_size
        try:
            cursor.execute(sql, {"after": after_position, "prefix": stream_prefix})
            if not upcast:
                for row in cursor:
                    yield EventEnvelope(*row)
                return
            upcast_stored = self.registry.upcast_stored
            for row in cursor:
                yield upcast_stored(EventEnvelope(*row))
        finally:
            cursor.close()

    def load_by_positions(self, conn: Connection, positions: Sequence[int]) -> list[EventEnvelope]:
        t = self.events
        rows = conn.execute(
            select(t).where(t.c.global_position.in_(positions)).order_by(t.c.global_position)
        )
        return [envelope_from_row(row._mapping) for row in rows]


def _texts(values: list[str]):
    """Strings as one PostgreSQL array parameter."""
    return bindparam(None, values, type_=ARRAY(Text))


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
