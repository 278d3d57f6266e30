"""Outbox relay: publishes stored events to Kafka, deleting outbox rows only after acks.

No database transaction stays open while Kafka is slow or down: a batch is read in one
short transaction, sent with none open, and deleted in another short one after the
broker acknowledged it. So an intake write never waits on Kafka, and a stalled broker
leaves no session "idle in transaction".

Throughput: outbox rows carry the record bytes encoded at append time, so the relay
sends without touching the events table; while a batch's acks are awaited the next
batch is already read. When the outbox is empty the relay sleeps on PostgreSQL
LISTEN (appends NOTIFY at commit), so a new event is sent at once, not at the next poll.

Ordering per stream needs exactly one relay publishing per database. `run` takes a
PostgreSQL session advisory lock (the leader lease) on its own connection and does all
of its reads and deletes on that connection; a second relay (another process during a
deploy) waits as a standby. If the leader dies, its session ends, the lock is released
and the standby takes over where the outbox stands.

At-least-once: a crash after Kafka acknowledged but before the delete commits sends
those events again; consumers drop them by event id. The idempotent producer keeps
retries ordered per partition, and a batch is sent only after the previous one was
acknowledged.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import psycopg
from kafka.errors import KafkaError
from sqlalchemy import (
    BigInteger,
    BindParameter,
    Connection,
    Engine,
    MetaData,
    bindparam,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import SQLAlchemyError

from shared.eventstore.store import OUTBOX_CHANNEL, envelope_from_row
from shared.metrics import RELAY_FAILURES, RELAY_PUBLISHED

log = logging.getLogger(__name__)

# Session advisory lock key for "the outbox relay of this database" (any fixed bigint;
# each service has its own database, so one key serves both).
RELAY_LEADER_LOCK = 0x4B41_5741_4C52  # "KAWALR"


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    correlation_id: str | None = None


class OutboxRelay:
    def __init__(self, engine: Engine, metadata: MetaData, producer, batch_size: int = 500):
        self.engine = engine
        self.outbox = metadata.tables["outbox"]
        self.events = metadata.tables["events"]
        self.producer = producer
        self.batch_size = batch_size
        self.leading = False  # True while this relay holds the leader lease (see run)
        self._correlations: dict[int, str | None] = {}  # in flight: outbox id -> its id

    def publish_batch(self, send_timeout: float = 30.0, conn: Connection | None = None) -> int:
        """Publish up to batch_size pending events and wait for them; return how many."""
        batch = self._transact(conn, self.read_batch)
        if not batch:
            return 0
        self._acknowledge(self._send(batch), send_timeout, conn)
        return len(batch)

    def publish_pending(self, send_timeout: float = 30.0, conn: Connection | None = None) -> int:
        """Publish until the outbox is empty; return how many were published.

        Pipelined: while a batch's acks are awaited, one short transaction deletes the
        previous (acknowledged) batch and reads the next one. A batch is sent only after
        the one before it was acknowledged, so per-key order never depends on retries.
        """
        published, acknowledged = 0, []
        batch = self._transact(conn, self.read_batch)
        try:
            while batch:
                in_flight = self._send(batch)
                batch = self._transact(
                    conn,
                    lambda c, done=acknowledged, busy=in_flight: self._delete_then_read(
                        c, done, busy
                    ),
                )
                self._wait_for_acks(in_flight, send_timeout)
                acknowledged = list(in_flight)
                published += len(in_flight)
        finally:
            if acknowledged:
                self._transact(conn, lambda c: self._delete(c, acknowledged))
        return published

    def _delete_then_read(self, conn: Connection, done: list[int], busy: dict):
        if done:
            self._delete(conn, done)
        return self.read_batch(conn, excluding=busy)

    def read_batch(self, conn: Connection, excluding=None) -> list[OutboxRecord]:
        """The oldest unpublished rows (not those in flight), as records ready to send."""
        o = self.outbox
        query = (
            select(
                o.c.id,
                o.c.topic,
                o.c.message_key,
                o.c.global_position,
                o.c.event_type,
                o.c.schema_version,
                o.c.value,
                o.c.correlation_id,
            )
            .order_by(o.c.id)
            .limit(self.batch_size)
        )
        if excluding:
            query = query.where(o.c.id != func.all(_ids(excluding)))
        rows = conn.execute(query).all()
        legacy = self._encode_legacy(conn, [r.global_position for r in rows if r.value is None])
        records = []
        for row in rows:
            value, event_type, version = (
                (row.value, row.event_type, row.schema_version)
                if row.value is not None
                else legacy[row.global_position]
            )
            records.append(
                OutboxRecord(
                    id=row.id,
                    topic=row.topic,
                    key=row.message_key.encode(),
                    value=value,
                    headers=[
                        ("event_type", event_type.encode()),
                        ("schema_version", str(version).encode()),
                        *(
                            [("correlation_id", row.correlation_id.encode())]
                            if row.correlation_id
                            else []
                        ),
                    ],
                    correlation_id=row.correlation_id,
                )
            )
        return records

    def _delete(self, conn: Connection, ids) -> None:
        conn.execute(delete(self.outbox).where(self.outbox.c.id == func.any(_ids(ids))))

    def _encode_legacy(self, conn: Connection, positions: list[int]) -> dict:
        """Encode rows written before the outbox carried bytes (or filled by bulk COPY)."""
        if not positions:
            return {}
        e = self.events
        rows = conn.execute(select(e).where(e.c.global_position.in_(positions))).all()
        return {
            row.global_position: (
                envelope_from_row(row._mapping).to_wire(),
                row.event_type,
                row.schema_version,
            )
            for row in rows
        }

    def _send(self, batch: list[OutboxRecord]) -> dict:
        self._correlations.update((record.id, record.correlation_id) for record in batch)
        return {
            record.id: self.producer.send(
                record.topic, key=record.key, value=record.value, headers=record.headers
            )
            for record in batch
        }

    def _acknowledge(self, in_flight: dict, send_timeout: float, conn: Connection | None):
        """Wait for every ack of a batch, then delete its rows (a refusal raises first)."""
        self._wait_for_acks(in_flight, send_timeout)
        self._transact(conn, lambda c: self._delete(c, list(in_flight)))

    def _wait_for_acks(self, in_flight: dict, send_timeout: float) -> None:
        self.producer.flush(timeout=send_timeout)
        for future in in_flight.values():
            future.get(timeout=send_timeout)
        RELAY_PUBLISHED.inc(len(in_flight))
        ids = {self._correlations.pop(i, None) for i in in_flight} - {None}
        log.info(
            "relay: published %d events", len(in_flight), extra={"correlation_ids": sorted(ids)}
        )

    def _transact(self, conn: Connection | None, work):
        if conn is None:
            with self.engine.begin() as own:
                return work(own)
        with conn.begin():
            return work(conn)

    def run(
        self,
        stop: threading.Event,
        idle_wait: float = 1.0,
        max_backoff: float = 5.0,
        standby_interval: float = 2.0,
    ):
        """Relay until stop is set: lead (or stand by), back off while Kafka or the DB is down.

        idle_wait bounds the sleep on an empty outbox when no NOTIFY arrives (rows
        written by other means, e.g. a bulk COPY, are still picked up).
        """
        backoff = 0.1
        while not stop.is_set():
            try:
                with self.engine.connect() as leader:
                    if not self._take_lead(leader):
                        stop.wait(standby_interval)
                        continue
                    log.info("relay: leading the outbox of this database")
                    self.leading = True
                    try:
                        self._lead(leader, stop, idle_wait, max_backoff)
                    finally:
                        self.leading = False
                        self._give_up_lead(leader)
                backoff = 0.1
            except (SQLAlchemyError, psycopg.Error) as exc:
                # psycopg's own errors too: LISTEN waits on the driver connection directly,
                # so a server that went away surfaces there unwrapped by SQLAlchemy.
                RELAY_FAILURES.labels(reason="database").inc()
                log.warning("relay: database unavailable (%s); retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)

    def _lead(self, leader: Connection, stop, idle_wait: float, max_backoff: float) -> None:
        backoff = 0.1
        listening = leader.connection.driver_connection
        with leader.begin():
            leader.execute(text(f"LISTEN {OUTBOX_CHANNEL}"))
        while not stop.is_set():
            try:
                published = self.publish_pending(conn=leader)
                backoff = 0.1
                if published == 0:
                    # Notifications are delivered between transactions; one wakes us.
                    for _ in listening.notifies(timeout=idle_wait, stop_after=1):
                        pass
            except KafkaError as exc:
                RELAY_FAILURES.labels(reason="kafka").inc()
                log.warning("relay: Kafka unavailable (%s); retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)

    @staticmethod
    def _take_lead(conn: Connection) -> bool:
        with conn.begin():
            return conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": RELAY_LEADER_LOCK}
            ).scalar_one()

    @staticmethod
    def _give_up_lead(conn: Connection) -> None:
        try:
            with conn.begin():
                conn.execute(text(f"UNLISTEN {OUTBOX_CHANNEL}"))
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RELAY_LEADER_LOCK})
        except SQLAlchemyError:
            pass  # the session is gone, and the lock with it

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.outbox)).scalar_one()


def _ids(ids) -> BindParameter:
    """Row ids as one PostgreSQL array parameter (not hundreds of IN parameters)."""
    return bindparam(None, list(ids), type_=ARRAY(BigInteger))


def wait_until_drained(relay: OutboxRelay, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while relay.pending():
        if time.monotonic() > deadline:
            raise TimeoutError("outbox not drained")
        time.sleep(0.05)
