import multiprocessing
import os
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from shared.db import make_engine
from shared.events import REGISTRY
from shared.events.envelope import EventEnvelope
from shared.events.topics import dead_letter
from shared.eventstore.consumer import ConsumerRunner
from shared.eventstore.kafka_io import ensure_topics, make_producer
from shared.eventstore.tables import define_event_tables
from tests.support import read_topic, wait_for  # also registers ProbeRecorded

pytestmark = pytest.mark.integration

metadata = MetaData()
define_event_tables(metadata)
effects = Table("effects", metadata, Column("event_id", String(36), primary_key=True))


def _envelope(n: int) -> EventEnvelope:
    now = datetime.now(UTC)
    return EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type="ProbeRecorded",
        schema_version=1,
        stream_id=f"probe-{n}",
        stream_version=1,
        occurred_at=now,
        recorded_at=now,
        payload={"stream": f"probe-{n}", "n": n},
    )


def _record_effect(conn, envelope):
    conn.execute(insert(effects).values(event_id=envelope.event_id))


def _runner(database_url, bootstrap, topic, group, handler=_record_effect):
    return ConsumerRunner(
        engine=make_engine(database_url),
        metadata=metadata,
        registry=REGISTRY,
        bootstrap_servers=bootstrap,
        topics=[topic],
        group_id=group,
        handler=handler,
        dead_letter_producer=make_producer(bootstrap),
        max_records=7,
        # A crashed member's partitions move on after the session timeout: keep it short.
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )


def _crash_after_effects(database_url, bootstrap, topic, group, crash_after):
    """Child process: apply effects, then die inside the transaction before it commits."""
    handled = 0

    def handler(conn, envelope):
        nonlocal handled
        _record_effect(conn, envelope)
        handled += 1
        if handled >= crash_after:
            os._exit(17)

    runner = _runner(database_url, bootstrap, topic, group, handler)
    while True:
        runner.poll_once()


@pytest.fixture
def setup(create_database, stack_env):
    url = create_database("consumer")
    engine = make_engine(url)
    metadata.create_all(engine)
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"t{uuid.uuid4().hex[:10]}.intake.events"
    ensure_topics(bootstrap, [topic, dead_letter(topic)], partitions=3)
    producer = make_producer(bootstrap)
    yield url, engine, bootstrap, topic, producer
    producer.close()
    engine.dispose()


def _publish(producer, topic, envelopes):
    for env in envelopes:
        producer.send(topic, key=env.stream_id.encode(), value=env.to_wire())
    producer.flush()


def _effect_ids(engine) -> list[str]:
    with engine.connect() as conn:
        return [r.event_id for r in conn.execute(select(effects.c.event_id))]


def _consume_until(runner, engine, count, timeout=60):
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: len(_effect_ids(engine)) >= count, timeout=timeout, what="effects")
    finally:
        stop.set()
        thread.join(timeout=30)


def test_nothing_is_lost_or_duplicated_when_the_consumer_dies_between_effect_and_commit(setup):
    url, engine, bootstrap, topic, producer = setup
    envelopes = [_envelope(n) for n in range(30)]
    _publish(producer, topic, envelopes)
    group = f"g-{uuid.uuid4().hex[:8]}"

    child = multiprocessing.get_context("fork").Process(
        target=_crash_after_effects, args=(url, bootstrap, topic, group, 10)
    )
    child.start()
    child.join(timeout=90)
    assert child.exitcode == 17, "the consumer should have died mid-batch"
    crashed_with = len(_effect_ids(engine))
    assert crashed_with < 10, "effects of the batch it died in must have rolled back"

    _consume_until(_runner(url, bootstrap, topic, group), engine, 30)
    ids = _effect_ids(engine)
    assert sorted(ids) == sorted(e.event_id for e in envelopes)


def test_an_event_delivered_twice_takes_effect_once(setup):
    url, engine, bootstrap, topic, producer = setup
    envelopes = [_envelope(n) for n in range(5)]
    _publish(producer, topic, envelopes + envelopes[:3])  # the relay resent three
    runner = _runner(url, bootstrap, topic, f"g-{uuid.uuid4().hex[:8]}")
    _consume_until(runner, engine, 5)
    with engine.connect() as conn:
        processed = metadata.tables["processed_events"]
        assert conn.execute(select(func.count()).select_from(processed)).scalar_one() == 5
    assert sorted(_effect_ids(engine)) == sorted(e.event_id for e in envelopes)


def test_undecodable_messages_land_on_the_dead_letter_topic_with_the_reason(setup):
    url, engine, bootstrap, topic, producer = setup
    good = _envelope(1)
    unknown_type = replace(good, event_id=str(uuid.uuid4()), event_type="Martian")
    producer.send(topic, key=b"k", value=b"{not json")
    producer.send(topic, key=b"k", value=unknown_type.to_wire())
    producer.send(topic, key=b"k", value=good.to_wire())
    producer.flush()

    _consume_until(_runner(url, bootstrap, topic, f"g-{uuid.uuid4().hex[:8]}"), engine, 1)
    assert _effect_ids(engine) == [good.event_id]
    dead = read_topic(bootstrap, dead_letter(topic), expected=2)
    assert sorted(r.value for r in dead) == sorted([b"{not json", unknown_type.to_wire()])
    for record in dead:
        headers = dict(record.headers)
        assert headers["original_topic"].decode() == topic
        assert headers["dead_letter_reason"]
        assert headers["dead_letter_error"] in (b"JSONDecodeError", b"EventSchemaError")
