"""Replaying the intake topic from the beginning after a consumer reset changes nothing."""

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from followup_service.cli import consumer_group
from followup_service.cli import main as cli_main
from followup_service.consumers import make_intake_event_handler
from followup_service.tables import case_timeline, cases, metadata
from shared.events.topics import INTAKE_EVENTS
from shared.eventstore.kafka_io import ensure_topics, make_producer
from shared.processes import run_consumer
from tests.integration.followup.conftest import aspiration_recorded, intake_event
from tests.support import wait_for

pytestmark = pytest.mark.integration


def _snapshot(engine) -> dict:
    events = metadata.tables["events"]
    with engine.connect() as conn:
        return {
            "events": conn.execute(
                select(events.c.event_id, events.c.stream_id, events.c.stream_version).order_by(
                    events.c.global_position
                )
            ).all(),
            "cases": conn.execute(select(cases.c.case_id, cases.c.version)).all(),
            "timeline": conn.execute(select(func.count()).select_from(case_timeline)).scalar(),
        }


def _stored_offsets(engine, group: str) -> int:
    offsets = metadata.tables["consumer_offsets"]
    with engine.connect() as conn:
        total = conn.execute(
            select(func.sum(offsets.c.next_offset)).where(offsets.c.group_id == group)
        ).scalar()
    return total or 0


def _consume_until(followup, group: str, offset_total: int) -> None:
    settings, fu = followup.settings, followup.fu
    stop = threading.Event()
    thread = threading.Thread(
        target=run_consumer,
        args=(
            settings,
            fu.engine,
            metadata,
            [settings.topic(INTAKE_EVENTS)],
            group,
            make_intake_event_handler(fu),
            stop,
        ),
    )
    thread.start()
    try:
        wait_for(
            lambda: _stored_offsets(fu.engine, group) >= offset_total,
            timeout=60,
            what="consumer caught up",
        )
    finally:
        stop.set()
        thread.join(timeout=30)


def test_replay_creates_no_duplicates_when_the_consumer_is_reset_to_the_beginning(
    followup, monkeypatch
):
    settings = followup.settings
    topic = settings.topic(INTAKE_EVENTS)
    group = consumer_group(settings)
    ensure_topics(settings.kafka_bootstrap_servers, [topic])
    recorded = [aspiration_recorded(c) for c in ("street_lighting", "road_damage", "tawuran")]
    first_id = recorded[0].payload["aspiration_id"]
    backed = intake_event(
        "AspirationBacked",
        1,
        first_id,
        {
            "aspiration_id": first_id,
            "meeting_id": None,
            "backing_id": str(uuid.uuid4()),
            "count": 5,
            "total_count": 5,
        },
        seq=2,
    )
    amended = intake_event(
        "AspirationAmended",
        1,
        first_id,
        {
            "aspiration_id": first_id,
            "meeting_id": None,
            "changes": {"public_summary": "PJU mati di dua titik"},
            "previous": {"public_summary": "PJU mati di Jalan Raya Cikande"},
            "reason": "dua titik",
            "amended_by": "officer:budi",
        },
        seq=3,
    )
    producer = make_producer(settings.kafka_bootstrap_servers)
    for envelope in [*recorded, backed, amended, recorded[1]]:  # the last one sent twice
        producer.send(topic, key=envelope.stream_id.encode(), value=envelope.to_wire())
    producer.flush(timeout=30)
    producer.close(timeout=5)
    _consume_until(followup, group, 6)
    before = _snapshot(followup.fu.engine)
    assert len(before["cases"]) == 3 and len(before["events"]) == 3 * 2 + 2

    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FOLLOWUP_TOPIC_PREFIX", settings.topic_prefix)
    cli_main(["reset-consumer"])
    assert _stored_offsets(followup.fu.engine, group) == 0

    _consume_until(followup, group, 6)  # everything read again from offset 0

    assert _snapshot(followup.fu.engine) == before


def test_the_group_moves_to_a_time_the_beginning_or_the_end_and_replays_without_duplicates(
    followup, monkeypatch, capsys
):
    settings, engine = followup.settings, followup.fu.engine
    topic, group = settings.topic(INTAKE_EVENTS), consumer_group(settings)
    ensure_topics(settings.kafka_bootstrap_servers, [topic])
    producer = make_producer(settings.kafka_bootstrap_servers)

    def send(envelopes) -> None:
        for envelope in envelopes:
            producer.send(topic, key=envelope.stream_id.encode(), value=envelope.to_wire())
        producer.flush(timeout=30)

    send([aspiration_recorded(c) for c in ("street_lighting", "road_damage", "drainage")])
    time.sleep(0.05)  # record timestamps are in milliseconds
    moment = datetime.now(UTC)
    time.sleep(0.05)
    send([aspiration_recorded(c) for c in ("electricity", "public_order")])
    producer.close(timeout=5)
    _consume_until(followup, group, 5)
    before = _snapshot(engine)
    assert len(before["cases"]) == 5

    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FOLLOWUP_TOPIC_PREFIX", settings.topic_prefix)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", settings.kafka_bootstrap_servers)
    cli_main(["move-consumer", "--to-time", moment.isoformat(), "--dry-run"])
    assert "would move" in capsys.readouterr().out
    assert _stored_offsets(engine, group) == 5  # a dry run stores nothing

    cli_main(["move-consumer", "--to-time", moment.isoformat()])
    out = capsys.readouterr().out
    assert _stored_offsets(engine, group) == 3  # each partition at its first later record
    assert "(-" in out and "moved to" in out  # the partitions that moved back say by how much
    _consume_until(followup, group, 5)  # the two later records read again
    assert _snapshot(engine) == before  # and nothing doubled

    cli_main(["move-consumer", "--to-beginning"])
    assert _stored_offsets(engine, group) == 0
    cli_main(["move-consumer", "--to-end"])
    assert _stored_offsets(engine, group) == 5
    with pytest.raises(SystemExit) as refused:
        cli_main(["move-consumer", "--to-time", "2026-11-24T18:00"])  # no offset: ambiguous
    assert refused.value.code == 2
