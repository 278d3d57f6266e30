"""Staff accounts on the real PostgreSQL, Redis and Kafka: sign-in, throttling, sessions
that end on both services, administration, integration tokens, and secrets that never
leave the follow-up database's credentials table."""

from __future__ import annotations

import json
import logging
import time
import uuid

import jwt
import pytest
from kafka import KafkaConsumer
from sqlalchemy import select, text

from followup_service.app import create_app as create_followup
from followup_service.tables import account_credentials, metadata
from intake_service.app import create_app as create_intake
from shared.config import DEVELOPMENT_SECRET, InsecureConfiguration
from shared.eventstore.kafka_io import make_producer
from shared.eventstore.relay import OutboxRelay
from shared.pages.session import COOKIE as SESSION_COOKIE
from tests.support import (
    STAFF_PASSWORD,
    csrf_of,
    make_account,
    session_token_of,
    sign_in,
)

pytestmark = pytest.mark.integration
AGENCY = "dishub-3604"
OTHER_AGENCY = "satpolpp-3604"


@pytest.fixture
def apps(make_settings):
    """Both services on one Redis key prefix, as run.sh runs them."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    followup = create_followup(make_settings("followup", redis_key_prefix=prefix))
    intake = create_intake(make_settings("intake", redis_key_prefix=prefix))
    return intake, followup


def _post(client, path: str, data: dict, csrf_path: str = "/admin/akun"):
    return client.post(path, data={**data, "csrf_token": csrf_of(client, csrf_path)})


def _one_time(response) -> str:
    html = response.get_data(as_text=True)
    return html.split('id="one-time-password">', 1)[1].split("<", 1)[0]


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_creates_a_liaison_who_must_choose_a_password_and_sees_only_their_agency(apps):
    intake, followup = apps
    make_account(followup, "ayu", "admin")
    admin = followup.test_client()
    assert sign_in(admin, "ayu").status_code == 302
    created = _post(
        admin,
        "/admin/akun",
        {"username": "rina", "display_name": "Rina W.", "role": "liaison", "agency": AGENCY},
    )
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    one_time = _one_time(created)
    listed = admin.get("/admin/akun").get_data(as_text=True)
    assert "rina" in listed and one_time not in listed  # shown once

    liaison = followup.test_client()
    asked = sign_in(liaison, "rina", one_time, next="/kerja")
    assert asked.status_code == 200 and 'name="ticket"' in asked.get_data(as_text=True)
    assert SESSION_COOKIE not in asked.headers.get("Set-Cookie", "")  # no session yet
    ticket = asked.get_data(as_text=True).split('name="ticket" value="', 1)[1].split('"', 1)[0]
    short = {
        "ticket": ticket,
        "new_password": "pendek",
        "new_password2": "pendek",
        "next": "/kerja",
    }
    assert _post(liaison, "/masuk/kata-sandi-baru", short, "/masuk").status_code == 400
    chosen = {**short, "new_password": "jalan-mulus-7", "new_password2": "jalan-mulus-7"}
    done = _post(liaison, "/masuk/kata-sandi-baru", chosen, "/masuk")
    assert done.status_code == 302 and done.headers["Location"] == "/kerja"
    again = _post(liaison, "/masuk/kata-sandi-baru", chosen, "/masuk")
    assert again.status_code == 400  # the ticket is spent once the password is chosen
    assert sign_in(followup.test_client(), "rina", one_time).status_code == 401
    token = session_token_of(done)
    listed = followup.test_client().get(
        "/api/v1/cases?agency=" + OTHER_AGENCY, headers=_bearer(token)
    )
    assert listed.status_code == 200 and listed.json["items"] == []  # never another agency's


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(apps):
    _, followup = apps
    make_account(followup, "rina", "liaison", agency=AGENCY)
    wrong = sign_in(followup.test_client(), "rina", "salah-sekali-123")
    unknown = sign_in(followup.test_client(), "tidak-ada", "salah-sekali-123")
    assert wrong.status_code == unknown.status_code == 401

    def message(response):
        return response.get_data(as_text=True).split('role="alert">', 1)[1].split("<", 1)[0]

    assert message(wrong) == message(unknown) == "Nama pengguna atau kata sandi salah."


def test_failures_are_throttled_per_account_and_the_password_works_once_the_window_passes(
    make_settings,
):
    followup = create_followup(make_settings("followup", sign_in_failure_limit="5 per 3 seconds"))
    make_account(followup, "rina", "liaison", agency=AGENCY)
    answers = []
    for attempt in range(20):  # from 20 addresses: the account's own limit holds
        response = sign_in(
            followup.test_client(), "rina", f"tebakan-{attempt}-xx", address=f"10.9.0.{attempt}"
        )
        answers.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
    assert answers == [401] * 5 + [429] * 15
    blocked = sign_in(followup.test_client(), "rina", address="10.9.1.1")
    assert blocked.status_code == 429  # even the right password waits out the window
    time.sleep(3.2)
    assert sign_in(followup.test_client(), "rina", address="10.9.1.1").status_code == 302


def test_failures_are_throttled_per_address_across_usernames(apps):
    _, followup = apps  # the default limit: 5 failures a minute
    make_account(followup, "rina", "liaison", agency=AGENCY)
    answers = [
        sign_in(followup.test_client(), f"orang-{i}", "salah-sekali-123", address="10.8.0.1")
        for i in range(6)
    ]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert "Terlalu banyak percobaan" in answers[-1].get_data(as_text=True)
    elsewhere = sign_in(followup.test_client(), "rina", address="10.8.0.2")
    assert elsewhere.status_code == 302


def test_deactivation_ends_the_session_at_the_next_request_on_both_services(apps):
    intake, followup = apps
    make_account(followup, "ayu", "admin")
    make_account(followup, "budi", "officer", unit="polsek-cikande")
    officer = followup.test_client()
    token = session_token_of(sign_in(officer, "budi"))
    intake_client = intake.test_client()
    intake_client.set_cookie(SESSION_COOKIE, token)  # the same cookie, same host
    assert intake_client.get("/catat").status_code == 200
    assert intake_client.get("/api/v1/meetings", headers=_bearer(token)).status_code == 200
    assert officer.get("/kerja").status_code == 200

    admin = followup.test_client()
    sign_in(admin, "ayu")
    off = _post(admin, "/admin/akun/budi/nonaktifkan", {}, "/admin/akun/budi")
    assert off.status_code == 303

    page = officer.get("/kerja")
    assert page.status_code == 302 and page.headers["Location"].startswith("/masuk")
    intake_page = intake_client.get("/catat")
    assert intake_page.status_code == 302 and "/masuk" in intake_page.headers["Location"]
    assert intake_client.get("/api/v1/meetings", headers=_bearer(token)).status_code == 401
    assert sign_in(followup.test_client(), "budi").status_code == 401

    on = _post(admin, "/admin/akun/budi/aktifkan", {}, "/admin/akun/budi")
    assert on.status_code == 303
    history = admin.get("/admin/akun/budi").get_data(as_text=True).split('id="history"', 1)[1]
    assert history.index("Diaktifkan kembali") < history.index("Dinonaktifkan")
    assert history.count("admin:ayu") == 2 and "admin:cli" in history  # who, newest first
    assert intake_client.get("/api/v1/meetings", headers=_bearer(token)).status_code == 401
    assert sign_in(followup.test_client(), "budi").status_code == 302  # a new session works


def test_a_reset_ends_sessions_and_the_one_time_password_works_only_to_choose_a_new_one(apps):
    _, followup = apps
    make_account(followup, "ayu", "admin")
    make_account(followup, "rina", "liaison", agency=AGENCY)
    old = session_token_of(sign_in(followup.test_client(), "rina"))
    admin = followup.test_client()
    sign_in(admin, "ayu")
    reset = _post(admin, "/admin/akun/rina/atur-ulang", {}, "/admin/akun/rina")
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    one_time = _one_time(reset)
    assert followup.test_client().get("/api/v1/cases", headers=_bearer(old)).status_code == 401
    assert sign_in(followup.test_client(), "rina").status_code == 401  # old password gone
    asked = sign_in(followup.test_client(), "rina", one_time)
    assert 'name="ticket"' in asked.get_data(as_text=True)


def test_sign_out_ends_the_session_on_both_services(apps):
    intake, followup = apps
    make_account(followup, "rina", "liaison", agency=AGENCY)
    client = followup.test_client()
    token = session_token_of(sign_in(client, "rina"))
    # intake knows the liaison (403: not an officer's route) until the sign-out
    checks = ((followup, "/api/v1/cases", 200), (intake, "/api/v1/meetings", 403))
    for app, path, status in checks:
        assert app.test_client().get(path, headers=_bearer(token)).status_code == status
    out = client.post("/keluar", data={"csrf_token": csrf_of(client, "/kerja")})
    assert out.status_code == 302
    for app, path, _ in checks:
        assert app.test_client().get(path, headers=_bearer(token)).status_code == 401


def test_a_session_is_renewed_while_in_use_and_keeps_its_session_id(apps):
    _, followup = apps
    make_account(followup, "rina", "liaison", agency=AGENCY)
    tokens = followup.extensions["tokens"]
    principal = tokens.verify(session_token_of(sign_in(followup.test_client(), "rina")))
    # a token past half its life, for the same session
    claims = jwt.decode(
        session_token_of(sign_in(followup.test_client(), "rina")),
        options={"verify_signature": False},
    )
    claims.update(sid=principal.session_id, exp=int(time.time()) + 600)
    aged = jwt.encode(claims, followup.config["SETTINGS"].jwt_secret, algorithm="HS256")
    client = followup.test_client()
    client.set_cookie(SESSION_COOKIE, aged)
    renewed = client.get("/kerja")
    assert renewed.status_code == 200
    fresh = tokens.verify(session_token_of(renewed))
    assert fresh.session_id == principal.session_id
    assert fresh.expires_at.timestamp() > claims["exp"] + 3000  # a new SESSION_TTL
    assert fresh.auth_time.timestamp() == claims["auth_time"]  # the sign-in moment stays


def test_a_supervisor_manages_only_the_officers_of_their_own_unit(apps):
    _, followup = apps
    make_account(followup, "sari", "supervisor", unit="polsek-cikande")
    make_account(followup, "ayu", "admin")
    make_account(followup, "dedi", "officer", unit="polsek-krangkeng")
    client = followup.test_client()
    sign_in(client, "sari")
    ok = _post(
        client,
        "/admin/akun",
        {"username": "budi", "display_name": "Budi", "role": "officer", "unit": "polsek-cikande"},
    )
    assert ok.status_code == 201
    other_unit = _post(
        client,
        "/admin/akun",
        {"username": "eko", "display_name": "Eko", "role": "officer", "unit": "polsek-krangkeng"},
    )
    assert other_unit.status_code == 403
    liaison = _post(
        client,
        "/admin/akun",
        {"username": "rina", "display_name": "Rina", "role": "liaison", "agency": AGENCY},
    )
    assert liaison.status_code == 403
    listed = client.get("/admin/akun").get_data(as_text=True)
    assert 'data-username="budi"' in listed and 'data-username="dedi"' not in listed
    assert client.get("/admin/akun/ayu").status_code == 403
    assert client.get("/admin/integrasi").status_code == 403
    anonymous = followup.test_client()
    form = {"username": "x1", "display_name": "X", "role": "officer", "unit": "polsek-cikande"}
    typed = _post(anonymous, "/admin/akun", form, csrf_path="/masuk")
    assert typed.status_code == 302 and "/masuk" in typed.headers["Location"]


def test_scope_comes_from_the_directory_with_field_messages(apps):
    _, followup = apps
    make_account(followup, "ayu", "admin")
    client = followup.test_client()
    sign_in(client, "ayu")
    typed = _post(
        client,
        "/admin/akun",
        {"username": "rina", "display_name": "Rina", "role": "liaison", "agency": "dinas-karangan"},
    )
    assert typed.status_code == 400
    assert "Instansi tidak ada di direktori rute" in typed.get_data(as_text=True)
    taken = _post(client, "/admin/akun", {"username": "ayu", "display_name": "A", "role": "admin"})
    assert taken.status_code == 400 and "sudah dipakai" in taken.get_data(as_text=True)
    page = client.get("/admin/akun").get_data(as_text=True)
    # units are the police unit directory's: Polres and Polda offered, a Polsek typed
    assert 'value="polres-3604"' in page and 'list="agency-list"' in page
    assert 'name="area"' in page
    officer = {"username": "budi", "display_name": "Budi", "role": "officer"}
    typed_unit = _post(client, "/admin/akun", {**officer, "unit": "Polsek Cikande"})
    assert typed_unit.status_code == 201, typed_unit.get_data(as_text=True)
    area = {"username": "dedi", "display_name": "Dedi", "role": "supervisor", "area": "36.04"}
    assert _post(client, "/admin/akun", area).status_code == 201
    nowhere = {**area, "username": "eko", "area": ""}
    refused = _post(client, "/admin/akun", nowhere)
    assert refused.status_code == 400 and "Atasan perlu satuan atau wilayah" in (
        refused.get_data(as_text=True)
    )
    with followup.extensions["accounts"].engine.connect() as conn:
        service = followup.extensions["accounts"]
        assert service.load(conn, "budi").unit == "polsek-360415"
        assert service.load(conn, "dedi").area == "36.04"
    # No case has reached Satpol PP Kota Bekasi yet: its region-scoped id is known all the
    # same (typed, not picked from a list of every agency in the country).
    unknown_region = _post(
        client,
        "/admin/akun",
        {"username": "rina", "display_name": "Rina", "role": "liaison", "agency": "satpolpp-9999"},
    )
    assert unknown_region.status_code == 400
    created = _post(
        client,
        "/admin/akun",
        {"username": "rina", "display_name": "Rina", "role": "liaison", "agency": "satpolpp-3275"},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    listed = client.get("/admin/akun").get_data(as_text=True)
    assert "satpolpp-3275" in listed


def test_integration_tokens_are_shown_once_bound_to_one_agency_listed_with_last_use_revocable(
    apps,
):
    intake, followup = apps
    make_account(followup, "ayu", "admin")
    admin = followup.test_client()
    sign_in(admin, "ayu")
    made = _post(admin, "/admin/integrasi", {"name": "SIPD Kab. Serang", "agency": AGENCY})
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    html = made.get_data(as_text=True)
    token = html.split('id="new-token-value">', 1)[1].split("<", 1)[0]
    listed = admin.get("/admin/integrasi").get_data(as_text=True)
    assert "SIPD Kab. Serang" in listed and token not in listed

    principal = followup.extensions["tokens"].verify(token)
    assert principal.kind == "integration" and principal.agency == AGENCY
    assert principal.role == "liaison"
    api = followup.test_client().get("/api/v1/cases", headers=_bearer(token))
    assert api.status_code == 200
    assert all(item["agency"]["id"] == AGENCY for item in api.json["items"])
    listed = admin.get("/admin/integrasi").get_data(as_text=True)
    row = listed.split(f'data-token="{principal.token_id}"', 1)[1].split("</tr>", 1)[0]
    assert "WIB" in row  # last use shown as a time

    assert intake.test_client().get("/api/v1/meetings", headers=_bearer(token)).status_code == 403
    csrf = csrf_of(admin, "/admin/integrasi")
    revoked = admin.post(f"/admin/integrasi/{principal.token_id}/cabut", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    for app, path in ((followup, "/api/v1/cases"), (intake, "/api/v1/meetings")):
        assert app.test_client().get(path, headers=_bearer(token)).status_code == 401


def test_the_services_refuse_the_development_secret_outside_development(make_settings, monkeypatch):
    monkeypatch.delenv("KAWAL_ENV", raising=False)
    for create, service in ((create_followup, "followup"), (create_intake, "intake")):
        with pytest.raises(InsecureConfiguration, match="JWT_SECRET"):
            create(make_settings(service))
    secret = "a-real-deployment-secret-of-enough-bytes-0123456789"
    followup = create_followup(make_settings("followup", jwt_secret=secret))
    intake = create_intake(make_settings("intake", jwt_secret=secret))
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": "kawal-aspirasi",
            "sub": "mallory",
            "role": "supervisor",
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + 600,
        },
        DEVELOPMENT_SECRET,
        algorithm="HS256",
    )
    assert followup.test_client().get("/api/v1/cases", headers=_bearer(forged)).status_code == 401
    assert intake.test_client().get("/api/v1/meetings", headers=_bearer(forged)).status_code == 401


def test_no_password_hash_or_one_time_password_reaches_a_response_a_log_or_a_topic(
    apps, caplog, stack_env
):
    intake, followup = apps
    caplog.set_level(logging.DEBUG)
    secrets_seen: list[str] = [STAFF_PASSWORD]
    make_account(followup, "ayu", "admin")
    admin = followup.test_client()
    bodies = [sign_in(admin, "ayu")]
    created = _post(
        admin,
        "/admin/akun",
        {"username": "rina", "display_name": "Rina", "role": "liaison", "agency": AGENCY},
    )
    one_time = _one_time(created)
    secrets_seen.append(one_time)
    liaison = followup.test_client()
    asked = sign_in(liaison, "rina", one_time)
    ticket = asked.get_data(as_text=True).split('name="ticket" value="', 1)[1].split('"', 1)[0]
    chosen = "rahasia-rina-99"
    secrets_seen.append(chosen)
    form = {"ticket": ticket, "new_password": chosen, "new_password2": chosen}
    bodies += [asked, _post(liaison, "/masuk/kata-sandi-baru", form, "/masuk")]
    reset = _post(admin, "/admin/akun/rina/atur-ulang", {}, "/admin/akun/rina")
    secrets_seen.append(_one_time(reset))
    bodies += [
        sign_in(followup.test_client(), "rina", "salah-sekali-123"),
        admin.get("/admin/akun"),
        admin.get("/admin/akun/rina"),
        admin.get("/api/v1/cases"),
    ]
    with followup.extensions["followup"].engine.connect() as conn:
        hashes = list(conn.execute(select(account_credentials.c.password_hash)).scalars())
        log_rows = conn.execute(text("SELECT payload::text FROM events")).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    secrets_seen += hashes

    # publish the follow-up outbox as the relay would, then read every topic of this run
    settings = followup.config["SETTINGS"]
    producer = make_producer(settings.kafka_bootstrap_servers)
    OutboxRelay(followup.extensions["followup"].engine, metadata, producer).publish_pending()
    producer.close()
    consumer = KafkaConsumer(
        bootstrap_servers=stack_env["KAFKA_BOOTSTRAP_SERVERS"],
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    topics = [t for t in consumer.topics() if t.startswith(settings.topic_prefix)]
    records = []
    if topics:
        consumer.subscribe(topics)
        records = [r.value.decode("utf-8", "replace") for r in consumer]
    consumer.close()

    everything = [b.get_data(as_text=True) for b in bodies]
    everything += [r.getMessage() for r in caplog.records] + log_rows + records
    everything += [json.dumps(dict(b.headers)) for b in bodies]
    for secret in secrets_seen:
        assert not any(secret in blob for blob in everything), "a secret leaked"
    assert any("rina" in row for row in log_rows), "account events are in the log"
    assert not any("AccountCreated" in record for record in records), "and never on Kafka"


def test_the_first_admin_is_made_by_the_cli_with_a_one_time_password(apps, capsys):
    from followup_service.accounts.cli import create_admin

    _, followup = apps
    create_admin(followup.extensions["followup"], "pertama", "Admin Pertama")
    one_time = capsys.readouterr().out.strip().splitlines()[-1]
    asked = sign_in(followup.test_client(), "pertama", one_time)
    assert asked.status_code == 200 and 'name="ticket"' in asked.get_data(as_text=True)
    with pytest.raises(SystemExit, match="username_taken"):
        create_admin(followup.extensions["followup"], "pertama", "Lagi")


def test_account_read_models_rebuilt_from_the_log_equal_the_live_ones(apps):
    from followup_service.accounts.service import ACCOUNT_READ_MODELS, rebuild_accounts

    _, followup = apps
    make_account(followup, "ayu", "admin")
    make_account(followup, "budi", "officer", unit="polsek-cikande")
    admin = followup.test_client()
    sign_in(admin, "ayu")
    _post(admin, "/admin/akun/budi/nonaktifkan", {}, "/admin/akun/budi")
    _post(admin, "/admin/akun/budi/atur-ulang", {}, "/admin/akun/budi")
    _post(admin, "/admin/integrasi", {"name": "SIPD", "agency": AGENCY}, "/admin/integrasi")
    engine = followup.extensions["followup"].engine

    def dump():
        with engine.connect() as conn:
            return {
                t.name: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key))]
                for t in ACCOUNT_READ_MODELS
            }

    live = dump()
    assert len(live["accounts"]) == 2 and len(live["integration_tokens"]) == 1
    with engine.begin() as conn:
        assert rebuild_accounts(conn, followup.extensions["followup"].store) == 5  # 2+2+1
    assert dump() == live


def test_a_supervisors_area_travels_in_the_session_and_its_renewals(apps):
    """Issue 27: an admin gives a supervisor an area; the signed-in session carries it,
    and the cases API answers by it."""
    _, followup = apps
    make_account(followup, "dedi", "supervisor", area="36.04")
    make_account(followup, "lama", "supervisor", unit="polsek-cikande")  # no area: its unit
    tokens = followup.extensions["tokens"]
    dedi = tokens.verify(session_token_of(sign_in(followup.test_client(), "dedi")))
    assert (dedi.unit, dedi.area) == (None, "36.04")
    assert tokens.verify(tokens.renew(dedi)).area == "36.04"
    lama = tokens.verify(session_token_of(sign_in(followup.test_client(), "lama")))
    assert (lama.unit, lama.area) == ("polsek-360415", None)  # the old id, as its directory id
    listed = followup.test_client().get(
        "/api/v1/cases", headers={"Authorization": f"Bearer {tokens.renew(dedi)}"}
    )
    assert listed.status_code == 200
