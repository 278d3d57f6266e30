"""Redis holds no security decision alone (issue 22): sign-outs and revocations are
recorded in the follow-up database, and after Redis lost its data no signed-out or revoked
credential is accepted at any moment. Until the cache is rebuilt, intake (which cannot
rebuild it) answers 503; the follow-up service rebuilds it on the first request.

Redis losing its data is simulated per test by deleting the test's key prefix (what a
restart without persistence does to it), on the real shared Redis; the real restart is
in tests/e2e/test_faults.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import redis as redis_lib
from sqlalchemy import func, select

from followup_service.tables import revoked_credentials
from intake_service.app import create_app as create_intake
from shared import tokens_cli
from shared.auth import RevocationList
from shared.pages import csrf
from tests.integration.test_accounts import apps
from tests.integration.test_open311_requests import issue_key, request_form
from tests.support import csrf_of, make_account, session_token_of, sign_in

pytestmark = pytest.mark.integration
__all__ = ["apps"]  # both services on one key prefix, as run.sh runs them
AGENCY = "dishub-3604"


def lose_redis_data(app) -> None:
    settings = app.config["SETTINGS"]
    client = redis_lib.Redis.from_url(settings.redis_url)
    keys = list(client.scan_iter(f"{settings.redis_key_prefix}:*"))
    assert keys, "the test's prefix had keys to lose"
    client.delete(*keys)
    client.close()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_signed_out_session_is_refused_at_every_request_after_redis_lost_its_data(apps):
    intake, followup = apps
    make_account(followup, "rina", "liaison", agency=AGENCY)
    make_account(followup, "sari", "liaison", agency=AGENCY)
    client = followup.test_client()
    signed_out = session_token_of(sign_in(client, "rina"))
    still_in = session_token_of(sign_in(followup.test_client(), "sari"))
    out = client.post("/keluar", data={"csrf_token": csrf_of(client, "/kerja")})
    assert out.status_code == 302

    lose_redis_data(followup)
    # intake cannot decide: 503 with Retry-After for everyone, never a pass
    for token in (signed_out, still_in):
        answer = intake.test_client().get("/api/v1/meetings", headers=bearer(token))
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert answer.headers["Retry-After"] and answer.json["unavailable"] == "redis"
    # the follow-up service rebuilds the cache from its database on its first request
    assert (
        followup.test_client().get("/api/v1/cases", headers=bearer(signed_out)).status_code == 401
    )
    assert followup.test_client().get("/api/v1/cases", headers=bearer(still_in)).status_code == 200
    # and intake decides again: the signed-out session stays out, the other is known
    assert (
        intake.test_client().get("/api/v1/meetings", headers=bearer(signed_out)).status_code == 401
    )
    assert intake.test_client().get("/api/v1/meetings", headers=bearer(still_in)).status_code == 403


def test_a_page_visit_during_the_rebuild_gets_a_short_page_in_bahasa_indonesia(apps):
    intake, followup = apps
    make_account(followup, "rina", "liaison", agency=AGENCY)
    token = session_token_of(sign_in(followup.test_client(), "rina"))
    lose_redis_data(followup)
    page = intake.test_client()
    page.set_cookie("ka_session", token)
    answer = page.get("/catat")
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "tidak tersedia" in answer.get_data(as_text=True)


def test_intake_sends_a_sign_out_to_the_service_that_keeps_it(make_settings):
    intake = create_intake(make_settings("intake", sign_in_url="http://127.0.0.1:8002/masuk"))
    client = intake.test_client()
    with intake.test_request_context(headers={"Cookie": f"{csrf.COOKIE}=seed"}):
        token = csrf.csrf_token()
    client.set_cookie(csrf.COOKIE, "seed")
    answer = client.post("/keluar", data={"csrf_token": token})
    assert answer.status_code == 307
    assert answer.headers["Location"] == "http://127.0.0.1:8002/keluar"


def test_a_revoked_open311_key_files_nothing_after_redis_lost_its_data(apps):
    intake, followup = apps
    api_key = issue_key(followup)
    token_id = jwt.decode(api_key, options={"verify_signature": False})["jti"]
    admin = followup.test_client()
    assert sign_in(admin, "ayu").status_code == 302
    revoked = admin.post(
        f"/admin/integrasi/{token_id}/cabut",
        data={"csrf_token": csrf_of(admin, "/admin/integrasi")},
    )
    assert revoked.status_code == 303
    filed = intake.test_client().post("/open311/v2/requests.json", data=request_form(api_key))
    assert filed.status_code == 403

    lose_redis_data(followup)
    filed = intake.test_client().post("/open311/v2/requests.json", data=request_form(api_key))
    assert filed.status_code == 503, filed.get_data(as_text=True)
    assert filed.json[0]["code"] == 503  # Open311's error list
    followup.extensions["accounts"].rebuild_credentials()
    filed = intake.test_client().post("/open311/v2/requests.json", data=request_form(api_key))
    assert filed.status_code == 403


def test_an_operator_token_revoked_with_the_cli_is_kept_in_the_database(apps, monkeypatch, capsys):
    intake, followup = apps
    settings = followup.config["SETTINGS"]
    token = followup.extensions["tokens"].issue("ops", "supervisor", area="national")
    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", settings.redis_key_prefix)
    monkeypatch.setenv("KAWAL_ENV", "development")
    tokens_cli.main(["revoke", token])
    assert "revoked" in capsys.readouterr().out
    assert intake.test_client().get("/api/v1/meetings", headers=bearer(token)).status_code == 401

    lose_redis_data(followup)
    followup.extensions["accounts"].rebuild_credentials()
    assert intake.test_client().get("/api/v1/meetings", headers=bearer(token)).status_code == 401


def test_a_rebuild_prunes_revocations_that_expired_and_marks_the_copy_complete(apps):
    _, followup = apps
    accounts = followup.extensions["accounts"]
    now = datetime.now(UTC)
    accounts.record_revocation("old-session", now - timedelta(minutes=1))
    accounts.record_revocation("live-session", now + timedelta(hours=1))
    lose_redis_data(followup)
    revocations = RevocationList(
        accounts.followup.redis, followup.config["SETTINGS"].redis_key_prefix
    )
    assert not revocations.is_complete()
    accounts.publish_all()
    assert revocations.is_complete()
    assert revocations.is_revoked("live-session") and not revocations.is_revoked("old-session")
    with accounts.engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(revoked_credentials)).scalar()
    assert left == 1
