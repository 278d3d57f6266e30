"""A confidential reporter's contact: shown to the unit and supervisors only, never on Kafka."""

import json

import pytest

from tests.integration.intake.conftest import OTHER_UNIT, UNIT, aspiration_body
from tests.support import wait_for

pytestmark = pytest.mark.integration

CONTACT = "+62 812-5555-0142"
NAME = "Ibu Sri Wahyuni"
# A supporter's number that no id or timestamp can contain by chance (a bare "0811" can)
SUPPORTER_CONTACT = "0811-7788-9900"
NEW_CONTACT = "+62 813-7777-0199"


@pytest.fixture
def recorded(relay):
    """A meeting with a confidential tip, a linked supporter and a corrected contact."""
    intake = relay
    meeting_id = intake.meeting()
    tip = aspiration_body(
        1,
        category="tawuran",
        confidential=True,
        urgency="high",
        raised_by={"name": NAME, "kind": "person", "contact": CONTACT},
    )
    batch = {"aspirations": [tip]}
    assert intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", batch).status_code == 201
    support = aspiration_body(
        2,
        category="tawuran",
        supports=tip["id"],
        raised_by={"name": "Pak RT", "contact": SUPPORTER_CONTACT},
    )
    linked = intake.post("/api/v1/aspirations", {**support, "meeting_id": meeting_id})
    assert linked.status_code == 201, linked.json
    amended = intake.post(
        f"/api/v1/aspirations/{tip['id']}/amendments",
        {"changes": {"raised_by": {"name": NAME, "contact": NEW_CONTACT}, "urgency": "normal"},
         "reason": "nomor ganti"},
    )  # fmt: skip
    assert amended.status_code == 201, amended.json
    return intake, meeting_id, tip["id"]


def _responses(intake, meeting_id, aspiration_id, role, unit):
    return [
        intake.get(f"/api/v1/aspirations/{aspiration_id}", as_role=role, as_unit=unit),
        intake.get(f"/api/v1/aspirations/{aspiration_id}/history", as_role=role, as_unit=unit),
        intake.get(f"/api/v1/meetings/{meeting_id}", as_role=role, as_unit=unit),
        intake.get("/api/v1/aspirations", as_role=role, as_unit=unit),
        intake.get("/api/v1/meetings", as_role=role, as_unit=unit),
        intake.get(
            "/api/v1/aspirations/candidates",
            as_role=role,
            as_unit=unit,
            kelurahan="Pekayon Jaya",
            category="tawuran",
        ),
    ]


@pytest.mark.parametrize("role, unit", [("admin", None), ("officer", OTHER_UNIT)])
def test_contact_absent_from_every_response_when_the_role_may_not_see_it(recorded, role, unit):
    """An admin with the national area reads the content, never the identity; another
    unit's officer is answered 404 (single reads) or empty lists (issue 27)."""
    intake, meeting_id, aspiration_id = recorded
    for response in _responses(intake, meeting_id, aspiration_id, role, unit):
        assert response.status_code in ((200, 404) if role == "officer" else (200,))
        text = response.get_data(as_text=True)
        for secret in (CONTACT, NEW_CONTACT, NAME, SUPPORTER_CONTACT, "Pak RT"):
            assert secret not in text, (response.request.path, secret)
    detail = intake.get(f"/api/v1/aspirations/{aspiration_id}", as_role=role, as_unit=unit)
    if role == "admin":
        assert detail.status_code == 200
        assert "raised_by" not in detail.json and "supporters" not in detail.json
    else:
        assert detail.status_code == 404
        listed = intake.get("/api/v1/aspirations", as_role=role, as_unit=unit).json
        assert listed["total"] == 0


@pytest.mark.parametrize("role", ["supervisor", "officer"])
def test_contact_shown_when_the_role_may_see_it(recorded, role):
    intake, _, aspiration_id = recorded
    detail = intake.get(f"/api/v1/aspirations/{aspiration_id}", as_role=role).json
    assert detail["raised_by"] == {"name": NAME, "kind": "person", "contact": NEW_CONTACT}
    assert detail["supporters"] == [
        {"name": "Pak RT", "kind": "person", "contact": SUPPORTER_CONTACT}
    ]


def test_contact_absent_from_every_kafka_payload_when_a_confidential_tip_is_recorded(recorded):
    intake, _, aspiration_id = recorded
    wait_for(lambda: intake.count("outbox") == 0, what="outbox relayed")
    records = intake.kafka_events(expected=4)
    types = [e.event_type for _, e in records]
    assert types == [
        "MeetingRecorded",
        "AspirationRecorded",
        "AspirationBacked",
        "AspirationAmended",
    ]
    for record, envelope in records:
        raw = record.value.decode()
        for secret in (
            CONTACT,
            NEW_CONTACT,
            NAME,
            "Pak RT",
            SUPPORTER_CONTACT,
            "raised_by",
            "contact",
        ):
            assert secret not in raw, (envelope.event_type, secret)
    recorded_event = records[1][1]
    assert recorded_event.payload["confidential"] is True
    assert intake.count() == 7  # plus three private ReporterIdentified events, kept at intake
    stored = json.dumps(intake.get(f"/api/v1/aspirations/{aspiration_id}/history").json)
    assert "ReporterIdentified" in stored  # the unit's officer sees the private history


def test_every_answer_showing_the_informant_is_recorded_for_the_supervisor(recorded):
    """Who saw the informant (issue 27): one row per answer that showed a name or contact,
    readable by the supervisor of the unit; answers without the identity leave none."""
    intake, meeting_id, aspiration_id = recorded
    views = f"/api/v1/aspirations/{aspiration_id}/identity-views"
    before = intake.get(views, as_role="supervisor").json["items"]
    intake.get(f"/api/v1/aspirations/{aspiration_id}")  # the unit's officer
    intake.get(f"/api/v1/meetings/{meeting_id}")
    intake.get(f"/api/v1/aspirations/{aspiration_id}/history", as_role="supervisor")
    intake.get(f"/api/v1/aspirations/{aspiration_id}", as_role="admin", as_unit=None)
    intake.get(f"/api/v1/aspirations/{aspiration_id}", as_unit=OTHER_UNIT)  # 404
    after = intake.get(views, as_role="supervisor").json["items"]
    seen = [(v["viewer"], v["via"]) for v in after[len(before) :]]
    assert seen == [
        ("officer:officer-polsek-bekasi-selatan", f"GET /api/v1/aspirations/{aspiration_id}"),
        ("officer:officer-polsek-bekasi-selatan", f"GET /api/v1/meetings/{meeting_id}"),
        (
            "supervisor:supervisor-polsek-bekasi-selatan",
            f"GET /api/v1/aspirations/{aspiration_id}/history",
        ),
    ]
    assert all(v["seen_at"] for v in after)
    # the list is the supervisor's: not the officer's, not another area's supervisor's
    assert intake.get(views).status_code == 403
    assert intake.get(views, as_role="supervisor", as_unit=OTHER_UNIT).status_code == 404


def test_the_aspirations_page_lists_who_saw_the_informant_for_the_areas_supervisor(recorded):
    """Issue 27: the unit's supervisor sees, on the aspiration's page, who was shown the
    reporter and when; another unit's officer gets 404; an admin no identity."""
    from shared.pages.session import COOKIE

    intake, _, aspiration_id = recorded
    intake.get(f"/api/v1/aspirations/{aspiration_id}")  # the unit's officer saw it

    def page(role, unit=UNIT, **claims):
        client = intake.app.test_client()
        token = intake.tokens.issue(f"{role}-page", role, unit=unit, **claims)
        client.set_cookie(COOKIE, token)
        return client.get(f"/aspirasi/{aspiration_id}")

    supervisor = page("supervisor")
    text = supervisor.get_data(as_text=True)
    assert supervisor.status_code == 200 and NEW_CONTACT in text
    assert 'id="identity-views"' in text and "officer:officer-polsek-bekasi-selatan" in text
    assert "Siapa melihat identitas pelapor" in text
    officer = page("officer")
    assert officer.status_code == 200 and 'id="identity-views"' not in officer.get_data(
        as_text=True
    )
    assert page("officer", unit=OTHER_UNIT).status_code == 404
    admin = page("admin", unit=None, area="national")
    assert admin.status_code == 200 and NEW_CONTACT not in admin.get_data(as_text=True)
