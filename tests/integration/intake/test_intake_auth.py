"""Who may do what: 401 for missing or bad tokens, 403 for the wrong role or unit."""

from datetime import timedelta

import pytest

from shared.auth import Tokens
from tests.integration.intake.conftest import OTHER_UNIT, UNIT, aspiration_body, meeting_body

pytestmark = pytest.mark.integration


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _bad_token(intake, case: str) -> dict:
    tokens = intake.tokens
    if case == "missing":
        return {}
    if case == "not a bearer":
        return {"Authorization": "Basic dXNlcjpwdw=="}
    if case == "bad signature":
        forged = Tokens("another-secret-of-at-least-32-bytes!!", intake.settings.jwt_issuer)
        return _bearer(forged.issue("mallory", "supervisor"))
    if case == "expired":
        return _bearer(tokens.issue("budi", "officer", unit=UNIT, ttl=timedelta(seconds=-5)))
    if case == "revoked":
        token = tokens.issue("budi", "officer", unit=UNIT)
        tokens.revoke(token)
        return _bearer(token)
    if case == "garbage":
        return _bearer("not.a.jwt")
    raise AssertionError(case)


CASES = ["missing", "not a bearer", "bad signature", "expired", "revoked", "garbage"]


@pytest.mark.parametrize("case", CASES)
def test_401_json_when_the_token_is_missing_or_invalid(intake, case):
    before = intake.count()
    headers = _bad_token(intake, case)
    for method, path, body in [
        ("post", "/api/v1/meetings", meeting_body()),
        ("get", "/api/v1/meetings", None),
        ("get", "/api/v1/aspirations", None),
    ]:
        response = getattr(intake.client, method)(path, json=body, headers=headers)
        assert response.status_code == 401, (case, path)
        assert response.json["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert intake.count() == before


def test_403_when_an_officer_records_a_meeting_for_another_unit(intake):
    response = intake.post("/api/v1/meetings", meeting_body(unit=OTHER_UNIT))
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"
    assert intake.count() == 0


def test_403_when_an_officer_logs_aspirations_at_another_units_meeting(intake):
    meeting_id = intake.meeting()
    batch = {"aspirations": [aspiration_body()]}
    response = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", batch, as_unit=OTHER_UNIT)
    assert response.status_code == 403
    assert intake.count() == 1


def test_403_when_an_officer_corrects_another_units_aspiration(intake):
    meeting_id = intake.meeting()
    batch = {"aspirations": [aspiration_body()]}
    [item] = intake.post(f"/api/v1/meetings/{meeting_id}/aspirations", batch).json["items"]
    path = f"/api/v1/aspirations/{item['id']}"
    amend = {"changes": {"urgency": "high"}, "reason": "lebih mendesak"}
    assert intake.post(f"{path}/amendments", amend, as_unit=OTHER_UNIT).status_code == 403
    withdraw = {"reason": "recorded_by_mistake"}
    assert intake.post(f"{path}/withdrawal", withdraw, as_unit=OTHER_UNIT).status_code == 403
    assert intake.post(f"{path}/backing", {"count": 3}, as_unit=OTHER_UNIT).status_code == 403
    assert intake.count() == 2


@pytest.mark.parametrize(
    "method, path",
    [("post", "/api/v1/meetings"), ("get", "/api/v1/meetings"), ("get", "/api/v1/aspirations")],
)
def test_403_when_a_liaison_uses_the_intake_api(intake, method, path):
    headers = intake.headers("liaison")
    response = getattr(intake.client, method)(path, json=meeting_body(), headers=headers)
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"
    assert intake.count() == 0


@pytest.mark.parametrize(
    "role, unit", [("supervisor", "Polres Metro Jakarta Pusat"), ("admin", None)]
)
def test_another_unit_may_be_written_when_it_is_in_the_callers_area(intake, role, unit):
    """A supervisor of Polres Metro Jakarta Pusat for Polsek Menteng; an admin only with
    the national area (issue 27: no longer every supervisor for every unit)."""
    menteng = {"kabupaten": "Jakarta Pusat", "kecamatan": "Menteng", "kelurahan": "Menteng"}
    body = meeting_body(unit=OTHER_UNIT, place=menteng)
    meeting = intake.post("/api/v1/meetings", body, as_role=role, as_unit=unit)
    assert meeting.status_code == 201
    batch = {"aspirations": [aspiration_body()]}
    path = f"/api/v1/meetings/{meeting.json['id']}/aspirations"
    response = intake.post(path, batch, as_role=role, as_unit=unit)
    assert response.status_code == 201
    [item] = response.json["items"]
    amend = {"changes": {"urgency": "high"}, "reason": "dicek ulang"}
    amend_path = f"/api/v1/aspirations/{item['id']}/amendments"
    assert intake.post(amend_path, amend, as_role=role, as_unit=unit).status_code == 201
    # a supervisor of another area may not (Polsek Bekasi Selatan's)
    assert intake.post(amend_path, amend, as_role="supervisor").status_code == 403


def test_officer_meeting_defaults_to_the_officers_unit_when_none_is_given(intake):
    body = meeting_body()
    del body["unit"]
    assert intake.post("/api/v1/meetings", body).status_code == 201
    meeting = intake.get(f"/api/v1/meetings/{body['id']}").json
    assert (meeting["unit"], meeting["unit_name"]) == ("polsek-bekasi-selatan", UNIT)


def test_422_when_a_supervisor_records_a_meeting_without_a_unit(intake):
    body = meeting_body()
    del body["unit"]
    response = intake.post("/api/v1/meetings", body, as_role="supervisor", as_unit=None)
    assert response.status_code == 422
    assert "unit" in response.json["fields"]


def test_openapi_and_health_need_no_token(intake):
    assert intake.client.get("/openapi.json").status_code == 200
    assert intake.client.get("/healthz").status_code == 200


def test_the_read_model_migration_turns_stored_unit_names_into_the_ids_events_read_as(intake):
    """Rows projected before units were ids get the id unit_id gives (issue 15)."""
    import importlib.util
    import pathlib

    from sqlalchemy import text

    from shared.units import unit_id

    path = next(
        pathlib.Path(__file__).parents[3].glob("intake_service/migrations/versions/*units_are_ids*")
    )
    spec = importlib.util.spec_from_file_location("units_are_ids", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    names = ["Polsek Krangkeng", " Polsek  Bekasi Selatan ", "POLSEK-Tambora", "polres-metro-x"]
    slug_of_name = migration.SLUG.replace("lower(unit)", "lower(:name)")
    with intake.engine.connect() as conn:
        for name in names:
            got = conn.execute(text(f"SELECT {slug_of_name}"), {"name": name}).scalar_one()
            assert got == unit_id(name), name
