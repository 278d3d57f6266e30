"""The vertical slice: HTTP in at intake, through Kafka, a case out at follow-up."""

import pytest
from sqlalchemy import func, select

from followup_service.app import create_app as create_followup
from intake_service.app import create_app as create_intake
from intake_service.tables import metadata as intake_metadata
from tests.support import pipeline_running, wait_for

pytestmark = pytest.mark.integration

ASPIRATION = {
    "category": "street_lighting",
    "summary": "PJU mati di Jalan Raya Cikande",
    "description": "Lampu jalan mati sejak dua minggu, rawan begal.",
    "kelurahan": "Cikande",
    "public_summary": "Lampu jalan mati di Jalan Raya Cikande.",
}


@pytest.fixture
def stack(make_settings):
    intake_settings = make_settings("intake")
    followup_settings = make_settings("followup", topic_prefix=intake_settings.topic_prefix)
    intake_app, followup_app = create_intake(intake_settings), create_followup(followup_settings)
    intake = intake_app.extensions["intake"]
    token = intake_app.extensions["tokens"].issue("budi", "officer", unit="Polsek Cikande")
    intake_client = intake_app.test_client()
    intake_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with pipeline_running(intake_app, followup_app):
        yield intake_client, followup_app.test_client(), intake


def test_case_is_readable_at_followup_when_an_aspiration_is_posted_at_intake(stack):
    intake_client, followup_client, _ = stack
    posted = intake_client.post("/api/v1/aspirations", json=ASPIRATION)
    assert posted.status_code == 201, posted.json
    code = posted.json["tracking_code"]

    tracked = wait_for(
        lambda: (r := followup_client.get(f"/api/v1/track/{code}")).status_code == 200 and r,
        what="case at followup",
    )
    assert tracked.json["category"] == "street_lighting"
    assert tracked.json["kelurahan"] == "Cikande"
    case = followup_client.get(f"/api/v1/cases/{tracked.json['id']}")
    assert case.status_code == 200
    assert case.json["aspiration_id"] == posted.json["id"]


def test_same_client_id_posted_twice_opens_one_case(stack):
    intake_client, followup_client, intake = stack
    body = {**ASPIRATION, "id": "7b0c8f2e-4a57-4b8e-9a55-3f0d2c1e9b10"}
    first = intake_client.post("/api/v1/aspirations", json=body)
    second = intake_client.post("/api/v1/aspirations", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert (first.json["status"], second.json["status"]) == ("created", "existing")
    assert {**first.json, "status": "-"} == {**second.json, "status": "-"}
    with intake.engine.connect() as conn:
        events = intake_metadata.tables["events"]
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 1
