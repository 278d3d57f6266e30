"""kafka-python construction in one place: the producer settings every publisher shares."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime, timedelta

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
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


MAX_REPLICATION = 3  # with min.insync.replicas 2 on a cluster (deploy/kafka/cluster.sh)


def ensure_topics(bootstrap_servers: str, topics: list[str], partitions: int = 3) -> None:
    """Create topics if missing (idempotent): explicit beats broker auto-creation.

    Replicated on up to three brokers: one copy on a single broker, three on a cluster,
    whose min.insync.replicas (2) then lets one broker die without refusing or losing an
    acknowledged write (producers use acks=all)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            brokers = len(admin.describe_cluster()["brokers"])
            replication = max(1, min(MAX_REPLICATION, brokers))
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(t, partitions, replication) for t in missing])
    finally:
        admin.close()


def redelivery_horizon(bootstrap_servers: str, topics: list[str]) -> timedelta | None:
    """How long Kafka may still hand out a record of these topics after it was written:
    retention.ms plus segment.ms (a record is deleted with its segment, which is rolled at
    most segment.ms after its first record and kept retention.ms after its last). None when
    a topic keeps records forever (retention.ms = -1): then nothing may be forgotten."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15_000)
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics]
        # kafka-python 3 answers a dict; "all" includes the broker defaults a topic inherits
        described = admin.describe_configs(resources, config_filter="all")["topic"]
        longest = timedelta(0)
        for topic in topics:
            configs = described[topic]
            retention = int(configs["retention.ms"]["value"])
            if retention < 0:
                return None
            segment = int(configs["segment.ms"]["value"])
            longest = max(longest, timedelta(milliseconds=retention + segment))
        return longest
    finally:
        admin.close()


def positions_at(
    bootstrap_servers: str, topic: str, when: datetime | str
) -> dict[TopicPartition, int]:
    """Per partition of `topic`, the offset a consumer would read next to start at `when`:
    "beginning", "end", or the first record written at or after that instant (the end of a
    partition with no such record)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        numbers = consumer.partitions_for_topic(topic)
        if not numbers:
            raise ValueError(f"topic {topic} does not exist")
        partitions = [TopicPartition(topic, n) for n in sorted(numbers)]
        ends = consumer.end_offsets(partitions)
        if when == "end":
            return ends
        if when == "beginning":
            return consumer.beginning_offsets(partitions)
        millis = int(when.timestamp() * 1000)
        found = consumer.offsets_for_times(dict.fromkeys(partitions, millis))
        return {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in partitions}
    finally:
        consumer.close()


class PartitionBounds:
    """The first and next-to-be-written offset of every partition of some topics, asked of
    the broker by an offset-only client (no group; read_committed, as the consumer
    reads). Thread-safe: metric scrapes may overlap."""

    def __init__(self, bootstrap_servers: str, topics: list[str]):
        self.bootstrap_servers, self.topics = bootstrap_servers, topics
        self._lock = threading.Lock()
        self._client: KafkaConsumer | None = None

    def read(self) -> tuple[dict, dict]:
        """(end offsets, beginning offsets), each keyed by (topic, partition)."""
        with self._lock:
            if self._client is None:
                self._client = KafkaConsumer(
                    bootstrap_servers=self.bootstrap_servers,
                    isolation_level="read_committed",
                    enable_auto_commit=False,
                    request_timeout_ms=5000,
                )
            partitions = [
                TopicPartition(topic, partition)
                for topic in self.topics
                for partition in sorted(self._client.partitions_for_topic(topic) or ())
            ]
            ends = self._client.end_offsets(partitions)
            beginnings = self._client.beginning_offsets(partitions)
        return (
            {(tp.topic, tp.partition): o for tp, o in ends.items()},
            {(tp.topic, tp.partition): o for tp, o in beginnings.items()},
        )
