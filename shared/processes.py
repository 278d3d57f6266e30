"""Long-running process plumbing both services use: signals, relay and consumer mains."""

from __future__ import annotations

import logging
import signal
import threading

from sqlalchemy import Engine, MetaData

from shared.config import Settings

log = logging.getLogger(__name__)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT/SIGTERM so loops finish their batch and exit cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def ensure_topics_when_reachable(bootstrap_servers: str, topics: list[str], stop) -> bool:
    """Create the topics, waiting (with backoff) while Kafka is unreachable, so a worker
    started during a broker outage waits for it instead of dying. False if stopped."""
    from kafka.errors import KafkaError

    from shared.eventstore.kafka_io import ensure_topics

    backoff = 0.5
    while not stop.is_set():
        try:
            ensure_topics(bootstrap_servers, topics)
            return True
        except KafkaError as exc:
            log.warning("Kafka unreachable at start (%s); retrying in %.1fs", exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)
    return False


def run_relay(settings: Settings, engine: Engine, metadata: MetaData, topic: str, stop) -> None:
    from shared.eventstore.kafka_io import make_producer
    from shared.eventstore.relay import OutboxRelay
    from shared.metrics import RELAY_METRICS, OutboxCollector, serve_process_metrics

    outbox = OutboxCollector(engine, metadata.tables["outbox"])
    serve_process_metrics(settings, *RELAY_METRICS, outbox)
    if not ensure_topics_when_reachable(settings.kafka_bootstrap_servers, [topic], stop):
        return
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
    collectors=(),
    consumer_config: dict | None = None,
) -> None:
    """Consume `topics` with `handler` until stop is set.

    after_commit/after_rollback default to the handler's own methods of those names,
    if it has them (see ConsumerRunner). `collectors`: the process's own metrics, served
    with the consumer's on METRICS_PORT.
    """
    from shared.events import REGISTRY
    from shared.events.topics import dead_letter
    from shared.eventstore.consumer import ConsumerRunner
    from shared.eventstore.kafka_io import PartitionBounds, make_producer
    from shared.metrics import CONSUMER_METRICS, ConsumerLagCollector, serve_process_metrics

    bounds = PartitionBounds(settings.kafka_bootstrap_servers, topics)
    lag = ConsumerLagCollector(engine, metadata.tables["consumer_offsets"], group_id, bounds)
    serve_process_metrics(settings, *CONSUMER_METRICS, lag, *collectors)
    every_topic = topics + [dead_letter(t) for t in topics]
    if not ensure_topics_when_reachable(settings.kafka_bootstrap_servers, every_topic, stop):
        return
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
        **(consumer_config or {}),  # kafka-python settings of this consumer
    )
    try:
        runner.run(stop)
    finally:
        producer.close(timeout=5)
