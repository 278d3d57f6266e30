"""Figure 1: outbox relay throughput (event store -> Kafka) vs a raw producer, same payloads."""

from __future__ import annotations

import itertools
import time

from kafka import KafkaProducer
from sqlalchemy import select

from bench.core import Bench, Row
from bench.synthetic import copy_events, envelopes
from shared.db import make_engine
from shared.events.topics import INTAKE_EVENTS
from shared.eventstore.kafka_io import PRODUCER_SETTINGS, ensure_topics, make_producer
from shared.eventstore.relay import OutboxRelay
from shared.eventstore.store import envelope_from_row


def _wire_messages(engine, events_table, after: int) -> list[tuple[bytes, bytes, list]]:
    """The exact (key, value, headers) the relay sends, precomputed for the raw producer."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(events_table)
            .where(events_table.c.global_position > after)
            .order_by(events_table.c.global_position)
        ).all()
    return [
        (
            row.stream_id.encode(),
            envelope_from_row(row._mapping).to_wire(),
            [
                ("event_type", row.event_type.encode()),
                ("schema_version", str(row.schema_version).encode()),
            ],
        )
        for row in rows
    ]


def _raw_send(producer: KafkaProducer, topic: str, messages, flush_every: int | None) -> float:
    start = time.perf_counter()
    chunks = [messages] if not flush_every else _chunks(messages, flush_every)
    for chunk in chunks:
        futures = [producer.send(topic, key=k, value=v, headers=h) for k, v, h in chunk]
        producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=60)
    return time.perf_counter() - start


def _chunks(items, size):
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def run(bench: Bench) -> None:
    from intake_service.tables import metadata

    n = bench.preset.relay_events
    prefix = bench.prefix("relay")
    settings = bench.settings("intake", bench.create_database("intake"), prefix)
    topic = settings.topic(INTAKE_EVENTS)
    ensure_topics(bench.bootstrap, [topic])
    engine = make_engine(settings.database_url)
    producer = make_producer(bench.bootstrap)
    raw_producer = KafkaProducer(bootstrap_servers=bench.bootstrap, **PRODUCER_SETTINGS)
    relay = OutboxRelay(engine, metadata, producer, settings.relay_batch_size)
    counter = itertools.count()
    events_table = metadata.tables["events"]

    def one_round() -> dict[str, float]:
        start_n = next(counter) * n
        with engine.connect() as conn:
            after = conn.exec_driver_sql(
                "SELECT coalesce(max(global_position), 0) FROM events"
            ).scalar_one()
        copy_events(engine, envelopes("aspiration", start_n, n), outbox_topic=topic)
        messages = _wire_messages(engine, events_table, after)
        t0 = time.perf_counter()
        published = relay.publish_pending()  # as run() drives it: next read overlaps acks
        relay_s = time.perf_counter() - t0
        assert published == n, (published, n)
        raw_s = _raw_send(raw_producer, topic, messages, None)
        chunked_s = _raw_send(raw_producer, topic, messages, settings.relay_batch_size)
        return {"relay": n / relay_s, "raw": n / raw_s, "raw_chunked": n / chunked_s}

    try:
        r = bench.repeat(one_round)
        if bench.profile == "relay":
            _profile(bench, lambda: one_round())
    finally:
        producer.close(timeout=5)
        raw_producer.close(timeout=5)
        engine.dispose()
    params = {"events": n, "batch_size": settings.relay_batch_size, "partitions": 3}
    bench.add(
        Row(
            "1",
            "relay throughput (OutboxRelay)",
            "events/s",
            r["relay"],
            "raw kafka-python producer, same payloads and PRODUCER_SETTINGS",
            r["raw"],
            params=params,
        )
    )
    bench.add(
        Row(
            "1b",
            "raw producer flushing every relay batch",
            "events/s",
            r["raw_chunked"],
            "raw producer, one flush",
            r["raw"],
            params=params,
            note="isolates the cost of the relay's flush-and-wait per batch",
        )
    )


def _profile(bench: Bench, fn) -> None:
    """One more round under pyinstrument (in-process: the relay is a library class)."""
    import os

    from pyinstrument import Profiler

    profiler = Profiler()
    profiler.start()
    fn()
    profiler.stop()
    with open(os.path.join(bench.out_dir, "profile-relay.txt"), "w", encoding="utf-8") as fh:
        fh.write(profiler.output_text(unicode=True, color=False))
