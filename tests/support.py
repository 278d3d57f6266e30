"""Small helpers for tests against the real stack."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

from kafka import KafkaConsumer

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list:
    """Read a topic from the beginning until `expected` records (or the timeout)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=1000,
    )
    records: list = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        # Give late duplicates a moment to show up, so tests can assert there are none.
        for batch in consumer.poll(timeout_ms=1000).values():
            records.extend(batch)
    finally:
        consumer.close()
    return records


class KafkaBroker:
    """Stops and starts the session's broker through the project's own script."""

    script = os.path.join(REPO_ROOT, "deploy", "kafka", "kafka.sh")

    def stop(self) -> None:
        subprocess.run([self.script, "stop"], check=True, capture_output=True)

    def start(self) -> None:
        subprocess.run([self.script, "start"], check=True, capture_output=True)


def probe_event(stream_id: str, n: int = 0):
    """A NewEvent of a test-only type, so store/relay tests don't depend on domain schemas."""
    from shared.events.envelope import NewEvent

    return NewEvent("ProbeRecorded", {"stream": stream_id, "n": n})


def _register_probe_event() -> None:
    from marshmallow import Schema, fields

    from shared.events.registry import REGISTRY

    @REGISTRY.event("ProbeRecorded", version=1)
    class ProbeRecordedV1(Schema):
        stream = fields.String(required=True)
        n = fields.Integer(required=True)


_register_probe_event()
