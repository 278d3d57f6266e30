"""Backing, linking, amending and withdrawing: events, never updates in place."""

import pytest

from tests.integration.intake.conftest import aspiration_body
from tests.support import wait_for

pytestmark = pytest.mark.integration


def _record(intake, meeting_id, *bodies):
    response = intake.post(
        f"/api/v1/meetings/{meeting_id}/aspirations", {"aspirations": list(bodies)}
    )
    assert response.status_code == 201, response.json
    return response.json["items"]


def test_amend_and_withdraw_events_reach_kafka_when_an_officer_corrects(relay):
    intake = relay
    meeting_id = intake.meeting()
    first, second = _record(intake, meeting_id, aspiration_body(1), aspiration_body(2))
    amend = intake.post(
        f"/api/v1/aspirations/{first['id']}/amendments",
        {"changes": {"urgency": "high", "summary": "PJU mati di gang 1 dan 2"},
         "reason": "Warga menambahkan lokasi."},
    )  # fmt: skip
    assert amend.status_code == 201, amend.json
    withdraw = intake.post(
        f"/api/v1/aspirations/{second['id']}/withdrawal",
        {"reason": "duplicate_of", "duplicate_of": first["id"], "note": "sama"},
    )
    assert withdraw.status_code == 201, withdraw.json

    events = {e.event_type: (r, e) for r, e in intake.kafka_events(expected=5)}
    record, amended = events["AspirationAmended"]
    assert amended.payload["changes"] == {"urgency": "high", "summary": "PJU mati di gang 1 dan 2"}
    assert amended.payload["previous"] == {"urgency": "normal", "summary": "PJU mati di gang 1"}
    assert amended.payload["reason"] == "Warga menambahkan lokasi."
    assert amended.payload["amended_by"].startswith("officer:")
    assert record.key == f"meeting-{meeting_id}".encode()
    _, withdrawn = events["AspirationWithdrawn"]
    assert withdrawn.payload["reason"] == "duplicate_of"
    assert withdrawn.payload["duplicate_of"] == first["id"]

    detail = intake.get(f"/api/v1/aspirations/{first['id']}").json
    assert (detail["urgency"], detail["amendments"]) == ("high", 1)
    assert intake.get(f"/api/v1/aspirations/{second['id']}").json["status"] == "withdrawn"
    history = intake.get(f"/api/v1/aspirations/{first['id']}/history").json["items"]
    assert [h["event_type"] for h in history] == ["AspirationRecorded", "AspirationAmended"]


def test_409_when_a_withdrawn_aspiration_is_amended_or_withdrawn_again(intake):
    meeting_id = intake.meeting()
    [item] = _record(intake, meeting_id, aspiration_body())
    path = f"/api/v1/aspirations/{item['id']}"
    assert intake.post(f"{path}/withdrawal", {"reason": "recorded_by_mistake"}).status_code == 201
    before = intake.count()
    again = intake.post(f"{path}/withdrawal", {"reason": "recorded_by_mistake"})
    amend = intake.post(f"{path}/amendments", {"changes": {"urgency": "high"}, "reason": "why"})
    assert (again.status_code, amend.status_code) == (409, 409)
    assert intake.count() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"reason": "duplicate_of"}, "duplicate_of"),
        ({"reason": "because"}, "reason"),
        ({"reason": "duplicate_of", "duplicate_of": "9d5ad0e4-33a5-4a7e-9b1e-7d5e2a0f3c11"},
         "duplicate_of"),
    ],
)  # fmt: skip
def test_withdrawal_is_refused_with_the_field_named_when_it_is_incomplete(intake, body, field):
    meeting_id = intake.meeting()
    [item] = _record(intake, meeting_id, aspiration_body())
    before = intake.count()
    response = intake.post(f"/api/v1/aspirations/{item['id']}/withdrawal", body)
    assert response.status_code == 422
    assert field in response.json["fields"]
    assert intake.count() == before


def test_amendment_without_changes_or_reason_is_refused(intake):
    meeting_id = intake.meeting()
    [item] = _record(intake, meeting_id, aspiration_body())
    path = f"/api/v1/aspirations/{item['id']}/amendments"
    assert intake.post(path, {"changes": {}, "reason": "x y z"}).status_code == 422
    assert intake.post(path, {"changes": {"urgency": "high"}}).status_code == 422
    same = intake.post(path, {"changes": {"urgency": "normal"}, "reason": "no-op"})
    assert same.status_code == 409


def test_new_aspiration_becomes_backing_when_linked_to_an_open_candidate(relay):
    intake = relay
    first_meeting = intake.meeting()
    [original] = _record(intake, first_meeting, aspiration_body(1))
    later_meeting = intake.meeting(held_at="2024-10-20T20:00:00+07:00")
    candidates = intake.get(
        "/api/v1/aspirations/candidates", kelurahan="Pekayon Jaya", category="street_lighting"
    ).json["items"]
    assert [c["id"] for c in candidates] == [original["id"]]

    repeat = aspiration_body(9, supports=original["id"], backing={"count": 30, "groups": ["RW 18"]})
    [linked] = _record(intake, later_meeting, repeat)
    assert (linked["status"], linked["linked_to"]) == ("linked", original["id"])
    assert linked["tracking_code"] == original["tracking_code"]
    again = intake.post(f"/api/v1/meetings/{later_meeting}/aspirations", {"aspirations": [repeat]})
    assert again.json["items"][0]["status"] == "existing"
    more = intake.post(f"/api/v1/aspirations/{original['id']}/backing", {"count": 5})
    assert more.status_code == 201

    detail = intake.get(f"/api/v1/aspirations/{original['id']}").json
    assert (detail["backing_count"], detail["backing_groups"]) == (35, ["RW 18"])
    assert intake.count("aspirations") == 1
    events = [e for _, e in intake.kafka_events(expected=5)]
    backed = [e for e in events if e.event_type == "AspirationBacked"]
    assert [b.payload["total_count"] for b in backed] == [30, 35]
    assert backed[0].payload["meeting_id"] == later_meeting
    wait_for(lambda: intake.count("outbox") == 0, what="outbox relayed")


def test_link_is_refused_when_the_candidate_is_in_another_category(intake):
    meeting_id = intake.meeting()
    [original] = _record(intake, meeting_id, aspiration_body(1))
    repeat = aspiration_body(2, category="road_damage", supports=original["id"])
    response = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", {"aspirations": [repeat]})
    assert response.status_code == 422
    assert "supports" in response.json["fields"]["aspirations"]["0"]
