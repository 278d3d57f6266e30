"""shared.bulk: a batch of rows as one JSON document, inserted in order, typed by the table."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from followup_service.bootstrap import bootstrap
from followup_service.tables import case_timeline, metadata
from shared.bulk import insert_rows, rows_parameter, upsert_rows

pytestmark = pytest.mark.integration
events = metadata.tables["events"]
TIMELINE = [c.name for c in case_timeline.c]


@pytest.fixture
def engine(make_settings):
    fu = bootstrap(make_settings("followup"))
    yield fu.engine
    fu.engine.dispose()


def _entry(case_id: str, seq: int, **changes) -> dict:
    jakarta = timezone(timedelta(hours=7))
    return {
        "case_id": case_id,
        "seq": seq,
        "event_id": str(uuid.uuid4()),
        "event_type": "CaseOpened",
        "occurred_at": datetime(2026, 2, 5, 9, 0, 0, 123456, tzinfo=jakarta),
        "recorded_at": datetime.now(UTC),
        "actor": None,
        "public": True,
        "payload": {"text": 'kutip "ganda", \\ garis miring', "list": [1, None, {"a": True}]},
        **changes,
    }


def test_rows_read_back_as_written_and_an_upsert_overwrites_by_primary_key(engine):
    rows = [_entry("case-a", 1), _entry("case-a", 2, actor="officer:budi", public=False)]
    with engine.begin() as conn:
        conn.execute(insert_rows(case_timeline, TIMELINE), rows_parameter(rows))
        conn.execute(
            upsert_rows(case_timeline, TIMELINE),
            rows_parameter([{**rows[1], "payload": {"changed": "yes"}}, _entry("case-b", 1)]),
        )
    with engine.connect() as conn:
        stored = conn.execute(select(case_timeline).order_by("case_id", "seq")).mappings().all()
    assert [dict(r) for r in stored[:2]] == [rows[0], {**rows[1], "payload": {"changed": "yes"}}]
    assert [r["case_id"] for r in stored] == ["case-a", "case-a", "case-b"]


def test_serial_columns_follow_the_order_of_the_rows(engine):
    now = datetime.now(UTC)
    rows = [
        {
            "event_id": str(uuid.uuid4()),
            "stream_id": f"probe-{n % 7}",
            "stream_version": n // 7 + 1,
            "event_type": "ProbeRecorded",
            "schema_version": 1,
            "occurred_at": now,
            "recorded_at": now,
            "actor": None,
            "correlation_id": None,
            "causation_id": None,
            "payload": {"n": n},
        }
        for n in range(300)
    ]
    columns = [c for c in rows[0]]
    statement = insert_rows(events, columns).returning(events.c.event_id, events.c.global_position)
    with engine.begin() as conn:
        positions = dict(conn.execute(statement, rows_parameter(rows)).all())
    in_order = [positions[row["event_id"]] for row in rows]
    assert in_order == sorted(in_order) and len(set(in_order)) == 300
