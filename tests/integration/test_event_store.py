import threading
import uuid

import pytest
from sqlalchemy import func, select

from followup_service.bootstrap import bootstrap
from followup_service.tables import metadata
from shared.events.envelope import NewEvent
from shared.events.registry import EventSchemaError
from shared.eventstore.store import ConcurrencyError, StreamAppend
from tests.support import probe_event

pytestmark = pytest.mark.integration


def _opened(case_id: str) -> NewEvent:
    return probe_event(case_id)


@pytest.fixture
def followup(make_settings):
    return bootstrap(make_settings("followup"))


def test_stream_reads_back_in_order_when_appended_in_two_steps(followup):
    stream = f"case-{uuid.uuid4()}"
    with followup.engine.begin() as conn:
        followup.store.append(conn, stream, 0, [_opened(stream)])
    with followup.engine.begin() as conn:
        followup.store.append(conn, stream, 1, [_opened(stream), _opened(stream)])
    with followup.engine.connect() as conn:
        events = followup.store.read_stream(conn, stream)
        outbox = conn.execute(select(func.count()).select_from(metadata.tables["outbox"]))
        assert outbox.scalar_one() == 3
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert all(e.global_position for e in events)


def test_append_is_rejected_when_expected_version_is_stale(followup):
    stream = f"case-{uuid.uuid4()}"
    with followup.engine.begin() as conn:
        followup.store.append(conn, stream, 0, [_opened(stream)])
    with pytest.raises(ConcurrencyError) as err, followup.engine.begin() as conn:
        followup.store.append(conn, stream, 0, [_opened(stream)])
    assert (err.value.expected, err.value.actual) == (0, 1)
    with followup.engine.connect() as conn:
        assert len(followup.store.read_stream(conn, stream)) == 1


def test_only_one_writer_wins_when_two_append_the_same_version_concurrently(followup):
    stream = f"case-{uuid.uuid4()}"
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def writer():
        try:
            with followup.engine.begin() as conn:
                version = followup.store.stream_version(conn, stream)
                barrier.wait()
                followup.store.append(conn, stream, version, [_opened(stream)])
            outcomes.append("ok")
        except ConcurrencyError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with followup.engine.connect() as conn:
        assert len(followup.store.read_stream(conn, stream)) == 1


def test_nothing_is_stored_when_a_payload_breaks_its_schema(followup):
    stream = f"case-{uuid.uuid4()}"
    bad = NewEvent("ProbeRecorded", {"stream": stream})
    with pytest.raises(EventSchemaError), followup.engine.begin() as conn:
        followup.store.append(conn, stream, 0, [_opened(stream), bad])
    with followup.engine.connect() as conn:
        assert followup.store.read_stream(conn, stream) == []


def test_several_streams_read_back_in_one_call_each_in_order(followup):
    first, second, missing = (f"case-{uuid.uuid4()}" for _ in range(3))
    with followup.engine.begin() as conn:
        followup.store.append(conn, first, 0, [_opened(first), _opened(first)])
        followup.store.append(conn, second, 0, [_opened(second)])
        followup.store.append(conn, first, 2, [_opened(first)])
    with followup.engine.connect() as conn:
        streams = followup.store.read_streams(conn, [first, second, missing, first])
        versions = followup.store.stream_versions(conn, [first, second, missing])
    assert {s: [e.stream_version for e in events] for s, events in streams.items()} == {
        first: [1, 2, 3],
        second: [1],
        missing: [],
    }
    assert versions == {first: 3, second: 1}


def test_one_append_to_many_streams_writes_each_after_its_version_with_outbox_rows(followup):
    old, new = f"case-{uuid.uuid4()}", f"case-{uuid.uuid4()}"
    with followup.engine.begin() as conn:
        followup.store.append(conn, old, 0, [_opened(old)])
    with followup.engine.begin() as conn:
        stored = followup.store.append_many(
            conn,
            [
                StreamAppend(old, 1, [_opened(old), _opened(old)]),
                StreamAppend(new, 0, [_opened(new)], message_key="shared-key"),
                StreamAppend(f"case-{uuid.uuid4()}", 0, []),  # nothing to write: left out
            ],
        )
    assert {s: [e.stream_version for e in events] for s, events in stored.items()} == {
        old: [2, 3],
        new: [1],
    }
    outbox = metadata.tables["outbox"]
    with followup.engine.connect() as conn:
        keys = conn.execute(
            select(outbox.c.message_key).where(
                outbox.c.global_position.in_([e.global_position for e in stored[new]])
            )
        ).scalars()
        assert list(keys) == ["shared-key"]
        assert [e.event_id for e in followup.store.read_stream(conn, old)][1:] == [
            e.event_id for e in stored[old]
        ]


def test_append_to_many_streams_stores_none_when_one_moved_and_keeps_the_transaction(followup):
    moved, fresh = f"case-{uuid.uuid4()}", f"case-{uuid.uuid4()}"
    with followup.engine.begin() as conn:
        followup.store.append(conn, moved, 0, [_opened(moved)])
    with followup.engine.begin() as conn:
        read_at = followup.store.stream_version(conn, moved)
        with followup.engine.begin() as other:  # another writer gets there first
            followup.store.append(other, moved, 1, [_opened(moved)])
        with pytest.raises(ConcurrencyError) as err:
            followup.store.append_many(
                conn,
                [
                    StreamAppend(fresh, 0, [_opened(fresh)]),
                    StreamAppend(moved, read_at, [_opened(moved)]),
                ],
            )
        assert (err.value.stream_id, err.value.expected, err.value.actual) == (moved, 1, 2)
        assert followup.store.read_stream(conn, fresh) == []
        followup.store.append_many(conn, [StreamAppend(fresh, 0, [_opened(fresh)])])
    with followup.engine.connect() as conn:
        assert followup.store.stream_versions(conn, [moved, fresh]) == {moved: 2, fresh: 1}
