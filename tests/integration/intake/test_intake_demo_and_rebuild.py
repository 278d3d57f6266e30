"""The seed meetings load through the API, and the read models rebuild from the events."""

import json
import uuid

import pytest
from sqlalchemy import select

from intake_service import projections
from intake_service.demo import DEMO_FILE
from intake_service.tables import aspirations, meetings
from shared.events.envelope import NewEvent

pytestmark = pytest.mark.integration


def _load_demo(intake) -> int:
    with open(DEMO_FILE, encoding="utf-8") as fh:
        demo = json.load(fh)
    count = 0
    for meeting in demo:
        body = {k: v for k, v in meeting.items() if k != "aspirations"}
        response = intake.post("/api/v1/meetings", body, as_role="supervisor", as_unit=None)
        assert response.status_code == 201, response.json
        batch = {"aspirations": meeting["aspirations"]}
        path = f"/api/v1/meetings/{meeting['id']}/aspirations"
        response = intake.post(path, batch, as_role="supervisor", as_unit=None)
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
    listed = intake.get("/api/v1/meetings", as_role="supervisor", as_unit=None).json
    assert listed["total"] == 5
    tawuran = intake.get(
        "/api/v1/aspirations/5d1f7c3e-0000-4000-8000-000000000011", as_role="supervisor"
    ).json
    assert tawuran["confidential"] is True and tawuran["raised_by"]["contact"]


def test_read_models_are_identical_when_rebuilt_from_the_events(intake):
    _load_demo(intake)
    aspiration = "5d1f7c3e-0000-4000-8000-000000000012"
    amend = {"changes": {"urgency": "high"}, "reason": "makin ramai"}
    intake.post(
        f"/api/v1/aspirations/{aspiration}/amendments", amend, as_role="supervisor", as_unit=None
    )
    intake.post(
        f"/api/v1/aspirations/{aspiration}/backing",
        {"count": 4},
        as_role="supervisor",
        as_unit=None,
    )
    moved = {
        "changes": {"location": {"kabupaten": "Kab. Serang", "kelurahan": "Kampung Entah"}},
        "reason": "pindah lokasi",
    }  # not matched: kept, unverified
    response = intake.post(
        "/api/v1/aspirations/5d1f7c3e-0000-4000-8000-000000000001/amendments",
        moved,
        as_role="supervisor",
        as_unit=None,
    )
    assert response.status_code == 201, response.json
    store = intake.app.extensions["intake"].store
    with intake.engine.begin() as conn:
        before = _snapshot(conn)
        replayed = projections.rebuild(conn, store)
        after = _snapshot(conn)
    assert replayed == intake.count()
    assert after == before


def test_events_recorded_before_codes_get_them_when_the_read_models_are_rebuilt(intake):
    """Old events (MeetingRecorded v2, AspirationRecorded v4, AspirationAmended v1) carry
    names only: replay upcasts them by matching the names; what does not match is kept,
    unverified, and a later amendment that names the place verifies it."""
    store = intake.app.extensions["intake"].store
    meeting_id, matched, unmatched = (str(uuid.uuid4()) for _ in range(3))
    place = {"kabupaten": "Kota Bekasi", "kecamatan": "Bekasi Selatan", "kelurahan": "Pekayon Jaya"}
    typo = {"kabupaten": "Kota Bekasi", "kelurahan": "Pekayon Jayaa"}

    def recorded(aspiration_id: str, location: dict) -> NewEvent:
        payload = {
            "aspiration_id": aspiration_id,
            "meeting_id": meeting_id,
            "tracking_code": f"KA-{aspiration_id[:4].upper()}-OLD",
            "category": "street_lighting",
            "summary": "PJU mati",
            "kelurahan": location["kelurahan"],
            "location": location,
            "unit": "polsek-bekasi-selatan",
        }
        return NewEvent("AspirationRecorded", payload, schema_version=4)

    meeting = {
        "meeting_id": meeting_id,
        "kind": "ngopi_kamtibmas",
        "held_at": "2026-01-10T12:00:00+00:00",
        "unit": "polsek-bekasi-selatan",
        "place": place,
        "host_officer": "Iptu Dedi",
    }
    amended = {
        "aspiration_id": unmatched,
        "meeting_id": meeting_id,
        "changes": {"location": place},
        "previous": {"location": typo},
        "reason": "salah ketik",
        "amended_by": "supervisor:sri",
    }
    with intake.engine.begin() as conn:
        store.append(
            conn,
            f"meeting-{meeting_id}",
            0,
            [NewEvent("MeetingRecorded", meeting, schema_version=2)],
        )
        store.append(conn, f"aspiration-{matched}", 0, [recorded(matched, place)])
        store.append(conn, f"aspiration-{unmatched}", 0, [recorded(unmatched, typo)])
        projections.rebuild(conn, store)
        before = _located(conn, meeting_id, matched, unmatched)
        store.append(
            conn,
            f"aspiration-{unmatched}",
            1,
            [NewEvent("AspirationAmended", amended, schema_version=1)],
        )
        projections.rebuild(conn, store)
        after = _located(conn, meeting_id, matched, unmatched)
    assert before == ["32.75.04.1001", ("32.75.04.1001", True), ("32.75", False)]
    assert after == ["32.75.04.1001", ("32.75.04.1001", True), ("32.75.04.1001", True)]


def _located(conn, meeting_id: str, *aspiration_ids: str) -> list:
    meeting = conn.execute(
        select(meetings.c.region_code).where(meetings.c.meeting_id == meeting_id)
    ).scalar_one()
    rows = {
        row.aspiration_id: (row.region_code, row.location_verified)
        for row in conn.execute(
            select(
                aspirations.c.aspiration_id,
                aspirations.c.region_code,
                aspirations.c.location_verified,
            ).where(aspirations.c.aspiration_id.in_(aspiration_ids))
        )
    }
    return [meeting, *(rows[a] for a in aspiration_ids)]
