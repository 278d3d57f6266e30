"""Open311 POST Service Request on the real PostgreSQL, Redis and Kafka: an organisation's
app files an aspiration with a key an admin issued; it is recorded by intake's rules,
routed like an officer's aspiration, readable by its tracking code, and its contact
details reach no public answer and no Kafka topic. Bad requests store nothing."""

from __future__ import annotations

import json
import uuid
from xml.etree import ElementTree

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import func, select

from followup_service.app import create_app as create_followup
from followup_service.handlers import case_stream_id
from intake_service.app import create_app as create_intake
from intake_service.tables import aspirations, metadata
from shared.events.topics import INTAKE_EVENTS
from shared.open311 import service_request_id
from tests.support import csrf_of, make_account, pipeline_running, sign_in, wait_for

pytestmark = pytest.mark.integration
PLACE = "Jl. Raya Cikande KM 3, Kel. Cikande, Kec. Cikande, Kab. Serang"
CONTACT = {
    "first_name": "Sumiyati",
    "last_name": "Warga",
    "email": "sumiyati.warga@example.org",
    "phone": "0813-3110-3110",
}
SECRETS = ("Sumiyati", "example.org", "3110-3110")


@pytest.fixture
def apps(make_settings):
    """Both services on one Redis key prefix, as run.sh runs them."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    followup = create_followup(make_settings("followup", redis_key_prefix=prefix))
    intake = create_intake(make_settings("intake", redis_key_prefix=prefix))
    return intake, followup


def issue_key(followup, purpose: str = "open311", agency: str = "") -> str:
    """An admin issues a key on the admin page; returns the token shown once."""
    accounts = followup.extensions["accounts"]
    with accounts.engine.connect() as conn:
        if accounts.load(conn, "ayu") is None:
            make_account(followup, "ayu", "admin")
    admin = followup.test_client()
    assert sign_in(admin, "ayu").status_code == 302
    made = admin.post(
        "/admin/integrasi",
        data={
            "name": "Aplikasi Desa Cikande",
            "purpose": purpose,
            "agency": agency,
            "csrf_token": csrf_of(admin, "/admin/integrasi"),
        },
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    listed = admin.get("/admin/integrasi").get_data(as_text=True)
    assert "Aplikasi Desa Cikande" in listed
    return made.get_data(as_text=True).split('id="new-token-value">', 1)[1].split("<", 1)[0]


def request_form(api_key: str, /, **changes) -> dict:
    form = {
        "api_key": api_key,
        "service_code": "street_lighting",
        "address_string": PLACE,
        "lat": "-6.1857",
        "long": "106.3447",
        "description": "Tiga lampu PJU mati di depan pasar.\nGelap sejak Senin, rawan begal.",
        "attribute[dead_lamps]": "3",
        "attribute[pole_number]": "PJU-CKD-0147",
        **CONTACT,
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def stored_count(intake) -> int:
    events = metadata.tables["events"]
    with intake.extensions["intake"].engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(events)).scalar()
            + conn.execute(select(func.count()).select_from(aspirations)).scalar()
        )


def test_a_filed_request_becomes_a_routed_case_with_a_tracking_code_and_private_contact(apps):
    intake, followup = apps
    api_key = issue_key(followup)
    filed = intake.test_client().post("/open311/v2/requests.xml", data=request_form(api_key))
    assert filed.status_code == 201, filed.get_data(as_text=True)
    assert filed.content_type == "text/xml; charset=utf-8"
    assert filed.get_data(as_text=True).startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ElementTree.fromstring(filed.get_data())
    assert root.tag == "service_requests" and len(root) == 1
    answer = {child.tag: child.text for child in root.find("request")}
    request_id, code = answer["service_request_id"], answer["tracking_code"]
    assert code in answer["service_notice"] and answer["account_id"] is None

    # an officer's aspiration at the same place, for comparison
    officer_filed = intake.test_client().post(
        "/api/v1/aspirations",
        json={
            "category": "street_lighting",
            "summary": "PJU mati dekat pasar",
            "location": {
                "kelurahan": "Cikande",
                "kecamatan": "Cikande",
                "kabupaten": "Kab. Serang",
            },
            "unit": "Polsek Cikande",
        },
        headers={"Authorization": "Bearer " + _officer_token(followup)},
    )
    assert officer_filed.status_code == 201, officer_filed.json
    officer_code = officer_filed.json["tracking_code"]

    with pipeline_running(intake, followup):
        public = followup.test_client()
        wait_for(lambda: public.get(f"/api/v1/track/{code}").status_code == 200, what="case")
        wait_for(lambda: public.get(f"/api/v1/track/{officer_code}").status_code == 200)
    track = public.get(f"/api/v1/track/{code}").json
    assert track["agency"] == public.get(f"/api/v1/track/{officer_code}").json["agency"]
    assert "Serang" in track["agency"]
    assert track["public_summary"] == "Tiga lampu PJU mati di depan pasar."
    one = public.get(f"/open311/v2/requests/{request_id}.json")
    assert one.status_code == 200 and one.json[0]["service_request_id"] == request_id
    assert one.json[0]["agency_responsible"] == track["agency"]
    assert request_id == service_request_id(answer_id := request_id.removeprefix("case-"))
    assert case_stream_id(answer_id) == request_id  # both services name the case alike

    public_answers = [
        json.dumps(track),
        json.dumps(one.json),
        public.get(f"/lacak/{code}").get_data(as_text=True),
        public.get("/open311/v2/requests.xml").get_data(as_text=True),
        public.get(
            f"/open311/v2/servicerequestupdates.json?service_request_id={request_id}"
        ).get_data(as_text=True),
    ]
    for text in public_answers:
        for secret in SECRETS:
            assert secret not in text

    # the contact is the reporter's identity: private, shown to a supervisor in intake
    stored = intake.test_client().get(
        f"/api/v1/aspirations/{answer_id}", headers={"Authorization": "Bearer " + _sup(followup)}
    )
    assert stored.status_code == 200
    assert (stored.json["channel"], stored.json["channel_client"]) == (
        "open311",
        "Aplikasi Desa Cikande",
    )
    assert stored.json["attributes"] == {"dead_lamps": 3, "pole_number": "PJU-CKD-0147"}
    assert stored.json["unit"] is None
    assert stored.json["raised_by"]["name"] == "Sumiyati Warga"
    assert "sumiyati.warga@example.org" in stored.json["raised_by"]["contact"]

    # and it reached no Kafka topic
    settings = intake.extensions["intake"].settings
    records = _all_records(settings.kafka_bootstrap_servers, settings.topic(INTAKE_EVENTS))
    assert any(answer_id in value for value in records)
    assert not [value for value in records for secret in SECRETS if secret in value]


def test_json_answers_and_a_resend_with_the_same_idempotency_key_stores_one(apps):
    intake, followup = apps
    api_key = issue_key(followup)
    client, key = intake.test_client(), {"Idempotency-Key": "desa-cikande-0001"}
    first = client.post("/open311/v2/requests.json", data=request_form(api_key), headers=key)
    before = stored_count(intake)
    again = client.post("/open311/v2/requests.json", data=request_form(api_key), headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json and first.json[0]["service_request_id"].startswith("case-")
    assert stored_count(intake) == before
    other = client.post(
        "/open311/v2/requests.json", data=request_form(api_key), headers={"Idempotency-Key": "2"}
    )
    assert other.status_code == 201 and other.json != first.json


def test_the_place_may_be_named_in_fields_and_a_json_body_is_accepted(apps):
    intake, followup = apps
    api_key = issue_key(followup)
    body = request_form(api_key, address_string=None, lat=None, long=None)
    body.update(kelurahan="Cikande", kecamatan="Cikande", kabupaten="Kab. Serang")
    body["attribute[dead_lamps]"] = 2
    filed = intake.test_client().post("/open311/v2/requests.json", json=body)
    assert filed.status_code == 201, filed.json


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "not-a-key"}, 403, "api_key"),
        ({"service_code": "no_such_service"}, 400, "service_code"),
        ({"service_code": "tawuran"}, 400, "service_code"),  # sensitive: not offered
        ({"address_string": None, "lat": None, "long": None}, 400, "address_string"),
        ({"address_string": "Jl. Raya Cikande KM 3"}, 400, "address_string"),  # no kelurahan
        ({"long": None}, 400, "lat"),
        ({"lat": "91"}, 400, "lat"),
        ({"description": ""}, 400, "description"),
        ({"email": "not-an-address"}, 400, "email"),
        ({"attribute[dead_lamps]": None}, 400, "attribute[dead_lamps]"),  # required
        ({"attribute[dead_lamps]": "2.5"}, 400, "attribute[dead_lamps]"),  # whole number
        ({"attribute[dead_lamps]": "900"}, 400, "attribute[dead_lamps]"),  # 1 to 500
        ({"attribute[colour]": "red"}, 400, "attribute[colour]"),  # not an attribute
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_requests_get_the_specs_error_list_and_store_nothing(apps, changes, status, field, fmt):
    intake, followup = apps
    api_key = issue_key(followup)
    before = stored_count(intake)
    answer = intake.test_client().post(
        f"/open311/v2/requests.{fmt}", data=request_form(api_key, **changes)
    )
    assert answer.status_code == status
    if fmt == "json":
        errors = answer.json
    else:
        root = ElementTree.fromstring(answer.get_data())
        assert root.tag == "errors"
        errors = [{c.tag: c.text for c in error} for error in root.findall("error")]
    assert errors and all(int(e["code"]) == status for e in errors)
    assert any(field in e["description"] for e in errors), errors
    assert stored_count(intake) == before


def test_a_liaison_key_or_a_revoked_key_may_not_file(apps):
    intake, followup = apps
    liaison_key = issue_key(followup, purpose="liaison", agency="dishub-3604")
    refused = intake.test_client().post("/open311/v2/requests.json", data=request_form(liaison_key))
    assert refused.status_code == 403 and "may not file" in refused.json[0]["description"]

    key = issue_key(followup)
    token_id = followup.extensions["tokens"].verify(key).token_id
    admin = followup.test_client()
    sign_in(admin, "ayu")
    csrf = csrf_of(admin, "/admin/integrasi")
    assert (
        admin.post(f"/admin/integrasi/{token_id}/cabut", data={"csrf_token": csrf}).status_code
        == 303
    )
    revoked = intake.test_client().post("/open311/v2/requests.json", data=request_form(key))
    assert revoked.status_code == 403
    # an Open311 key does nothing else
    headers = {"Authorization": f"Bearer {issue_key(followup)}"}
    assert intake.test_client().get("/api/v1/aspirations", headers=headers).status_code == 403
    assert followup.test_client().get("/api/v1/cases", headers=headers).status_code == 403


def test_follow_up_without_an_intake_url_says_filing_is_unavailable(apps):
    _, followup = apps
    answer = followup.test_client().post("/open311/v2/requests.xml", data={"api_key": "x"})
    assert answer.status_code == 503
    assert ElementTree.fromstring(answer.get_data()).findtext("error/code") == "503"


def _officer_token(followup) -> str:
    tokens = followup.extensions["tokens"]
    return tokens.issue("petugas-cikande", "officer", unit="Polsek Cikande")


def _sup(followup) -> str:
    return followup.extensions["tokens"].issue("pengawas", "supervisor", area="national")


def _all_records(bootstrap: str, topic: str) -> list[str]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        values: list[str] = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend(r.value.decode("utf-8", "replace") for r in records)
        return values
    finally:
        consumer.close()
