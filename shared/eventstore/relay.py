"""Outbox relay: publishes stored events to Kafka, deleting outbox rows only after acks.

At-least-once: a crash after Kafka acknowledged but before the delete commits sends
those events again on restart; consumers drop them by event id. Order per stream
holds because one batch at a time holds the outbox rows' locks and the producer is
idempotent (ordered retries per partition).
"""

from __future__ import annotations

import logging
import threading
import time

from kafka.errors import KafkaError
from sqlalchemy import Engine, MetaData, delete, func, select

from shared.eventstore.store import envelope_from_row

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, engine: Engine, metadata: MetaData, producer, batch_size: int = 500):
        self.engine = engine
        self.outbox = metadata.tables["outbox"]
        self.events = metadata.tables["events"]
        self.producer = producer
        self.batch_size = batch_size

    def publish_batch(self, send_timeout: float = 30.0) -> int:
        """Publish up to batch_size pending events; return how many were published."""
        o, e = self.outbox, self.events
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(o.c.id, o.c.topic, o.c.message_key, e)
                .join(e, e.c.global_position == o.c.global_position)
                .order_by(o.c.id)
                .limit(self.batch_size)
                .with_for_update(of=o)
            ).all()
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
            conn.execute(delete(o).where(o.c.id.in_([row.id for row in rows])))
        return len(rows)

    def run(self, stop: threading.Event, idle_sleep: float = 0.1, max_backoff: float = 5.0):
        """Relay until stop is set, backing off while Kafka is unreachable."""
        backoff = idle_sleep
        while not stop.is_set():
            try:
                published = self.publish_batch()
                backoff = idle_sleep
                if published == 0:
                    stop.wait(idle_sleep)
            except KafkaError as exc:
                log.warning("relay: Kafka unavailable (%s); retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.outbox)).scalar_one()


def wait_until_drained(relay: OutboxRelay, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while relay.pending():
        if time.monotonic() > deadline:
            raise TimeoutError("outbox not drained")
        time.sleep(0.05)
