"""Outbox relay: publishes stored events to Kafka, deleting outbox rows only after acks.

No database transaction stays open while Kafka is slow or down: a batch is read in one
short transaction, sent with none open, and deleted in another short one after the
broker acknowledged it. So an intake write never waits on Kafka, and a stalled broker
leaves no session "idle in transaction".

Ordering per stream needs exactly one relay publishing per database. `run` takes a
PostgreSQL session advisory lock (the leader lease) on its own connection and does all
of its reads and deletes on that connection; a second relay (another process during a
deploy) waits as a standby. If the leader dies, its session ends, the lock is released
and the standby takes over where the outbox stands.

At-least-once: a crash after Kafka acknowledged but before the delete commits sends
those events again; consumers drop them by event id. The idempotent producer keeps
retries ordered per partition.
"""

from __future__ import annotations

import logging
import threading
import time

from kafka.errors import KafkaError
from sqlalchemy import Connection, Engine, MetaData, delete, func, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from shared.eventstore.store import envelope_from_row

log = logging.getLogger(__name__)

# Session advisory lock key for "the outbox relay of this database" (any fixed bigint;
# each service has its own database, so one key serves both).
RELAY_LEADER_LOCK = 0x4B41_5741_4C52  # "KAWALR"


class OutboxRelay:
    def __init__(self, engine: Engine, metadata: MetaData, producer, batch_size: int = 500):
        self.engine = engine
        self.outbox = metadata.tables["outbox"]
        self.events = metadata.tables["events"]
        self.producer = producer
        self.batch_size = batch_size
        self.leading = False  # True while this relay holds the leader lease (see run)

    def publish_batch(self, send_timeout: float = 30.0, conn: Connection | None = None) -> int:
        """Publish up to batch_size pending events; return how many were published.

        `conn` is the leader's connection when called from `run`; without it each short
        transaction takes a pooled connection (tests and the bench drive one relay).
        """
        rows = self._transact(conn, self._read_batch)
        if not rows:
            return 0
        futures = [
            self.producer.send(
                row.topic,
                key=row.message_key.encode(),
                value=envelope_from_row(row._mapping).to_wire(),
                headers=[
                    ("event_type", row.event_type.encode()),
                    ("schema_version", str(row.schema_version).encode()),
                ],
            )
            for row in rows
        ]
        self.producer.flush(timeout=send_timeout)
        for future in futures:
            future.get(timeout=send_timeout)  # raises if the broker refused it
        ids = [row.id for row in rows]
        self._transact(
            conn, lambda c: c.execute(delete(self.outbox).where(self.outbox.c.id.in_(ids)))
        )
        return len(rows)

    def _read_batch(self, conn: Connection):
        o, e = self.outbox, self.events
        return conn.execute(
            select(o.c.id, o.c.topic, o.c.message_key, e)
            .join(e, e.c.global_position == o.c.global_position)
            .order_by(o.c.id)
            .limit(self.batch_size)
        ).all()

    def _transact(self, conn: Connection | None, work):
        if conn is None:
            with self.engine.begin() as own:
                return work(own)
        with conn.begin():
            return work(conn)

    def run(
        self,
        stop: threading.Event,
        idle_sleep: float = 0.1,
        max_backoff: float = 5.0,
        standby_interval: float = 2.0,
    ):
        """Relay until stop is set: lead (or stand by), back off while Kafka or the DB is down."""
        backoff = idle_sleep
        while not stop.is_set():
            try:
                with self.engine.connect() as leader:
                    if not self._take_lead(leader):
                        stop.wait(standby_interval)
                        continue
                    log.info("relay: leading the outbox of this database")
                    self.leading = True
                    try:
                        backoff = self._lead(leader, stop, idle_sleep, max_backoff)
                    finally:
                        self.leading = False
                        self._give_up_lead(leader)
            except DBAPIError as exc:
                log.warning("relay: database unavailable (%s); retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)

    def _lead(self, leader: Connection, stop, idle_sleep: float, max_backoff: float) -> float:
        backoff = idle_sleep
        while not stop.is_set():
            try:
                published = self.publish_batch(conn=leader)
                backoff = idle_sleep
                if published == 0:
                    stop.wait(idle_sleep)
            except KafkaError as exc:
                log.warning("relay: Kafka unavailable (%s); retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
        return backoff

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
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RELAY_LEADER_LOCK})
        except SQLAlchemyError:
            pass  # the session is gone, and the lock with it

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.outbox)).scalar_one()


def wait_until_drained(relay: OutboxRelay, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while relay.pending():
        if time.monotonic() > deadline:
            raise TimeoutError("outbox not drained")
        time.sleep(0.05)
