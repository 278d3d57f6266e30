"""The seed meetings load through the API, and the read models rebuild from the events."""

import json

import pytest
from sqlalchemy import select

from intake_service import projections
from intake_service.demo import DEMO_FILE
from intake_service.tables import aspirations, meetings

pytestmark = pytest.mark.integration


def _load_demo(intake) -> int:
    with open(DEMO_FILE, encoding="utf-8") as fh:
        demo = json.load(fh)
    count = 0
    for meeting in demo:
        body = {k: v for k, v in meeting.items() if k != "aspirations"}
        response = intake.post("/api/v1/meetings", body, as_role="supervisor")
        assert response.status_code == 201, response.json
        batch = {"aspirations": meeting["aspirations"]}
        path = f"/api/v1/meetings/{meeting['id']}/aspirations"
        response = intake.post(path, batch, as_role="supervisor")
        assert response.status_code == 201, response.json
        count += len(response.json["items"])
    return count


def _snapshot(conn):
    return [
        [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key))]
        for t in (meetings, aspirations)
    ]


def test_every_seed_meeting_is_accepted_when_the_demo_is_loaded(intake):
    assert _load_demo(intake) == 9
    listed = intake.get("/api/v1/meetings", as_role="supervisor").json
    assert listed["total"] == 5
    tawuran = intake.get(
        "/api/v1/aspirations/5d1f7c3e-0000-4000-8000-000000000011", as_role="supervisor"
    ).json
    assert tawuran["confidential"] is True and tawuran["raised_by"]["contact"]


def test_read_models_are_identical_when_rebuilt_from_the_events(intake):
    _load_demo(intake)
    aspiration = "5d1f7c3e-0000-4000-8000-000000000012"
    amend = {"changes": {"urgency": "high"}, "reason": "makin ramai"}
    intake.post(f"/api/v1/aspirations/{aspiration}/amendments", amend, as_role="supervisor")
    intake.post(f"/api/v1/aspirations/{aspiration}/backing", {"count": 4}, as_role="supervisor")
    store = intake.app.extensions["intake"].store
    with intake.engine.begin() as conn:
        before = _snapshot(conn)
        replayed = projections.rebuild(conn, store)
        after = _snapshot(conn)
    assert replayed == intake.count()
    assert after == before
