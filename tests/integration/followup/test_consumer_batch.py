"""The consumer handles a poll as one batch: same result as one event at a time, fewer trips."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest
from sqlalchemy import event, func, select

from followup_service import handlers
from followup_service.consumers import make_intake_event_handler
from followup_service.projections import READ_MODELS, rebuild
from followup_service.tables import case_timeline, cases, metadata
from shared.events import REGISTRY
from shared.events.topics import INTAKE_EVENTS, dead_letter
from shared.eventstore.consumer import ConsumerRunner
from shared.eventstore.kafka_io import ensure_topics, make_producer
from tests.integration.followup.conftest import Service, aspiration_recorded, intake_event
from tests.support import wait_for

pytestmark = pytest.mark.integration
events_table = metadata.tables["events"]


def _backed(aspiration_id: str, count: int, total: int):
    payload = {
        "aspiration_id": aspiration_id,
        "meeting_id": None,
        "backing_id": str(uuid.uuid4()),
        "count": count,
        "total_count": total,
    }
    return intake_event("AspirationBacked", 1, aspiration_id, payload)


def _amended(aspiration_id: str, summary: str, previous: str):
    payload = {
        "aspiration_id": aspiration_id,
        "meeting_id": None,
        "changes": {"public_summary": summary},
        "previous": {"public_summary": previous},
        "reason": "lebih jelas",
        "amended_by": "officer:budi",
    }
    return intake_event("AspirationAmended", 1, aspiration_id, payload)


def _withdrawn(aspiration_id: str, duplicate_of: str | None = None):
    payload = {
        "aspiration_id": aspiration_id,
        "meeting_id": None,
        "reason": "duplicate_of" if duplicate_of else "recorded_by_mistake",
        "duplicate_of": duplicate_of,
        "note": "",
        "withdrawn_by": "officer:budi",
    }
    return intake_event("AspirationWithdrawn", 1, aspiration_id, payload)


def _mixed_poll() -> list:
    """Many cases, and several events for some of them, in the order intake publishes."""
    recorded = [
        aspiration_recorded(category, backing_count=n % 3)
        for n, category in enumerate(
            ["street_lighting", "road_damage", "tawuran", "money_politics", "electricity"] * 4
        )
    ]
    first, second, third = (r.payload["aspiration_id"] for r in recorded[:3])
    summary = recorded[0].payload["public_summary"]
    return [
        *recorded,
        _backed(first, 4, 4),
        _amended(first, "PJU mati di dua titik", summary),
        _backed(first, 3, 7),
        _withdrawn(second),
        _amended(second, "too late: withdrawn", "x"),  # ignored: the case is closed
        _withdrawn(third, duplicate_of=first),
        recorded[4],  # delivered twice within the poll: opening again is a no-op
        _backed(str(uuid.uuid4()), 1, 1),  # no such case: ignored
    ]


def _state(engine) -> dict:
    """What the events and read models say, without the ids and instants of writing."""
    volatile = {"event_id", "recorded_at", "updated_at", "global_position"}

    def rows(table, order):
        with engine.connect() as conn:
            result = conn.execute(select(table).order_by(*order)).mappings()
            return [
                json.dumps(
                    {k: v for k, v in row.items() if k not in volatile},
                    sort_keys=True,
                    default=str,
                )
                for row in result
            ]

    return {
        "events": rows(events_table, [events_table.c.stream_id, events_table.c.stream_version]),
        "cases": rows(cases, [cases.c.case_id]),
        "timeline": rows(case_timeline, [case_timeline.c.case_id, case_timeline.c.seq]),
    }


def _dump_read_models(engine) -> dict[str, list[str]]:
    def cell(value):
        return value.isoformat() if isinstance(value, datetime) else value

    with engine.connect() as conn:
        return {
            table.name: [
                json.dumps({k: cell(v) for k, v in row.items()}, sort_keys=True, default=str)
                for row in conn.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).mappings()
            ]
            for table in READ_MODELS
        }


def test_a_poll_handled_as_one_batch_ends_where_one_event_at_a_time_ends(make_settings):
    poll = _mixed_poll()
    batched, one_by_one = Service(make_settings("followup")), Service(make_settings("followup"))

    handler = make_intake_event_handler(batched.fu)
    with batched.fu.engine.begin() as conn:
        handler.handle_batch(conn, poll)
    handler.after_commit()
    for envelope in poll:
        one_by_one.record(envelope)

    state = _state(batched.fu.engine)
    assert state == _state(one_by_one.fu.engine)
    assert len(state["cases"]) == 20
    first = poll[0].payload
    case = handlers.load_case(batched.fu, f"case-{first['aspiration_id']}")
    assert (case.backing_count, case.public_summary) == (7, "PJU mati di dua titik")
    withdrawn = handlers.load_case(batched.fu, f"case-{poll[1].payload['aspiration_id']}")
    duplicate = handlers.load_case(batched.fu, f"case-{poll[2].payload['aspiration_id']}")
    assert (withdrawn.status, withdrawn.outcome) == ("closed", "withdrawn")
    assert (duplicate.outcome, duplicate.duplicate_of) == ("duplicate", case.case_id)
    cached = batched.fu.tracking.get(first["tracking_code"])  # after_commit refreshed it
    assert (cached["version"], cached["public_summary"]) == (case.version, case.public_summary)


def test_read_models_written_by_a_batch_equal_a_rebuild_by_replay(followup):
    handler = make_intake_event_handler(followup.fu)
    with followup.fu.engine.begin() as conn:
        handler.handle_batch(conn, _mixed_poll())
    live = _dump_read_models(followup.fu.engine)
    assert len(live["cases"]) == 20

    with followup.fu.engine.begin() as conn:
        rebuild(conn, followup.fu.store, followup.fu.rules)

    assert _dump_read_models(followup.fu.engine) == live


def _statements(engine, work) -> int:
    """How many statements the database receives while work() runs (executemany: one)."""
    count = 0

    def counted(*_):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counted)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def test_a_poll_costs_the_same_statements_for_fifty_new_cases_as_for_two(followup):
    handler = make_intake_event_handler(followup.fu)

    def handle(poll):
        with followup.fu.engine.begin() as conn:
            handler.handle_batch(conn, poll)

    two = _statements(followup.fu.engine, lambda: handle([aspiration_recorded() for _ in "ab"]))
    fifty = _statements(
        followup.fu.engine, lambda: handle([aspiration_recorded() for _ in range(50)])
    )

    assert fifty == two
    with followup.fu.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 52


def _runner(followup: Service, topic: str, group: str) -> ConsumerRunner:
    settings, handler = followup.settings, make_intake_event_handler(followup.fu)
    return ConsumerRunner(
        engine=followup.fu.engine,
        metadata=metadata,
        registry=REGISTRY,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topics=[topic],
        group_id=group,
        handler=handler,
        dead_letter_producer=make_producer(settings.kafka_bootstrap_servers),
        after_commit=handler.after_commit,
        after_rollback=handler.after_rollback,
    )


def test_a_conflict_in_the_middle_of_a_poll_handles_it_again_without_duplicates(
    followup, monkeypatch
):
    settings = followup.settings
    topic = settings.topic(INTAKE_EVENTS)
    ensure_topics(settings.kafka_bootstrap_servers, [topic, dead_letter(topic)], partitions=1)
    existing = aspiration_recorded()
    case_id = followup.record(existing)
    aspiration_id = existing.payload["aspiration_id"]
    poll = [
        aspiration_recorded("road_damage"),
        _backed(aspiration_id, 5, 5),
        aspiration_recorded("tawuran"),
        _amended(aspiration_id, "PJU mati di tiga titik", existing.payload["public_summary"]),
    ]
    producer = make_producer(settings.kafka_bootstrap_servers)
    for envelope in poll:
        producer.send(topic, key=b"one-partition", value=envelope.to_wire())
    producer.flush(timeout=30)
    producer.close(timeout=5)

    # The first time the poll's work is flushed, a liaison's note lands on the case first
    # (committed on another connection): the poll's expected version is then stale.
    flush, flushes = handlers.Work.flush, []

    def flush_after_a_concurrent_change(work):
        if case_id in work.changed and not flushes:
            flushes.append(work)
            handlers.note_progress(
                followup.fu, case_id, handlers.system_actor("test"), text="dicek", public=True
            )
        flush(work)

    monkeypatch.setattr(handlers.Work, "flush", flush_after_a_concurrent_change)
    rollbacks = []
    runner = _runner(followup, topic, f"g-{uuid.uuid4().hex[:8]}")
    forget = runner.after_rollback
    runner.after_rollback = lambda: (rollbacks.append(1), forget())
    try:
        wait_for(lambda: _poll_then_count(followup, runner) >= len(poll), what="poll handled")
    finally:
        runner.close()

    assert len(flushes) == 1 and len(rollbacks) == 1  # one conflict, then the poll again
    with followup.fu.engine.connect() as conn:
        types = conn.execute(
            select(events_table.c.event_type)
            .where(events_table.c.stream_id == case_id)
            .order_by(events_table.c.stream_version)
        ).scalars()
        assert list(types) == [
            "CaseOpened",
            "CaseRouted",
            "ProgressNoted",
            "CaseBacked",
            "CaseAmended",
        ]
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 3
        processed = metadata.tables["processed_events"]
        claimed = conn.execute(select(func.count()).select_from(processed)).scalar_one()
        assert claimed == len(poll)
    view = followup.client.get(f"/api/v1/track/{existing.payload['tracking_code']}").json
    assert view["version"] == 5 and view["public_summary"] == "PJU mati di tiga titik"


def _poll_then_count(followup: Service, runner: ConsumerRunner) -> int:
    """Handle one poll; return the sum of the offsets the runner has stored."""
    runner.poll_once(timeout_ms=200)
    offsets = metadata.tables["consumer_offsets"]
    with followup.fu.engine.connect() as conn:
        total = conn.execute(
            select(func.sum(offsets.c.next_offset)).where(
                offsets.c.group_id == runner.offsets.group_id
            )
        ).scalar()
    return total or 0
