"""Residents backing an aspiration: recorded on the case as events, shown publicly."""

import uuid

import pytest
from sqlalchemy import func, select

from followup_service.tables import metadata
from tests.integration.followup.conftest import aspiration_recorded, intake_event

pytestmark = pytest.mark.integration


def _backed(aspiration_id: str, backing_id: str, count: int, total: int):
    payload = {
        "aspiration_id": aspiration_id,
        "meeting_id": str(uuid.uuid4()),
        "backing_id": backing_id,
        "count": count,
        "groups": ["Grab Car Serang Community"],
        "total_count": total,
        "linked_summary": None,
        "note": "Diangkat lagi di Jumat Curhat",
    }
    return intake_event("AspirationBacked", 1, aspiration_id, payload, seq=2)


def test_public_views_show_total_backing_when_residents_back_the_aspiration_again(followup):
    recorded = aspiration_recorded("road_damage", backing_count=12)
    case_id = followup.record(recorded)
    aspiration_id = recorded.payload["aspiration_id"]
    code = recorded.payload["tracking_code"]
    assert followup.client.get(f"/api/v1/track/{code}").json["backing_count"] == 12

    backing_id = str(uuid.uuid4())
    followup.record(_backed(aspiration_id, backing_id, 8, 20))
    followup.record(_backed(aspiration_id, backing_id, 8, 20))  # delivered again, new event id

    tracked = followup.client.get(f"/api/v1/track/{code}").json
    assert tracked["backing_count"] == 20
    assert tracked["timeline"][-1]["en"] == "Backed by 8 residents (total 20)"
    listed = followup.client.get("/api/v1/public/cases?category=road_damage").json["items"]
    assert [item["backing_count"] for item in listed] == [20]
    events = metadata.tables["events"]
    with followup.fu.engine.connect() as conn:
        backings = conn.execute(
            select(func.count())
            .select_from(events)
            .where((events.c.stream_id == case_id) & (events.c.event_type == "CaseBacked"))
        ).scalar_one()
    assert backings == 2  # at the meeting, then once for the repeated backing


def test_backing_is_recorded_when_the_case_is_already_closed(followup):
    recorded = aspiration_recorded("street_lighting")
    case_id = followup.record(recorded)
    followup.post(case_id, "close", followup.supervisor, outcome="no_further_action", reason="x")

    followup.record(_backed(recorded.payload["aspiration_id"], str(uuid.uuid4()), 3, 3))

    case = followup.client.get(f"/api/v1/cases/{case_id}", headers=followup.supervisor).json
    assert (case["status"], case["backing_count"]) == ("closed", 3)
