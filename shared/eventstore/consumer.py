"""Kafka consumer runner that stores offsets in the database with the handler's effects.

Kafka's own committed offsets are never used: on assignment the runner seeks to the
offsets stored in ``consumer_offsets``. One poll's records are handled in one
database transaction together with the new offsets and the ids of processed events,
so a crash anywhere leaves either all of a batch's effects or none, and an event
published twice (relay retry) takes effect once.

The handler is called once per new event, in poll order; a handler that has a
``handle_batch(conn, envelopes)`` method gets the poll's new events in one call instead
(so it can load, decide and write them together). Either way a ConcurrencyError makes
the runner handle the poll again in a fresh transaction.

Optional hooks run after a poll's transaction: ``after_commit()`` once it committed
(e.g. to refresh caches of what the handler changed), ``after_rollback()`` when it did
not (to forget what the handler collected). Neither takes arguments; their failures are
logged, never retried, since the batch's outcome is already decided.

Records that cannot be decoded go to ``<topic>.dead-letter`` with the reason in headers;
shared/eventstore/dead_letters.py lists, shows and replays them. The processed ids are
kept for as long as the broker could deliver their records again, then pruned
(prune_processed_events).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from marshmallow import ValidationError
from sqlalchemy import Connection, Engine, MetaData, delete, select

from shared.bulk import insert_rows, rows_parameter, upsert_rows
from shared.events.envelope import EventEnvelope
from shared.events.registry import EventRegistry, EventSchemaError
from shared.events.topics import dead_letter
from shared.eventstore.store import ConcurrencyError
from shared.metrics import CONSUMER_DEAD_LETTERS, CONSUMER_HANDLED
from shared.outage import unavailable_part

log = logging.getLogger(__name__)

Handler = Callable[[Connection, EventEnvelope], None]
BatchHandler = Callable[[Connection, list[EventEnvelope]], None]
Hook = Callable[[], None]


OFFSET_COLUMNS = ("group_id", "topic", "partition", "next_offset")

# What makes a record undecodable (and dead-lettered) rather than a failing batch.
DECODE_ERRORS = (ValueError, TypeError, ValidationError, EventSchemaError)


def decode_record(registry: EventRegistry, value: bytes) -> EventEnvelope:
    """A record's value as an envelope at its latest schema version; raises DECODE_ERRORS."""
    return registry.upcast(EventEnvelope.from_wire(value))


class OffsetStore:
    def __init__(self, metadata: MetaData, group_id: str):
        self.offsets = metadata.tables["consumer_offsets"]
        self.processed = metadata.tables["processed_events"]
        self.group_id = group_id
        self._save = upsert_rows(self.offsets, OFFSET_COLUMNS)
        claim = insert_rows(self.processed, ("group_id", "event_id"))
        self._claim = claim.on_conflict_do_nothing().returning(self.processed.c.event_id)
        # claiming a poll's ids and storing its offsets in one round trip (claim_and_save)
        self._claim_and_save = self._claim.add_cte(
            upsert_rows(self.offsets, OFFSET_COLUMNS, "offsets").cte("saved_offsets")
        )

    def load(self, conn: Connection, partitions) -> dict[TopicPartition, int]:
        t = self.offsets
        rows = conn.execute(select(t).where(t.c.group_id == self.group_id)).all()
        stored = {TopicPartition(r.topic, r.partition): r.next_offset for r in rows}
        return {tp: stored[tp] for tp in partitions if tp in stored}

    def save(self, conn: Connection, next_offsets: dict[TopicPartition, int]) -> None:
        """Store where each partition stands (one upsert for all of them)."""
        if next_offsets:
            conn.execute(self._save, rows_parameter(self._offset_rows(next_offsets)))

    def _offset_rows(self, next_offsets: dict[TopicPartition, int]) -> list[dict]:
        return [
            {
                "group_id": self.group_id,
                "topic": tp.topic,
                "partition": tp.partition,
                "next_offset": o,
            }
            for tp, o in sorted(next_offsets.items())
        ]

    def prune(self, conn: Connection, older_than: datetime) -> int:
        """Forget ids processed before `older_than`; returns how many.

        Safe once Kafka can no longer redeliver them: the caller passes now minus the
        topics' redelivery horizon (retention + segment roll) minus a margin.
        """
        t = self.processed
        result = conn.execute(
            delete(t).where(t.c.group_id == self.group_id, t.c.processed_at < older_than)
        )
        return result.rowcount

    def claim_unseen(self, conn: Connection, event_ids: list[str]) -> set[str]:
        """Record the ids this group has not processed yet and return them (one statement).

        A concurrent transaction claiming the same id makes this one wait for its
        outcome: committed, the id counts as seen; rolled back, it is claimed here.
        """
        wanted = sorted(set(event_ids))  # one lock order for every claimer: no deadlock
        if not wanted:
            return set()
        rows = [{"group_id": self.group_id, "event_id": event_id} for event_id in wanted]
        return set(conn.execute(self._claim, rows_parameter(rows)).scalars())

    def claim_and_save(
        self, conn: Connection, event_ids: list[str], next_offsets: dict[TopicPartition, int]
    ) -> set[str]:
        """claim_unseen() and save() in one statement (the poll's transaction holds both
        until it commits, so storing the offsets first changes nothing a reader sees)."""
        if not event_ids or not next_offsets:
            self.save(conn, next_offsets)
            return self.claim_unseen(conn, event_ids)
        wanted = sorted(set(event_ids))
        rows = [{"group_id": self.group_id, "event_id": event_id} for event_id in wanted]
        parameters = {
            **rows_parameter(rows),
            **rows_parameter(self._offset_rows(next_offsets), "offsets"),
        }
        return set(conn.execute(self._claim_and_save, parameters).scalars())


class _SeekToStoredOffsets(ConsumerRebalanceListener):
    def __init__(self, runner: ConsumerRunner):
        self.runner = runner

    def on_partitions_revoked(self, revoked):
        pass

    def on_partitions_assigned(self, assigned):
        self.runner.must_seek(assigned)
        self.runner.seek_to_stored(assigned)


class ConsumerRunner:
    def __init__(
        self,
        *,
        engine: Engine,
        metadata: MetaData,
        registry: EventRegistry,
        bootstrap_servers: str,
        topics: list[str],
        group_id: str,
        handler: Handler,
        dead_letter_producer,
        max_records: int = 500,
        max_attempts: int = 5,
        after_commit: Hook | None = None,
        after_rollback: Hook | None = None,
        **consumer_config,
    ):
        self.engine = engine
        self.after_commit = after_commit
        self.after_rollback = after_rollback
        self.registry = registry
        self.topics = topics
        self.handler = handler
        self.handle_batch: BatchHandler = getattr(handler, "handle_batch", self._handle_each)
        self.max_attempts = max_attempts
        self.dead_letter_producer = dead_letter_producer
        self.offsets = OffsetStore(metadata, group_id)
        self._unpositioned: set[TopicPartition] = set()
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_records,
            isolation_level="read_committed",
            # A consumer that died (SIGKILL, a lost machine) holds its partitions until the
            # group coordinator gives up on it: 10 s rather than kafka-python's 45 s, so a
            # restarted process resumes within seconds (heartbeats every 3 s keep a live one).
            **{"session_timeout_ms": 10_000, "heartbeat_interval_ms": 3_000, **consumer_config},
        )
        self.consumer.subscribe(topics, listener=_SeekToStoredOffsets(self))

    def must_seek(self, partitions) -> None:
        """Mark partitions whose position must come from the database before any of their
        records is handled (set until seek_to_stored succeeds)."""
        self._unpositioned.update(partitions)

    def seek_to_stored(self, partitions) -> None:
        """Position the partitions at their stored offsets. If the database cannot answer
        (it is restarting), they stay marked and the next poll seeks again before it
        handles anything, so no record is skipped and none is applied twice."""
        with self.engine.connect() as conn:
            stored = self.offsets.load(conn, partitions)
        for tp in partitions:
            if tp in stored:
                self.consumer.seek(tp, stored[tp])
            else:
                self.consumer.seek_to_beginning(tp)
        self._unpositioned.difference_update(partitions)

    def _seek_unpositioned(self) -> None:
        assigned = self.consumer.assignment()
        self._unpositioned.intersection_update(assigned)
        if self._unpositioned:
            self.seek_to_stored(list(self._unpositioned))

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Handle one poll's records in one transaction; return how many were handled.

        A ConcurrencyError (another writer changed a stream the poll touches) rolls the
        transaction back and handles the same records again in a new one, from what is
        then stored; after max_attempts the poll is read again from the stored offsets.
        Any other failure (the database went away mid-batch) drops the poll: its
        partitions are read again from the stored offsets, once the database answers.
        """
        self._seek_unpositioned()
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        if not batches:
            return 0
        if self._unpositioned.intersection(batches):
            # a rebalance during this poll could not read the stored offsets: these
            # records may not start where the database says; read all again later
            self.must_seek(list(batches))
            return 0
        envelopes = [
            envelope
            for records in batches.values()
            for envelope in map(self._decode_or_dead_letter, records)
            if envelope is not None
        ]
        next_offsets = {tp: records[-1].offset + 1 for tp, records in batches.items()}
        for attempt in range(1, self.max_attempts + 1):
            try:
                handled = self._handle_once(envelopes, next_offsets)
                break
            except ConcurrencyError as exc:
                self._call(self.after_rollback)
                if attempt == self.max_attempts:
                    self._read_again(list(batches))
                    raise
                log.info("poll conflicted with another writer (%s); handling it again", exc)
            except Exception:
                # Nothing of this batch was committed: go back and read it again.
                self._call(self.after_rollback)
                self._read_again(list(batches))
                raise
        self._call(self.after_commit)
        CONSUMER_HANDLED.inc(handled)  # after the hook: a scrape that sees it sees the cache
        ids = sorted({e.correlation_id or e.event_id for e in envelopes})
        log.info("consumer: handled %d records", len(envelopes), extra={"correlation_ids": ids})
        return sum(len(records) for records in batches.values())

    def _read_again(self, partitions) -> None:
        self.must_seek(partitions)
        try:
            self.seek_to_stored(partitions)
        except Exception:  # noqa: BLE001 - still marked: the next poll seeks first
            log.warning("could not read the stored offsets yet; the next poll seeks first")

    def _handle_once(self, envelopes: list[EventEnvelope], next_offsets) -> int:
        """Claim the unseen ids, apply their effects, store the offsets: one transaction.
        Returns how many events took effect (repeats of processed ones do not)."""
        with self.engine.begin() as conn:
            ids = [e.event_id for e in envelopes]
            unseen = self.offsets.claim_and_save(conn, ids, next_offsets)
            fresh = []
            for envelope in envelopes:
                if envelope.event_id in unseen:
                    unseen.discard(envelope.event_id)  # a repeat within this poll, too
                    fresh.append(envelope)
            if fresh:
                self.handle_batch(conn, fresh)
        return len(fresh)

    def _handle_each(self, conn: Connection, envelopes: list[EventEnvelope]) -> None:
        for envelope in envelopes:
            self.handler(conn, envelope)

    @staticmethod
    def _call(hook: Hook | None) -> None:
        if hook is None:
            return
        try:
            hook()
        except Exception:
            log.exception("consumer hook %r failed", hook)

    def _decode_or_dead_letter(self, record) -> EventEnvelope | None:
        try:
            return decode_record(self.registry, record.value)
        except DECODE_ERRORS as exc:
            self._send_to_dead_letter(record, exc)
            return None

    def _send_to_dead_letter(self, record, exc: Exception) -> None:
        reason = getattr(exc, "messages", None) or str(exc)
        headers = [
            ("dead_letter_reason", json.dumps(reason, default=str)[:1000].encode()),
            ("dead_letter_error", type(exc).__name__.encode()),
            ("original_topic", record.topic.encode()),
            ("original_partition", str(record.partition).encode()),
            ("original_offset", str(record.offset).encode()),
        ]
        log.warning("dead-lettering %s@%s: %s", record.topic, record.offset, reason)
        self.dead_letter_producer.send(
            dead_letter(record.topic), key=record.key, value=record.value, headers=headers
        ).get(timeout=30)
        CONSUMER_DEAD_LETTERS.inc()

    def run(
        self, stop: threading.Event, error_backoff: float = 0.5, max_backoff: float = 5.0
    ) -> None:
        """Consume until stop is set; a failing batch is retried after a growing pause
        (a database that is away is waited for: the process never exits for it)."""
        backoff = error_backoff
        try:
            while not stop.is_set():
                try:
                    self.poll_once()
                    backoff = error_backoff
                except Exception as exc:
                    part = unavailable_part(exc)
                    if part:
                        log.warning(
                            "consumer: %s unavailable (%s); retrying in %.1fs",
                            part,
                            type(exc).__name__,
                            backoff,
                        )
                    else:
                        log.exception("consumer batch failed; retrying")
                    stop.wait(backoff)
                    backoff = min(backoff * 2, max_backoff)
        finally:
            self.close()

    def close(self) -> None:
        self.consumer.close(autocommit=False)
