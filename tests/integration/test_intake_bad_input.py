"""Bad input at the intake endpoint: a 4xx JSON error naming the field, nothing stored."""

import pytest
from sqlalchemy import func, select

from intake_service.app import create_app
from intake_service.tables import metadata

pytestmark = pytest.mark.integration

VALID = {"category": "road_damage", "summary": "Jalan berlubang", "kelurahan": "Cikande"}


@pytest.fixture
def app(make_settings):
    return create_app(make_settings("intake", max_body_bytes=4096))


@pytest.fixture
def client(app):
    client = app.test_client()
    token = app.extensions["tokens"].issue("budi", "officer", unit="Polsek Cikande")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _stored(app) -> tuple[int, int]:
    engine = app.extensions["intake"].engine
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar_one()
            for name in ("events", "outbox")
        )


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({**VALID, "category": "ufo_sighting"}, 422, "category"),
        ({k: v for k, v in VALID.items() if k != "summary"}, 422, "summary"),
        ({k: v for k, v in VALID.items() if k != "kelurahan"}, 422, "location"),
        ({**VALID, "kelurahan": ""}, 422, "location"),
        ({**VALID, "urgency": "yesterday"}, 422, "urgency"),
        ({**VALID, "raised_by": {"contact": "0812"}}, 422, "raised_by"),
        ({**VALID, "attachments": [{"url": "ftp://x", "sha256": "00"}]}, 422, "attachments"),
        ({**VALID, "id": "not-a-uuid"}, 422, "id"),
        ({**VALID, "summary": "x" * 301}, 422, "summary"),
        ({**VALID, "summary": "abc\ud800"}, 422, "summary"),
        ({**VALID, "summary": "PJU\x00mati"}, 422, "summary"),
        ({**VALID, "summary": " \t\n "}, 422, "summary"),
        ({**VALID, "description": "bel\x07"}, 422, "description"),
        ({**VALID, "kelurahan": "Cikande\x00"}, 422, "location"),
        ({**VALID, "raised_by": {"name": "   "}}, 422, "raised_by"),
    ],
)
def test_field_is_named_and_nothing_stored_when_input_is_invalid(app, client, body, status, field):
    response = client.post("/api/v1/aspirations", json=body)
    assert response.status_code == status
    assert field in response.json["fields"]
    assert _stored(app) == (0, 0)


def test_malformed_json_gets_a_400_json_error(app, client):
    response = client.post("/api/v1/aspirations", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"] == "malformed JSON body"
    assert _stored(app) == (0, 0)


def test_oversize_body_gets_a_413_json_error(app, client):
    body = {**VALID, "description": "x" * 10_000}
    response = client.post("/api/v1/aspirations", json=body)
    assert response.status_code == 413
    assert response.is_json
    assert _stored(app) == (0, 0)


def test_a_list_where_an_object_belongs_is_a_422_not_a_500(app, client):
    response = client.post("/api/v1/aspirations", json=[VALID])
    assert response.status_code == 422
    assert _stored(app) == (0, 0)


def test_text_is_stored_stripped(app, client):
    body = {**VALID, "summary": "  Jalan berlubang\r\ndi RT 03 \u200b", "description": " x "}
    response = client.post("/api/v1/aspirations", json=body)
    assert response.status_code == 201, response.json
    stored = client.get(f"/api/v1/aspirations/{response.json['id']}").json
    assert stored["summary"] == "Jalan berlubang\ndi RT 03"
    assert stored["description"] == "x"


@pytest.mark.parametrize(
    "raw, detail",
    [
        (b"[" * 1_500 + b"]" * 1_500, "nested"),  # past the recursion limit, under 4 KiB
        (b'{"summary": NaN}', "NaN"),
        (b'{"backing": {"count": 1e400}}', "out of range"),
        (b'{"attendee_count": ' + str(10**400).encode() + b"}", "out of range"),
    ],
)
def test_hostile_json_is_a_400_json_error(app, client, raw, detail):
    response = client.post("/api/v1/aspirations", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert detail in response.json["detail"]
    assert _stored(app) == (0, 0)
