"""DeadLetterReplayer on its own: outcomes, per-key order, failures and concurrent replays.

The follow-up CLI's end-to-end test is tests/integration/followup/test_dead_letters.py.
"""

import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from marshmallow import Schema, fields
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

from shared.db import make_engine
from shared.events import REGISTRY
from shared.events.envelope import EventEnvelope
from shared.events.registry import EventRegistry
from shared.events.topics import dead_letter
from shared.eventstore.consumer import ConsumerRunner
from shared.eventstore.dead_letters import DeadLetterReplayer, Replay, read_dead_letters
from shared.eventstore.kafka_io import ensure_topics, make_producer
from shared.eventstore.tables import define_event_tables
from tests.support import wait_for

pytestmark = pytest.mark.integration

metadata = MetaData()
define_event_tables(metadata)
effects = Table("effects", metadata, Column("event_id", String(36), primary_key=True))


def martian(stream: str) -> EventEnvelope:
    """An event of a type the consumer's registry does not know (yet)."""
    now = datetime.now(UTC)
    return EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type="MartianLanded",
        schema_version=1,
        stream_id=stream,
        stream_version=1,
        occurred_at=now,
        recorded_at=now,
        payload={"crater": stream},
    )


def registry_that_knows_martians() -> EventRegistry:
    """The fix: a registry with MartianLanded v1 (and nothing else the test needs)."""
    fixed = EventRegistry()

    @fixed.event("MartianLanded", version=1)
    class MartianLandedV1(Schema):
        crater = fields.String(required=True)

    return fixed


def record_effect(conn, envelope: EventEnvelope) -> None:
    conn.execute(insert(effects).values(event_id=envelope.event_id))


def effect_ids(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(effects.c.event_id)).scalars())


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(metadata.tables[table])).scalar()


def stored_offsets(engine, group: str) -> int:
    offsets = metadata.tables["consumer_offsets"]
    with engine.connect() as conn:
        return conn.execute(
            select(func.coalesce(func.sum(offsets.c.next_offset), 0)).where(
                offsets.c.group_id == group
            )
        ).scalar()


def consume(engine, bootstrap, topic, group, registry, until) -> None:
    runner = ConsumerRunner(
        engine=engine,
        metadata=metadata,
        registry=registry,
        bootstrap_servers=bootstrap,
        topics=[topic],
        group_id=group,
        handler=record_effect,
        dead_letter_producer=make_producer(bootstrap),
    )
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        wait_for(until, timeout=60, what="consumer")
    finally:
        stop.set()
        thread.join(timeout=30)


def replayer(engine, group, handler=record_effect) -> DeadLetterReplayer:
    return DeadLetterReplayer(
        engine=engine,
        metadata=metadata,
        registry=registry_that_knows_martians(),
        group_id=group,
        handler=handler,
    )


def test_replay_outcomes_keep_key_order_and_take_effect_once_even_when_run_twice_at_once(
    create_database, stack_env
):
    engine = make_engine(create_database("deadletters"))
    metadata.create_all(engine)
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"t{uuid.uuid4().hex[:10]}.intake.events"
    ensure_topics(bootstrap, [topic, dead_letter(topic)])
    group = f"g-{uuid.uuid4().hex[:8]}"
    first, second, third = martian("a"), martian("b"), martian("c")
    probe = replace(martian("d"), event_type="ProbeRecorded", payload={"stream": "d", "n": 1})
    producer = make_producer(bootstrap)
    for key, value in [
        (b"a", b"{not json"),  # never decodable: stays failed
        (b"a", first.to_wire()),  # behind it on the same key: waits for it
        (b"b", second.to_wire()),
        (b"c", third.to_wire()),
        (b"d", probe.to_wire()),
    ]:
        producer.send(topic, key=key, value=value)
    producer.flush()

    consume(engine, bootstrap, topic, group, REGISTRY, lambda: stored_offsets(engine, group) == 5)
    letters = wait_for(
        lambda: (found := read_dead_letters(bootstrap, topic)) and len(found) == 4 and found,
        timeout=60,
        what="four dead letters",
    )
    assert effect_ids(engine) == {probe.event_id}
    by_value = {letter.value: letter for letter in letters}
    broken, waiting = by_value[b"{not json"], by_value[first.to_wire()]
    fresh, resent = by_value[second.to_wire()], by_value[third.to_wire()]
    assert broken.error == "JSONDecodeError" and fresh.error == "EventSchemaError"
    assert fresh.event_type == "MartianLanded v1" and "Unknown event type" in fresh.reason
    assert read_dead_letters(bootstrap, topic, [fresh.position]) == [fresh]

    # The producer resends the third event after the consumer learnt the type: it goes
    # through the topic, so its dead letter is a duplicate.
    producer.send(topic, key=b"c", value=third.to_wire())
    producer.flush()
    producer.close()
    fixed = registry_that_knows_martians()
    consume(engine, bootstrap, topic, group, fixed, lambda: stored_offsets(engine, group) == 6)
    assert effect_ids(engine) == {probe.event_id, third.event_id}

    # A handler that still fails writes nothing: no effect, no processed id, no mark.
    def broken_handler(conn, envelope):
        record_effect(conn, envelope)
        raise RuntimeError("handler bug")

    before = (effect_ids(engine), count(engine, "processed_events"))
    (failed,) = replayer(engine, group, broken_handler).replay([fresh])
    assert failed.outcome == Replay.FAILED and "handler bug" in failed.detail
    assert (effect_ids(engine), count(engine, "processed_events")) == before
    assert count(engine, "dead_letter_replays") == 0

    # Two operators replay everything at the same moment.
    results: list[list[Replay]] = []
    threads = [
        threading.Thread(target=lambda: results.append(replayer(engine, group).replay(letters)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    outcomes = [{r.letter.position: r.outcome for r in result} for result in results]
    assert len(outcomes) == 2
    assert {o[broken.position] for o in outcomes} == {Replay.FAILED}
    assert {o[waiting.position] for o in outcomes} == {Replay.WAITING}
    assert sorted(o[fresh.position] for o in outcomes) == [Replay.ALREADY_REPLAYED, Replay.REPLAYED]
    assert sorted(o[resent.position] for o in outcomes) == [
        Replay.ALREADY_REPLAYED,
        Replay.DUPLICATE,
    ]
    assert effect_ids(engine) == {probe.event_id, second.event_id, third.event_id}
    assert replayer(engine, group).replayed(dead_letter(topic)).keys() == {
        fresh.position,
        resent.position,
    }

    # Once more: nothing changes.
    again = {r.letter.position: r.outcome for r in replayer(engine, group).replay(letters)}
    assert again == {
        broken.position: Replay.FAILED,
        waiting.position: Replay.WAITING,
        fresh.position: Replay.ALREADY_REPLAYED,
        resent.position: Replay.ALREADY_REPLAYED,
    }
    assert effect_ids(engine) == {probe.event_id, second.event_id, third.event_id}
    engine.dispose()
