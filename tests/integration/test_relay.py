import json
import threading
import time
import uuid
from collections import defaultdict

import pytest
from sqlalchemy import select, text, update

from followup_service.bootstrap import bootstrap
from followup_service.tables import metadata
from shared.events.topics import CASE_EVENTS
from shared.eventstore.kafka_io import ensure_topics, make_producer
from shared.eventstore.relay import OutboxRelay
from tests.support import KafkaBroker, probe_event, read_topic, wait_for

pytestmark = pytest.mark.integration


def _append_case_events(followup, streams: list[str], per_stream: int) -> None:
    for stream in streams:
        with followup.engine.begin() as conn:
            version = followup.store.stream_version(conn, stream)
            followup.store.append(
                conn, stream, version, [probe_event(stream, i) for i in range(per_stream)]
            )


def _assert_each_stream_in_order_without_gaps(records, streams, per_stream):
    versions = defaultdict(list)
    for record in records:
        envelope = json.loads(record.value)
        assert record.key.decode() == envelope["stream_id"]
        versions[envelope["stream_id"]].append(envelope["stream_version"])
    for stream in streams:
        assert versions[stream] == list(range(1, per_stream + 1)), stream


@pytest.fixture
def followup(make_settings):
    followup = bootstrap(make_settings("followup"))
    ensure_topics(followup.settings.kafka_bootstrap_servers, [followup.settings.topic(CASE_EVENTS)])
    return followup


def test_every_event_reaches_kafka_keyed_by_stream_in_order_when_relayed(followup):
    streams = [f"case-{uuid.uuid4()}" for _ in range(10)]
    _append_case_events(followup, streams, per_stream=5)
    producer = make_producer(followup.settings.kafka_bootstrap_servers)
    relay = OutboxRelay(followup.engine, metadata, producer, batch_size=7)
    while relay.publish_batch():
        pass
    producer.close()
    assert relay.pending() == 0
    records = read_topic(
        followup.settings.kafka_bootstrap_servers, followup.settings.topic(CASE_EVENTS), 50
    )
    assert len(records) == 50
    _assert_each_stream_in_order_without_gaps(records, streams, 5)


def test_no_event_is_lost_when_the_broker_restarts_under_the_relay(followup):
    broker = KafkaBroker()
    streams = [f"case-{uuid.uuid4()}" for _ in range(20)]
    _append_case_events(followup, streams[:10], per_stream=3)
    producer = make_producer(followup.settings.kafka_bootstrap_servers)
    relay = OutboxRelay(followup.engine, metadata, producer, batch_size=10)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"max_backoff": 1.0})
    thread.start()
    try:
        wait_for(lambda: relay.pending() == 0, what="first half relayed")
        broker.stop()
        _append_case_events(followup, streams[10:], per_stream=3)  # written while Kafka is down
        assert relay.pending() == 30
        broker.start()
        wait_for(lambda: relay.pending() == 0, timeout=90, what="outbox drained after restart")
    finally:
        stop.set()
        thread.join(timeout=30)
        producer.close(timeout=5)
    records = read_topic(
        followup.settings.kafka_bootstrap_servers, followup.settings.topic(CASE_EVENTS), 60
    )
    ids = [json.loads(r.value)["event_id"] for r in records]
    assert len(set(ids)) == 60
    _assert_each_stream_in_order_without_gaps(
        [r for i, r in enumerate(records) if json.loads(r.value)["event_id"] not in ids[:i]],
        streams,
        3,
    )


def test_one_relay_leads_and_a_standby_takes_over_when_the_leader_stops(followup):
    streams = [f"case-{uuid.uuid4()}" for _ in range(6)]
    producer = make_producer(followup.settings.kafka_bootstrap_servers)
    relays = [OutboxRelay(followup.engine, metadata, producer, batch_size=4) for _ in range(2)]
    stops = [threading.Event(), threading.Event()]
    threads = [
        threading.Thread(target=relay.run, args=(stop,), kwargs={"standby_interval": 0.1})
        for relay, stop in zip(relays, stops, strict=True)
    ]
    threads[0].start()
    wait_for(lambda: relays[0].leading, what="first relay leads")
    threads[1].start()
    try:
        _append_case_events(followup, streams[:3], per_stream=4)
        wait_for(lambda: relays[0].pending() == 0, what="relayed by the leader")
        assert not relays[1].leading
        stops[0].set()
        threads[0].join(timeout=30)
        wait_for(lambda: relays[1].leading, what="standby takes the lead")
        _append_case_events(followup, streams[3:], per_stream=4)
        wait_for(lambda: relays[1].pending() == 0, what="relayed by the new leader")
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=30)
        producer.close(timeout=5)
    records = read_topic(
        followup.settings.kafka_bootstrap_servers, followup.settings.topic(CASE_EVENTS), 24
    )
    assert len(records) == 24
    _assert_each_stream_in_order_without_gaps(records, streams, 4)


def test_a_sleeping_relay_wakes_on_notify_not_at_its_idle_timeout(followup):
    producer = make_producer(followup.settings.kafka_bootstrap_servers)
    relay = OutboxRelay(followup.engine, metadata, producer)
    stop = threading.Event()
    # An idle wait far beyond wait_for's timeout: only the NOTIFY of the append can
    # wake the relay in time.
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"idle_wait": 120})
    thread.start()
    try:
        wait_for(lambda: relay.leading, what="relay leads")
        time.sleep(0.5)  # let it go to sleep on the empty outbox
        stream = f"case-{uuid.uuid4()}"
        _append_case_events(followup, [stream], per_stream=2)
        wait_for(lambda: relay.pending() == 0, timeout=10, what="woken by NOTIFY")
    finally:
        stop.set()
        with followup.engine.begin() as conn:  # wake it so it sees stop
            conn.execute(text("NOTIFY outbox"))
        thread.join(timeout=30)
        producer.close(timeout=5)
    assert not thread.is_alive()


def test_rows_without_stored_bytes_are_encoded_from_the_event_log(followup):
    """Outbox rows written before the bytes column existed (or by a bulk COPY)."""
    stream = f"case-{uuid.uuid4()}"
    _append_case_events(followup, [stream], per_stream=3)
    outbox = metadata.tables["outbox"]
    with followup.engine.begin() as conn:
        sent_as_stored = conn.execute(select(outbox.c.value).order_by(outbox.c.id)).scalars().all()
        conn.execute(update(outbox).values(value=None, event_type=None, schema_version=None))
    producer = make_producer(followup.settings.kafka_bootstrap_servers)
    relay = OutboxRelay(followup.engine, metadata, producer)
    assert relay.publish_pending() == 3
    producer.close(timeout=5)
    records = read_topic(
        followup.settings.kafka_bootstrap_servers, followup.settings.topic(CASE_EVENTS), 3
    )
    assert [r.value for r in records] == sent_as_stored
    assert dict(records[0].headers)["event_type"] == b"ProbeRecorded"
