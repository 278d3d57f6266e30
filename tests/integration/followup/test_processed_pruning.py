"""Processed event ids are kept as long as the topic can redeliver them, then forgotten.

Tests use a retention of one hour and age ids by moving their processed_at back (the
database's clock stamps them; nothing here waits for time to pass).
"""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from followup_service.cli import main as cli_main
from followup_service.tables import cases, metadata
from followup_service.worker import run_worker
from shared.eventstore.consumer import prune_processed_events
from tests.integration.followup.conftest import aspiration_recorded
from tests.support import wait_for

pytestmark = pytest.mark.integration

processed = metadata.tables["processed_events"]
offsets = metadata.tables["consumer_offsets"]
events = metadata.tables["events"]


def processed_ids(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(processed.c.event_id)).scalars())


def age(engine, event_ids, hours: float) -> None:
    """Make these ids look processed `hours` ago."""
    with engine.begin() as conn:
        conn.execute(
            update(processed)
            .where(processed.c.event_id.in_(event_ids))
            .values(processed_at=func.now() - timedelta(hours=hours))
        )


def stored_offsets(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.coalesce(func.sum(offsets.c.next_offset), 0))).scalar()


def state(engine) -> tuple:
    with engine.connect() as conn:
        return (
            conn.execute(select(events.c.event_id).order_by(events.c.global_position)).all(),
            conn.execute(select(cases.c.case_id, cases.c.version).order_by(cases.c.case_id)).all(),
        )


def test_the_worker_prunes_old_ids_keeps_recent_ones_and_a_recent_redelivery_stays_a_no_op(
    followup, pipeline
):
    engine = followup.fu.engine
    old = [aspiration_recorded() for _ in range(3)]
    recent = [aspiration_recorded() for _ in range(2)]
    for envelope in old:
        pipeline(envelope)
    wait_for(lambda: stored_offsets(engine) == 3, 60, what="old events consumed")
    age(engine, [e.event_id for e in old], hours=2)
    for envelope in recent:
        pipeline(envelope)
    wait_for(lambda: stored_offsets(engine) == 5, 60, what="recent events consumed")
    assert processed_ids(engine) == {e.event_id for e in old + recent}

    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(followup.fu, stop, 0.05, timedelta(hours=1)))
    worker.start()
    try:
        wait_for(lambda: len(processed_ids(engine)) < 5, 30, what="the worker's prune")
    finally:
        stop.set()
        worker.join(timeout=30)
    assert processed_ids(engine) == {e.event_id for e in recent}

    # The relay resends a recent event: its id is still known, so nothing happens.
    before = state(engine)
    pipeline(recent[0])
    wait_for(lambda: stored_offsets(engine) == 6, 60, what="redelivery consumed")
    assert state(engine) == before
    assert processed_ids(engine) == {e.event_id for e in recent}


def test_prune_command_forgets_only_ids_older_than_the_retention_in_batches(
    followup, monkeypatch, capsys
):
    engine = followup.fu.engine
    ages = {f"old-{n}": 30 + 2 * n for n in range(5)} | {"edge": 0.9, "new": 0}
    with engine.begin() as conn:
        conn.execute(
            insert(processed),
            [{"group_id": "g", "event_id": event_id} for event_id in ages],
        )
    for event_id, hours in ages.items():
        age(engine, [event_id], hours)

    assert prune_processed_events(engine, metadata, timedelta(hours=40), batch=2) == 0
    assert prune_processed_events(engine, metadata, timedelta(hours=33), batch=2) == 3
    assert processed_ids(engine) == {"old-0", "old-1", "edge", "new"}

    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", followup.settings.database_url)
    monkeypatch.setenv("FOLLOWUP_REDIS_URL", followup.settings.redis_url)
    cli_main(["prune-processed", "--keep-hours", "1"])
    assert "forgot 2 processed event ids older than 1:00:00" in capsys.readouterr().out
    assert processed_ids(engine) == {"edge", "new"}
