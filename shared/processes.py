"""Long-running process plumbing both services use: signals, relay and consumer mains."""

from __future__ import annotations

import signal
import threading

from sqlalchemy import Engine, MetaData

from shared.config import Settings


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT/SIGTERM so loops finish their batch and exit cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def run_relay(settings: Settings, engine: Engine, metadata: MetaData, topic: str, stop) -> None:
    from shared.eventstore.kafka_io import ensure_topics, make_producer
    from shared.eventstore.relay import OutboxRelay

    ensure_topics(settings.kafka_bootstrap_servers, [topic])
    producer = make_producer(settings.kafka_bootstrap_servers)
    try:
        OutboxRelay(engine, metadata, producer, settings.relay_batch_size).run(stop)
    finally:
        producer.close(timeout=5)


def run_consumer(
    settings: Settings,
    engine: Engine,
    metadata: MetaData,
    topics: list[str],
    group_id,
    handler,
    stop,
    *,
    after_commit=None,
    after_rollback=None,
) -> None:
    """Consume `topics` with `handler` until stop is set.

    after_commit/after_rollback default to the handler's own methods of those names,
    if it has them (see ConsumerRunner).
    """
    from shared.events import REGISTRY
    from shared.events.topics import dead_letter
    from shared.eventstore.consumer import ConsumerRunner
    from shared.eventstore.kafka_io import ensure_topics, make_producer

    ensure_topics(settings.kafka_bootstrap_servers, topics + [dead_letter(t) for t in topics])
    producer = make_producer(settings.kafka_bootstrap_servers)
    runner = ConsumerRunner(
        engine=engine,
        metadata=metadata,
        registry=REGISTRY,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topics=topics,
        group_id=group_id,
        handler=handler,
        dead_letter_producer=producer,
        after_commit=after_commit or getattr(handler, "after_commit", None),
        after_rollback=after_rollback or getattr(handler, "after_rollback", None),
    )
    try:
        runner.run(stop)
    finally:
        producer.close(timeout=5)
