import threading
import uuid

import pytest
from sqlalchemy import func, select

from followup_service.bootstrap import bootstrap
from followup_service.tables import metadata
from shared.events.envelope import NewEvent
from shared.events.registry import EventSchemaError
from shared.eventstore.store import ConcurrencyError
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
