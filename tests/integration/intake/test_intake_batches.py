"""A meeting's aspirations as one batch: ordered on Kafka, idempotent, all or nothing."""

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, insert, select, text

from intake_service import projections
from intake_service.tables import aspirations, meetings
from tests.integration.intake.conftest import aspiration_body
from tests.support import wait_for

pytestmark = pytest.mark.integration


def _batch(n: int = 20) -> dict:
    return {"aspirations": [aspiration_body(i) for i in range(n)]}


def _outbox_drained(intake):
    return wait_for(lambda: intake.count("outbox") == 0, what="outbox relayed")


def test_twenty_events_arrive_on_kafka_in_order_when_a_batch_of_twenty_is_posted(relay):
    intake = relay
    meeting_id = intake.meeting()
    batch = _batch(20)
    response = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", batch)
    assert response.status_code == 201, response.json
    assert [i["status"] for i in response.json["items"]] == ["created"] * 20

    events = intake.kafka_events(expected=21)
    recorded = [(r, e) for r, e in events if e.event_type == "AspirationRecorded"]
    assert len(events) == 21  # the meeting and exactly 20 aspirations
    assert [e.payload["aspiration_id"] for _, e in recorded] == [
        a["id"] for a in batch["aspirations"]
    ]
    assert {r.key for r, _ in recorded} == {f"meeting-{meeting_id}".encode()}
    assert len({r.partition for r, _ in recorded}) == 1
    offsets = [r.offset for r, _ in recorded]
    assert offsets == sorted(offsets)
    first = recorded[0][1]
    assert first.schema_version == 6
    assert (first.payload["channel"], first.payload["attributes"]) == ("officer", {})
    assert first.payload["meeting_id"] == meeting_id
    assert first.payload["location"]["kelurahan"] == "Pekayon Jaya"  # the meeting's place
    assert first.payload["unit"] == "polsek-bekasi-selatan"  # the unit id, not its name
    assert first.payload["tracking_code"] == response.json["items"][0]["tracking_code"]


def test_no_new_events_when_the_same_batch_is_resent_with_the_same_idempotency_key(relay):
    intake = relay
    meeting_id = intake.meeting()
    batch, path = _batch(20), f"/api/v1/meetings/{meeting_id}/aspirations"
    first = intake.post(path, batch, key="upload-1")
    before = intake.count()
    again = intake.post(path, batch, key="upload-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert intake.count() == before == 21
    _outbox_drained(intake)
    assert len(intake.kafka_events(expected=21)) == 21


def test_no_new_events_when_the_same_client_ids_are_resent_without_a_key(relay):
    intake = relay
    meeting_id = intake.meeting()
    batch, path = _batch(20), f"/api/v1/meetings/{meeting_id}/aspirations"
    first = intake.post(path, batch)
    again = intake.post(path, batch)
    assert (first.status_code, again.status_code) == (201, 200)
    assert [i["status"] for i in again.json["items"]] == ["existing"] * 20
    codes = [i["tracking_code"] for i in first.json["items"]]
    assert [i["tracking_code"] for i in again.json["items"]] == codes
    assert intake.count() == 21
    _outbox_drained(intake)
    assert len(intake.kafka_events(expected=21)) == 21


def test_409_when_the_same_idempotency_key_comes_with_a_different_body(intake):
    meeting_id = intake.meeting()
    path = f"/api/v1/meetings/{meeting_id}/aspirations"
    assert intake.post(path, _batch(2), key="k-1").status_code == 201
    before = intake.count()
    response = intake.post(path, _batch(2), key="k-1")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json["error"]
    assert intake.count() == before


def test_whole_batch_rejected_with_per_item_errors_when_one_item_is_invalid(intake):
    meeting_id = intake.meeting()
    batch = _batch(5)
    batch["aspirations"][3]["category"] = "ufo_sighting"
    del batch["aspirations"][1]["summary"]
    before = intake.count()
    response = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", batch)
    assert response.status_code == 422
    items = response.json["fields"]["aspirations"]
    assert set(items) == {"1", "3"}
    assert "category" in items["3"] and "summary" in items["1"]
    assert (intake.count(), intake.count("aspirations")) == (before, 0)


def test_whole_batch_rejected_when_one_item_links_to_an_unknown_aspiration(intake):
    meeting_id = intake.meeting()
    batch = _batch(3)
    batch["aspirations"][2]["supports"] = str(uuid.uuid4())
    before = intake.count()
    response = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", batch)
    assert response.status_code == 422
    assert response.json["fields"] == {"aspirations": {"2": {"supports": ["No such aspiration."]}}}
    assert (intake.count(), intake.count("aspirations"), intake.count("outbox")) == (before, 0, 1)


def test_404_and_nothing_stored_when_the_meeting_does_not_exist(intake):
    response = intake.post(f"/api/v1/meetings/{uuid.uuid4()}/aspirations", _batch(2))
    assert response.status_code == 404
    assert intake.count() == 0


def test_a_batch_takes_up_to_500_items_and_refuses_501_with_a_field_message(intake):
    """The cap is MAX_BATCH_ITEMS; a full batch of realistic items fits the body limit."""
    from intake_service.schemas import MAX_BATCH_ITEMS

    assert MAX_BATCH_ITEMS == 500
    meeting_id = intake.meeting()
    path = f"/api/v1/meetings/{meeting_id}/aspirations"
    too_many = intake.post(path, _batch(501))
    assert too_many.status_code == 422
    assert "aspirations" in too_many.json["fields"]
    assert intake.count("aspirations") == 0
    full = intake.post(path, _batch(500))
    assert full.status_code == 201, full.json
    assert len(full.json["items"]) == 500
    assert intake.count("aspirations") == 500


def test_a_tracking_code_a_concurrent_request_holds_is_drawn_again_not_a_500(intake, monkeypatch):
    """Two requests may draw the same code at once (each checks committed rows only): the
    later one meets the unique index, and its whole unit of work runs again on new codes."""
    from intake_service import handlers
    from shared.tracking_code import new_tracking_code

    clash = new_tracking_code()
    drawn = iter([clash, *(new_tracking_code() for _ in range(20))])
    monkeypatch.setattr(handlers, "new_tracking_code", lambda: next(drawn))
    meeting_id = intake.meeting()
    events_before = intake.count()
    path, answers = f"/api/v1/meetings/{meeting_id}/aspirations", []
    with intake.engine.connect() as other:
        holding = other.begin()  # the concurrent request, not yet committed
        other.execute(
            insert(aspirations).values(
                aspiration_id=str(uuid.uuid4()),
                tracking_code=clash,
                category="street_lighting",
                summary="held by another request",
                kelurahan="Pekayon Jaya",
                version=1,
                recorded_at=datetime.now(UTC),
            )
        )
        poster = threading.Thread(target=lambda: answers.append(intake.post(path, _batch(1))))
        poster.start()
        wait_for(lambda: _waiting_on_a_lock(intake), what="the POST waiting on the held code")
        holding.commit()
        poster.join(30)
    assert answers and answers[0].status_code == 201, answers and answers[0].json
    assert answers[0].json["items"][0]["tracking_code"] != clash
    assert intake.count("aspirations") == 2
    assert intake.count() == events_before + 1  # the first attempt left nothing behind


def _waiting_on_a_lock(intake) -> bool:
    with intake.engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar()
        )


def test_duplicate_ids_inside_one_batch_are_rejected(intake):
    meeting_id = intake.meeting()
    batch = _batch(2)
    batch["aspirations"][1]["id"] = batch["aspirations"][0]["id"]
    response = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", batch)
    assert response.status_code == 422
    assert "id" in response.json["fields"]["aspirations"]["1"]


@pytest.mark.parametrize(
    "body",
    [[], {"aspirations": []}, {"aspirations": "x"}, {"aspirations": [{"category": 3}]}, "x"],
)
def test_422_never_500_when_the_batch_shape_is_wrong(intake, body):
    meeting_id = intake.meeting()
    response = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", body)
    assert response.status_code == 422
    assert response.is_json
    assert intake.count() == 1


def _statements_for_a_batch(intake, size: int) -> int:
    meeting_id = intake.meeting()
    body = {
        "aspirations": [
            aspiration_body(n, raised_by={"name": f"Warga {n}", "kind": "person"})
            for n in range(size)
        ]
    }
    seen = []
    listener = lambda *args, **kwargs: seen.append(1)  # noqa: E731
    event.listen(intake.engine, "before_cursor_execute", listener)
    try:
        response = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", body)
    finally:
        event.remove(intake.engine, "before_cursor_execute", listener)
    assert response.status_code == 201, response.json
    return len(seen)


def test_a_batch_costs_the_same_statements_for_50_items_as_for_2(intake):
    """One load, one append per kind of event, one read-model write: not per item."""
    assert _statements_for_a_batch(intake, 50) == _statements_for_a_batch(intake, 2)


def test_a_batch_reads_back_the_same_as_a_replay_of_its_events(intake):
    meeting_id = intake.meeting()
    items = [aspiration_body(n, raised_by={"name": f"W{n}", "kind": "person"}) for n in range(5)]
    response = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", {"aspirations": items})
    assert response.status_code == 201, response.json
    live = _read_models(intake)
    with intake.engine.begin() as conn:
        projections.rebuild(conn, intake.app.extensions["intake"].store)
    assert _read_models(intake) == live


def _read_models(intake) -> dict:
    with intake.engine.connect() as conn:
        return {
            name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)).all())
            for name, table in (("aspirations", aspirations), ("meetings", meetings))
        }
