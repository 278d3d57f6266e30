"""kafka-python construction in one place: the producer settings every publisher shares."""

from __future__ import annotations

import contextlib

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

PRODUCER_SETTINGS = {
    "acks": "all",
    "enable_idempotence": True,
    "linger_ms": 5,
    "batch_size": 64 * 1024,
    "compression_type": None,
    "max_in_flight_requests_per_connection": 5,
    "delivery_timeout_ms": 30_000,
    "request_timeout_ms": 10_000,
    "max_block_ms": 10_000,
}


def make_producer(bootstrap_servers: str, **overrides) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap_servers, **{**PRODUCER_SETTINGS, **overrides})


def ensure_topics(bootstrap_servers: str, topics: list[str], partitions: int = 3) -> None:
    """Create topics if missing (idempotent): explicit beats broker auto-creation."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in missing]
                )
    finally:
        admin.close()
