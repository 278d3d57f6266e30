"""Dead-lettered records: read them back from Kafka, show them, replay them after a fix.

The consumer runner sends a record it cannot decode to ``<topic>.dead-letter`` (same key,
same value) with headers saying why, and moves on (ConsumerRunner._send_to_dead_letter).
Once the cause is fixed (a schema or upcaster registered, a consumer that now knows the
producer's newer version...), replay() decodes each record again, with the code then
running, and hands it to the consumer group's handler itself, in ONE database transaction
with the event's processed id and a row of ``dead_letter_replays``:

- a record replayed is recorded together with its effects, so replaying it again (even
  at the same moment, from another shell) finds the row and does nothing;
- an event the group has already processed (same event id, e.g. the producer sent it
  again and that copy went through) is recorded as a duplicate, with no effect;
- a record that still cannot be decoded, or whose handler fails, is reported and left
  as it was: nothing is written, it stays listed, a later replay tries it again; later
  records with the same key wait for it (per-key order, as on the topic).

Re-publishing to the original topic instead would make replay a Kafka write plus a
database write that cannot share a transaction (a crash between them publishes twice or
records a replay that never happened), and a record still failing would be dead-lettered
again under a new offset. Handing it to the handler keeps the consumer's guarantees:
effects, processed id and replay mark commit or roll back together.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Connection, Engine, MetaData, select
from sqlalchemy.dialects.postgresql import insert

from shared.events.envelope import EventEnvelope
from shared.events.registry import EventRegistry
from shared.events.topics import dead_letter
from shared.eventstore.consumer import DECODE_ERRORS, OffsetStore, decode_record
from shared.eventstore.store import ConcurrencyError

log = logging.getLogger(__name__)

BatchHandler = Callable[[Connection, list[EventEnvelope]], None]
Hook = Callable[[], None]

Position = tuple[int, int]  # (partition, offset) on the dead-letter topic


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, as the consumer runner wrote it."""

    topic: str
    partition: int
    offset: int
    timestamp: datetime
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_record(cls, record) -> DeadLetter:
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            timestamp=datetime.fromtimestamp(record.timestamp / 1000, UTC),
            key=record.key,
            value=record.value,
            headers=tuple((name, bytes(value or b"")) for name, value in record.headers or ()),
        )

    @property
    def position(self) -> Position:
        return (self.partition, self.offset)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return None

    @property
    def reason(self) -> str:
        """Why it was dead-lettered (the header holds JSON: a message or field messages)."""
        raw = self.header("dead_letter_reason") or ""
        try:
            reason = json.loads(raw)
        except ValueError:
            return raw
        return reason if isinstance(reason, str) else json.dumps(reason, ensure_ascii=False)

    @property
    def error(self) -> str:
        return self.header("dead_letter_error") or ""

    @property
    def envelope_fields(self) -> dict:
        """The envelope's top-level fields when the value is a JSON object, else {}."""
        try:
            value = json.loads(self.value)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def event_type(self) -> str:
        fields = self.envelope_fields
        if "event_type" not in fields:
            return ""
        return f"{fields['event_type']} v{fields.get('schema_version', '?')}"


def format_position(position: Position) -> str:
    return f"{position[0]}:{position[1]}"


def parse_position(text: str) -> Position:
    """ "2:17" -> (2, 17): partition and offset on the dead-letter topic."""
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise ValueError(f"{text!r} is not PARTITION:OFFSET (e.g. 0:12)")
    return int(partition), int(offset)


def read_dead_letters(
    bootstrap_servers: str,
    topic: str,
    positions: Iterable[Position] | None = None,
    timeout: float = 60.0,
) -> list[DeadLetter]:
    """The records of `topic`'s dead-letter topic, in (partition, offset) order.

    Reads every partition from its beginning to the end offset seen at the start (a
    dead-letter topic is small), or only the records at `positions`. No consumer group
    is used: reading commits nothing.
    """
    name = dead_letter(topic)
    wanted = set(positions) if positions is not None else None
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    try:
        partitions = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name))]
        if wanted is not None:
            partitions = [tp for tp in partitions if tp.partition in {p for p, _ in wanted}]
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        starts = consumer.beginning_offsets(partitions)
        for tp in partitions:
            first = starts[tp]
            if wanted is not None:  # start at the first wanted offset still on the topic
                first = max(first, min(o for p, o in wanted if p == tp.partition))
            consumer.seek(tp, first)
        pending = {tp for tp in partitions if consumer.position(tp) < ends[tp]}
        letters: list[DeadLetter] = []
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {name} took longer than {timeout:.0f}s")
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for record in records:
                    if record.offset < ends[tp] and (
                        wanted is None or (record.partition, record.offset) in wanted
                    ):
                        letters.append(DeadLetter.from_record(record))
            pending = {tp for tp in pending if consumer.position(tp) < ends[tp]}
        return sorted(letters, key=lambda letter: letter.position)
    finally:
        consumer.close(autocommit=False)


@dataclass(frozen=True)
class Replay:
    """What replay() did with one dead letter."""

    REPLAYED = "replayed"  # decoded and handled: its effects are in the database
    DUPLICATE = "duplicate"  # the group had already processed that event id: no effect
    ALREADY_REPLAYED = "already replayed"  # an earlier replay took it: nothing done
    FAILED = "failed"  # still undecodable, or the handler failed: nothing written
    WAITING = "waiting"  # an earlier record with the same key failed: not tried

    letter: DeadLetter
    outcome: str
    detail: str = ""


class _AlreadyReplayed(Exception):
    pass


class DeadLetterReplayer:
    """Replays dead letters into one consumer group's database (see the module docstring).

    `handler` is the group's consumer handler: a ``handle_batch(conn, envelopes)`` method
    is used when it has one, else it is called with one envelope; its ``after_commit``
    and ``after_rollback`` hooks run as the consumer runner runs them.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        metadata: MetaData,
        registry: EventRegistry,
        group_id: str,
        handler,
        max_attempts: int = 5,
    ):
        self.engine = engine
        self.registry = registry
        self.group_id = group_id
        self.replays = metadata.tables["dead_letter_replays"]
        self.offsets = OffsetStore(metadata, group_id)
        self.handler = handler
        self.handle_batch: BatchHandler = getattr(handler, "handle_batch", self._handle_each)
        self.after_commit: Hook | None = getattr(handler, "after_commit", None)
        self.after_rollback: Hook | None = getattr(handler, "after_rollback", None)
        self.max_attempts = max_attempts

    def replayed(self, dead_letter_topic: str) -> dict[Position, tuple[str, datetime]]:
        """(outcome, when) of each record of the topic this group has replayed."""
        t = self.replays
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.partition, t.c.offset, t.c.outcome, t.c.replayed_at).where(
                    t.c.group_id == self.group_id, t.c.topic == dead_letter_topic
                )
            ).all()
        return {(r.partition, r.offset): (r.outcome, r.replayed_at) for r in rows}

    def replay(self, letters: Sequence[DeadLetter]) -> list[Replay]:
        """Replay each letter in (partition, offset) order, each in its own transaction."""
        results, failed_keys = [], set()
        for letter in sorted(letters, key=lambda letter: letter.position):
            if letter.key is not None and letter.key in failed_keys:
                result = Replay(letter, Replay.WAITING, "an earlier record with its key failed")
            else:
                result = self._replay_one(letter)
            if result.outcome in (Replay.FAILED, Replay.WAITING) and letter.key is not None:
                failed_keys.add(letter.key)
            log.info(
                "dead letter %s %s: %s %s",
                letter.topic,
                format_position(letter.position),
                result.outcome,
                result.detail,
            )
            results.append(result)
        return results

    def _replay_one(self, letter: DeadLetter) -> Replay:
        try:
            envelope = decode_record(self.registry, letter.value)
        except DECODE_ERRORS as exc:
            messages = getattr(exc, "messages", None)
            detail = json.dumps(messages, default=str) if messages else str(exc)
            return Replay(letter, Replay.FAILED, f"{type(exc).__name__}: {detail}")
        for attempt in range(1, self.max_attempts + 1):
            try:
                outcome = self._apply(letter, envelope)
            except _AlreadyReplayed:
                self._call(self.after_rollback)
                return Replay(letter, Replay.ALREADY_REPLAYED)
            except ConcurrencyError as exc:
                self._call(self.after_rollback)
                if attempt == self.max_attempts:
                    return Replay(letter, Replay.FAILED, f"ConcurrencyError: {exc}")
                continue
            except Exception as exc:
                self._call(self.after_rollback)
                log.exception("replaying dead letter %s failed", format_position(letter.position))
                return Replay(letter, Replay.FAILED, f"{type(exc).__name__}: {exc}")
            self._call(self.after_commit)
            return Replay(letter, outcome, f"{envelope.event_type} {envelope.event_id}")
        raise AssertionError("unreachable")

    def _apply(self, letter: DeadLetter, envelope: EventEnvelope) -> str:
        """Claim the event id, mark the letter replayed, handle it: one transaction."""
        with self.engine.begin() as conn:
            fresh = envelope.event_id in self.offsets.claim_unseen(conn, [envelope.event_id])
            outcome = Replay.REPLAYED if fresh else Replay.DUPLICATE
            marked = conn.execute(
                insert(self.replays)
                .values(
                    group_id=self.group_id,
                    topic=letter.topic,
                    partition=letter.partition,
                    offset=letter.offset,
                    event_id=envelope.event_id,
                    outcome=outcome,
                )
                .on_conflict_do_nothing()
                .returning(self.replays.c.offset)
            ).first()
            if marked is None:  # rolls back the claim too
                raise _AlreadyReplayed()
            if fresh:
                self.handle_batch(conn, [envelope])
        return outcome

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
            log.exception("replay hook %r failed", hook)


def summary(letter: DeadLetter, replayed: tuple[str, datetime] | None) -> dict:
    """One dead letter as a JSON-ready dict (`list --json`); status is pending until replayed."""
    fields = letter.envelope_fields
    return {
        "position": format_position(letter.position),
        "partition": letter.partition,
        "offset": letter.offset,
        "timestamp": letter.timestamp.isoformat(),
        "key": _text(letter.key) or None,
        "event_type": fields.get("event_type"),
        "schema_version": fields.get("schema_version"),
        "event_id": fields.get("event_id"),
        "error": letter.error,
        "reason": letter.reason,
        "status": replayed[0] if replayed else "pending",
        "replayed_at": replayed[1].isoformat() if replayed else None,
    }


def describe_listing(
    letters: Sequence[DeadLetter], replayed: dict[Position, tuple[str, datetime]]
) -> str:
    """The `list` table: one line per dead letter, newest last."""
    if not letters:
        return "no dead letters"
    rows = [("POSITION", "TIME (UTC)", "KEY", "EVENT", "ERROR", "STATUS", "REASON")]
    for letter in letters:
        status = replayed.get(letter.position, ("pending", None))[0]
        rows.append(
            (
                format_position(letter.position),
                letter.timestamp.strftime("%Y-%m-%d %H:%M:%S"),
                _text(letter.key) or "-",
                letter.event_type or "-",
                letter.error or "-",
                status,
                _shorten(letter.reason, 80),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]

    def line(row: tuple[str, ...]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
        return "  ".join([*padded, row[-1]])

    return "\n".join(line(row) for row in rows)


def describe_letter(letter: DeadLetter, replayed: tuple[str, datetime] | None) -> str:
    """The `show` text: where it is, every header, the value pretty-printed."""
    status = "pending" if replayed is None else f"{replayed[0]} at {replayed[1].isoformat()}"
    lines = [
        f"topic:     {letter.topic}",
        f"position:  {format_position(letter.position)} (partition:offset)",
        f"timestamp: {letter.timestamp.isoformat()}",
        f"key:       {_text(letter.key) or '-'}",
        f"status:    {status}",
        "headers:",
    ]
    for name, value in letter.headers:
        text = value.decode("utf-8", "replace")
        if name == "dead_letter_reason":
            text = _pretty(text)
        lines.append(f"  {name}: " + text.replace("\n", "\n    "))
    lines += ["value:", _pretty(letter.value.decode("utf-8", "replace"))]
    return "\n".join(lines)


def describe_replays(results: Sequence[Replay]) -> str:
    if not results:
        return "nothing to replay"
    lines = [
        f"{format_position(r.letter.position)}  {r.outcome}  {r.detail}".rstrip() for r in results
    ]
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    lines.append(", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
    return "\n".join(lines)


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
