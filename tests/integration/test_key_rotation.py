"""Rotating the signing key without signing everyone out at once (README, Operations):
both services sign with the new JWT_SECRET and still accept JWT_PREVIOUS_SECRETS during
the overlap; a session in use is renewed under the new key; once the old key is dropped,
what it signed is refused. Real PostgreSQL and Redis; the apps are rebuilt with the new
settings on the same databases, as a redeploy would."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
import uuid

import jwt
import pytest

from followup_service.accounts.domain import Manager
from followup_service.app import create_app as create_followup
from intake_service.app import create_app as create_intake
from shared.auth import key_id
from shared.config import InsecureConfiguration
from shared.pages.session import COOKIE as SESSION_COOKIE
from tests.support import csrf_of, make_account, session_token_of, sign_in

pytestmark = pytest.mark.integration
OLD = "the-key-in-use-before-the-rotation-0123456789"
NEW = "the-key-that-signs-after-the-rotation-987654321"
AGENCY = "dishub-3604"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def deploy(settings: dict, **keys):
    """Both services (re)built on the same databases and Redis prefix with these keys."""
    return (
        create_intake(dataclasses.replace(settings["intake"], **keys)),
        create_followup(dataclasses.replace(settings["followup"], **keys)),
    )


@pytest.fixture
def settings(make_settings):
    prefix = f"t{uuid.uuid4().hex[:10]}"
    return {
        service: make_settings(service, redis_key_prefix=prefix, jwt_secret=OLD)
        for service in ("intake", "followup")
    }


def test_old_tokens_work_during_the_overlap_sessions_move_to_the_new_key_and_end_with_it(
    settings,
):
    intake, followup = deploy(settings)
    make_account(followup, "rina", "liaison", agency=AGENCY)
    browser = followup.test_client()
    old_session = session_token_of(sign_in(browser, "rina"))
    _, integration = followup.extensions["accounts"].issue_integration_token(
        _admin(followup), "SIPD Kab. Serang", AGENCY
    )
    form_token = csrf_of(browser, "/akun/kata-sandi")  # a form opened before the rotation
    seed = browser.get_cookie("ka_csrf").value
    assert jwt.get_unverified_header(old_session)["kid"] == key_id(OLD)

    # The rotation: sign with NEW, still accept OLD.
    intake, followup = deploy(settings, jwt_secret=NEW, jwt_previous_secrets=OLD)
    for token in (old_session, integration):
        assert (
            followup.test_client().get("/api/v1/cases", headers=_bearer(token)).status_code == 200
        )
        assert (
            intake.test_client().get("/api/v1/meetings", headers=_bearer(token)).status_code == 403
        )
    assert jwt.get_unverified_header(session_token_of(sign_in(followup.test_client(), "rina")))[
        "kid"
    ] == key_id(NEW)

    # A session in use is renewed under the new key once past half its life.
    aged = _aged(old_session, OLD)
    browser = followup.test_client()
    browser.set_cookie(SESSION_COOKIE, aged)
    renewed = session_token_of(browser.get("/kerja"))
    assert jwt.get_unverified_header(renewed)["kid"] == key_id(NEW)

    # The form opened before the rotation still submits (its CSRF token was signed with
    # OLD): it reaches the password check. A token signed with no accepted key is refused
    # as an expired form.
    for token, passes_csrf in ((_csrf_with("x" * 40, seed), False), (form_token, True)):
        client = followup.test_client()
        client.set_cookie("ka_csrf", seed)
        client.set_cookie(SESSION_COOKIE, old_session)
        answer = client.post(
            "/akun/kata-sandi",
            data={
                "current_password": "not-the-current-password",
                "new_password": "jalan-mulus-sekali-9",
                "new_password2": "jalan-mulus-sekali-9",
                "csrf_token": token,
            },
        )
        assert answer.status_code == 400
        page = answer.get_data(as_text=True)
        assert ("Formulir kedaluwarsa" in page) != passes_csrf
        assert ("Kata sandi sekarang salah." in page) == passes_csrf

    # The overlap ends: OLD is dropped.
    intake, followup = deploy(settings, jwt_secret=NEW, jwt_previous_secrets="")
    for token in (old_session, aged, integration):
        refused = followup.test_client().get("/api/v1/cases", headers=_bearer(token))
        assert refused.status_code == 401
        assert "no longer accepted" in refused.json["message"]
    assert followup.test_client().get("/api/v1/cases", headers=_bearer(renewed)).status_code == 200


def test_a_token_without_a_key_id_is_tried_against_every_accepted_key(settings):
    _, followup = deploy(settings, jwt_secret=NEW, jwt_previous_secrets=OLD)
    now = int(time.time())
    claims = {
        "iss": "kawal-aspirasi",
        "sub": "ops",
        "role": "supervisor",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 600,
    }
    client = followup.test_client()
    for key, status in ((OLD, 200), (NEW, 200), ("some-other-key-of-enough-length-000000", 401)):
        legacy = jwt.encode(claims, key, algorithm="HS256")  # no kid: from before this change
        assert client.get("/api/v1/cases", headers=_bearer(legacy)).status_code == status
    forged = jwt.encode(claims, "x" * 40, algorithm="HS256", headers={"kid": key_id(OLD)})
    assert client.get("/api/v1/cases", headers=_bearer(forged)).status_code == 401


def test_a_previous_key_must_be_a_real_key_outside_development(settings, monkeypatch):
    monkeypatch.delenv("KAWAL_ENV", raising=False)
    with pytest.raises(InsecureConfiguration, match="JWT_PREVIOUS_SECRETS"):
        deploy(settings, jwt_secret=NEW, jwt_previous_secrets="short")
    deploy(settings, jwt_secret=NEW, jwt_previous_secrets=OLD)  # a real key is fine


def _admin(followup):
    make_account(followup, "ops", "admin")
    return Manager(username="ops", role="admin")


def _csrf_with(key: str, seed: str) -> str:
    secret = hashlib.sha256(f"csrf:{key}".encode()).digest()
    return hmac.new(secret, seed.encode(), hashlib.sha256).hexdigest()


def _aged(token: str, key: str) -> str:
    """The same session's token re-signed with a short life left (past half its life)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["exp"] = int(time.time()) + 600
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": key_id(key)})
