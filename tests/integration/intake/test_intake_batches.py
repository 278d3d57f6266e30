"""A meeting's aspirations as one batch: ordered on Kafka, idempotent, all or nothing."""

import uuid

import pytest
from sqlalchemy import event, select

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
    assert first.schema_version == 5
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
