"""Page security against the real Redis and PostgreSQL: the staff session cookie, CSRF on
forms, guessing limits on tracking codes, and HTML errors that keep the API's JSON."""

from __future__ import annotations

import pytest

from followup_service.app import create_app as create_followup
from intake_service.app import create_app as create_intake
from shared.auth import SESSION_TTL, Tokens
from shared.pages.session import COOKIE as SESSION_COOKIE
from shared.tracking_code import new_tracking_code
from tests.support import STAFF_PASSWORD, make_account, session_token_of, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def followup_app(make_settings):
    return create_followup(make_settings("followup"))


@pytest.fixture
def intake_app(make_settings):
    return create_intake(make_settings("intake"))


def _tokens(app) -> Tokens:
    settings = app.config["SETTINGS"]
    return Tokens(settings.jwt_secret, settings.jwt_issuer)


def _csrf(client, path="/masuk") -> str:
    page = client.get(path).get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    return page.split(marker, 1)[1].split('"', 1)[0]


def _page_csrf(client, path="/catat") -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split('"csrf": "', 1)[1].split('"', 1)[0]


def _set_cookie(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie set")


def test_sign_in_sets_an_httponly_secure_lax_short_session_cookie(followup_app):
    make_account(followup_app, "rina", "liaison", agency="dishub-3604")
    client = followup_app.test_client()
    response = sign_in(client, "rina", next="/kerja")
    assert response.status_code == 302 and response.headers["Location"] == "/kerja"
    cookie = _set_cookie(response, SESSION_COOKIE)
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Cache-Control"] == "no-store"
    principal = followup_app.extensions["tokens"].verify(session_token_of(response))
    assert principal.kind == "session" and principal.agency == "dishub-3604"
    assert principal.expires_at - principal.auth_time <= SESSION_TTL
    assert client.get("/kerja").status_code == 200


def test_sign_in_refuses_a_wrong_password_and_an_open_redirect(followup_app):
    make_account(followup_app, "rina", "liaison", agency="dishub-3604")
    client = followup_app.test_client()
    refused = sign_in(client, "rina", "not-her-password-at-all")
    assert refused.status_code == 401
    assert "Nama pengguna atau kata sandi salah" in refused.get_data(as_text=True)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        response = sign_in(followup_app.test_client(), "rina", next=target)
        assert response.headers["Location"] == "/", target


def test_form_posts_are_refused_when_the_csrf_token_is_missing_or_wrong(followup_app):
    make_account(followup_app, "rina", "liaison", agency="dishub-3604")
    client = followup_app.test_client()
    form = {"username": "rina", "password": STAFF_PASSWORD}
    assert client.post("/masuk", data=form).status_code == 400
    client.get("/masuk")  # has a csrf cookie now, but sends a wrong token
    wrong = client.post("/masuk", data={**form, "csrf_token": "0" * 64})
    assert wrong.status_code == 400
    assert "Formulir kedaluwarsa" in wrong.get_data(as_text=True)


def test_offline_queue_forwarder_needs_the_csrf_header_and_a_session(intake_app):
    client = intake_app.test_client()
    token = _tokens(intake_app).issue("budi", "officer", unit="Polsek Cikande")
    client.set_cookie(SESSION_COOKIE, token)
    csrf = _page_csrf(client)
    no_header = client.post("/catat/api/meetings", json={})
    assert no_header.status_code == 400
    forwarded = client.post("/catat/api/meetings", json={}, headers={"X-CSRF-Token": csrf})
    assert forwarded.status_code == 422  # reached the API, which validated the body
    assert "fields" in forwarded.json
    anonymous = intake_app.test_client()
    anonymous.set_cookie(SESSION_COOKIE, token)
    anonymous_csrf = _page_csrf(anonymous)  # the CSRF pair stays; the session goes
    anonymous.delete_cookie(SESSION_COOKIE)
    redirected = anonymous.post(
        "/catat/api/meetings", json={}, headers={"X-CSRF-Token": anonymous_csrf}
    )
    assert redirected.status_code == 302 and "/masuk" in redirected.headers["Location"]


def test_a_page_request_and_the_api_call_it_makes_share_one_request_id(intake_app):
    """The officer page's forwarder calls the API in-process: the events it records carry
    the page request's id as their correlation id, so one id follows the aspiration."""
    from sqlalchemy import select

    from intake_service.tables import metadata

    client = intake_app.test_client()
    client.set_cookie(
        SESSION_COOKIE, _tokens(intake_app).issue("budi", "officer", unit="Polsek Cikande")
    )
    headers = {"X-CSRF-Token": _page_csrf(client), "X-Request-ID": "page-request-4711"}
    meeting = {
        "kind": "ngopi_kamtibmas",
        "held_at": "2026-12-01T10:00:00+07:00",
        "place": {"kelurahan": "Cikande", "kecamatan": "Cikande", "kabupaten": "Kab. Serang"},
        "host_officer": "Aiptu Budi",
    }
    answer = client.post("/catat/api/meetings", json=meeting, headers=headers)
    assert answer.status_code == 201, answer.json
    assert answer.headers["X-Request-ID"] == "page-request-4711"
    events = metadata.tables["events"]
    engine = intake_app.extensions["intake"].engine
    with engine.connect() as conn:
        ids = conn.execute(select(events.c.correlation_id)).scalars().all()
    assert ids == ["page-request-4711"]


def test_staff_pages_redirect_to_login_and_refuse_other_roles(followup_app):
    client = followup_app.test_client()
    assert client.get("/dasbor").status_code == 302
    liaison = _tokens(followup_app).issue("rina", "liaison", agency="dishub-3604")
    client.set_cookie(SESSION_COOKIE, liaison)
    forbidden = client.get("/dasbor")
    assert forbidden.status_code == 403
    assert forbidden.mimetype == "text/html"
    assert client.get("/kerja").status_code == 200


def test_guessing_tracking_codes_is_rate_limited_when_many_codes_are_unknown(followup_app):
    client = followup_app.test_client()
    answers = [client.get(f"/lacak/{new_tracking_code()}").status_code for _ in range(11)]
    assert answers[:10] == [404] * 10
    assert answers[10] == 429
    limited = client.get(f"/lacak/{new_tracking_code()}")
    assert limited.status_code == 429 and "Terlalu banyak percobaan" in limited.get_data(
        as_text=True
    )
    other_client = followup_app.test_client()
    other = other_client.get(
        f"/lacak/{new_tracking_code()}", environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert other.status_code == 404  # limits are per address


def test_unknown_code_gets_a_friendly_page_and_api_errors_stay_json(followup_app):
    client = followup_app.test_client()
    page = client.get("/lacak/KA-0000-00")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "tidak sesuai format" in page.get_data(as_text=True)
    english = client.get("/lacak/KA-0000-00?lang=en")
    assert "not in the right format" in english.get_data(as_text=True)
    assert "lang=en" in _set_cookie(english, "lang")
    assert client.get("/halaman-tidak-ada").mimetype == "text/html"
    api = client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.is_json
    open311 = client.get("/open311/v2/nothing.json")
    assert open311.status_code == 404 and open311.json[0]["code"] == 404
