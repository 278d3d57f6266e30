"""What comes back from residents (issue 24): RFC 8058 one-click unsubscribe from a real
SMTP-sent message's headers, and inbound STOP from WhatsApp and an SMS gateway, on the
real PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import uuid

import pytest
from sqlalchemy import select

from followup_service.notifications import smtp_sink, store
from followup_service.notifications.channels import EmailChannel, Outgoing
from followup_service.notifications.settings import NotifySettings
from shared.contact_cipher import ContactCipher
from tests.integration.followup.conftest import Service

pytestmark = pytest.mark.integration

EMAIL = "ibu.ani.kabar-4410@example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subscribe(service: Service, case_id: str, channel: str, address: str, language="id") -> str:
    """A subscription as the notifier stores it; returns its unsubscribe token."""
    cipher = ContactCipher.from_env()
    sealed = cipher.seal({"address": address, "channel": channel, "language": language})
    with service.fu.engine.begin() as conn:
        assert store.subscribe(
            conn,
            case_id=case_id,
            channel=channel,
            language=language,
            sealed_contact=sealed,
            contact_digest=cipher.digest(address),
            source="test",
            now=service.clock(),
        )
        return conn.execute(
            select(store.SUBSCRIPTIONS.c.token).where(
                store.SUBSCRIPTIONS.c.case_id == case_id,
                store.SUBSCRIPTIONS.c.channel == channel,
                store.SUBSCRIPTIONS.c.contact_digest == cipher.digest(address),
            )
        ).scalar_one()


def count(service: Service, case_id: str) -> int:
    with service.fu.engine.connect() as conn:
        return store.subscriber_count(conn, case_id)


def test_a_mail_clients_one_click_post_to_the_sent_list_unsubscribe_url_unsubscribes(followup):
    case = followup.open()
    token = subscribe(followup, case["id"], "email", EMAIL, language="en")
    sink = smtp_sink.start("127.0.0.1", free_port())
    channel = EmailChannel(NotifySettings(smtp_host="127.0.0.1", smtp_port=sink.port))
    try:
        channel.send(
            EMAIL,
            Outgoing(
                message_id=f"{uuid.uuid4()}.test",
                subject=f"[{case['tracking_code']}] Diteruskan",
                body="Aspirasi Anda diteruskan.",
                language="en",
                unsubscribe_url=f"http://kawal.test/kabar/{token}/berhenti",
                tracking_code=case["tracking_code"],
            ),
        )
        [message] = sink.sink.messages
    finally:
        channel.close()
        sink.stop()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://kawal.test/kabar/") and token in url
    path = url.removeprefix("http://kawal.test")
    # what the mail client sends (RFC 8058 section 3.2): no cookie, no CSRF token
    client = followup.app.test_client()
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_data(as_text=True) == f"You are unsubscribed from {case['tracking_code']}.\n"
    assert count(followup, case["id"]) == 0
    # used up: 404, a page for a browser, JSON for a machine, never a 500
    again = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 404 and "Tautan tidak berlaku lagi" in again.get_data(as_text=True)
    unknown = client.post(
        "/kabar/tidak-ada/berhenti", data="{}", headers={"Content-Type": "application/json"}
    )
    assert unknown.status_code == 404 and unknown.json["error"] == "not found"


def test_the_body_link_still_unsubscribes_with_a_get(followup):
    case = followup.open()
    token = subscribe(followup, case["id"], "email", EMAIL)
    page = followup.app.test_client().get(f"/kabar/{token}/berhenti")
    assert page.status_code == 200 and case["tracking_code"] in page.get_data(as_text=True)
    assert count(followup, case["id"]) == 0


def test_only_the_one_click_route_goes_without_the_csrf_check(followup):
    case = followup.open()
    token = subscribe(followup, case["id"], "email", EMAIL)
    client = followup.app.test_client()
    # the other notification forms still need their token
    refused = client.post(f"/kabar/{token}/bantah", data={"reason": "Belum beres"})
    assert refused.status_code == 400
    refused = client.post(
        f"/lacak/{case['tracking_code']}/langganan", data={"channel": "email", "email": EMAIL}
    )
    assert refused.status_code == 400
    assert count(followup, case["id"]) == 1
    # and the blueprint without the check holds only the one-click POST and the webhooks
    rules = {
        (rule.rule, tuple(sorted(rule.methods - {"HEAD", "OPTIONS"})))
        for rule in followup.app.url_map.iter_rules()
        if rule.endpoint.startswith("notifications_inbound.")
    }
    assert rules == {
        ("/kabar/<token>/berhenti", ("POST",)),
        ("/kabar/webhook/whatsapp", ("GET",)),
        ("/kabar/webhook/whatsapp", ("POST",)),
        ("/kabar/webhook/sms", ("POST",)),
    }


def test_one_click_answers_503_when_the_database_is_away(make_settings):
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"
    service = Service(make_settings("followup", database_url=dead))
    answer = service.client.post("/kabar/sesuatu/berhenti", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0


# --- inbound STOP -------------------------------------------------------------------

APP_SECRET = "rahasia-aplikasi-meta"
VERIFY_TOKEN = "kata-kunci-verifikasi"
GATEWAY_SECRET = "rahasia-gerbang-sms"
PHONE = "0812-4477-9931"  # as a resident types it; WhatsApp says 6281244779931
WA_ID = "6281244779931"


@pytest.fixture
def inbound(followup) -> Service:
    """The follow-up app with both webhooks configured."""
    followup.app.extensions["notify_settings"] = NotifySettings(
        whatsapp_app_secret=APP_SECRET,
        whatsapp_webhook_verify_token=VERIFY_TOKEN,
        sms_webhook_secret=GATEWAY_SECRET,
    )
    return followup


def delivery(wa_id: str, text: str) -> dict:
    """A Cloud API webhook delivery of one text message, as Meta documents it."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [{"profile": {"name": "Ani"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEw",
                                    "timestamp": "1749416383",
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def post_signed(service: Service, payload, secret: str = APP_SECRET, raw: bytes | None = None):
    raw = json.dumps(payload).encode() if raw is None else raw
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return service.client.post(
        "/kabar/webhook/whatsapp",
        data=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
    )


def test_whatsapp_verification_handshake_echoes_the_challenge_for_the_right_token(inbound):
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    answer = inbound.client.get("/kabar/webhook/whatsapp", query_string=query)
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "1158201444"
    wrong = inbound.client.get(
        "/kabar/webhook/whatsapp", query_string={**query, "hub.verify_token": "tebakan"}
    )
    assert wrong.status_code == 403 and "1158201444" not in wrong.get_data(as_text=True)
    not_subscribe = inbound.client.get(
        "/kabar/webhook/whatsapp", query_string={**query, "hub.mode": "unsubscribe"}
    )
    assert not_subscribe.status_code == 403


def test_a_signed_whatsapp_stop_unsubscribes_that_number_from_whatsapp_on_every_case(
    inbound, caplog
):
    first, second = inbound.open(), inbound.open()
    subscribe(inbound, first["id"], "whatsapp", PHONE)
    subscribe(inbound, second["id"], "whatsapp", "+62 812 4477 9931")
    subscribe(inbound, first["id"], "sms", PHONE)  # another channel: kept
    subscribe(inbound, second["id"], "whatsapp", "081299990000")  # another number: kept
    # not STOP, and a status callback: answered 200, nothing erased
    assert post_signed(inbound, delivery(WA_ID, "Terima kasih infonya")).status_code == 200
    status = {
        "entry": [{"changes": [{"value": {"statuses": [{"id": "wamid.X", "status": "read"}]}}]}]
    }
    assert post_signed(inbound, status).status_code == 200
    assert (count(inbound, first["id"]), count(inbound, second["id"])) == (2, 2)
    # a wrong or missing signature: 403, nothing erased
    assert post_signed(inbound, delivery(WA_ID, "STOP"), secret="bukan-rahasia").status_code == 403
    unsigned = inbound.client.post("/kabar/webhook/whatsapp", json=delivery(WA_ID, "STOP"))
    assert unsigned.status_code == 403
    assert (count(inbound, first["id"]), count(inbound, second["id"])) == (2, 2)
    with caplog.at_level(logging.INFO):
        answer = post_signed(inbound, delivery(WA_ID, "  Berhenti \n"))
    assert answer.status_code == 200
    assert (count(inbound, first["id"]), count(inbound, second["id"])) == (1, 1)
    with inbound.fu.engine.connect() as conn:
        channels = conn.execute(select(store.SUBSCRIPTIONS.c.channel)).scalars().all()
    assert sorted(channels) == ["sms", "whatsapp"]
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "2 subscriptions erased" in logged
    assert not any(digits in logged for digits in (WA_ID, "81244779931", "4477"))


def test_whatsapp_webhook_refuses_bad_json_with_400_and_is_off_without_its_secrets(
    inbound, followup
):
    bad = post_signed(inbound, None, raw=b'{"entry": [')
    assert bad.status_code == 400 and "JSON" in bad.json["message"]
    not_object = post_signed(inbound, ["STOP"])
    assert not_object.status_code == 400 and not_object.json["error"] == "bad request"
    inbound.app.extensions["notify_settings"] = NotifySettings(sms_webhook_secret=GATEWAY_SECRET)
    assert post_signed(inbound, delivery(WA_ID, "STOP")).status_code == 404
    assert inbound.client.get("/kabar/webhook/whatsapp").status_code == 404


@pytest.mark.parametrize("as_json", [False, True])
def test_an_sms_gateways_stop_with_the_shared_secret_unsubscribes_that_number(inbound, as_json):
    case = inbound.open()
    subscribe(inbound, case["id"], "sms", PHONE)
    subscribe(inbound, case["id"], "whatsapp", PHONE)  # STOP by SMS leaves WhatsApp alone

    def send(text: str, secret: str | None = GATEWAY_SECRET):
        headers = {"X-Gateway-Secret": secret} if secret else {}
        body = {"from": "+6281244779931", "to": "KAWAL", "text": text}
        if as_json:
            return inbound.client.post("/kabar/webhook/sms", json=body, headers=headers)
        return inbound.client.post("/kabar/webhook/sms", data=body, headers=headers)

    assert send("STOP", secret="tebakan").status_code == 403
    assert send("STOP", secret=None).status_code == 403
    assert send("lampu masih mati").status_code == 200
    assert count(inbound, case["id"]) == 2
    assert send("unsubscribe").status_code == 200
    with inbound.fu.engine.connect() as conn:
        channels = conn.execute(select(store.SUBSCRIPTIONS.c.channel)).scalars().all()
    assert channels == ["whatsapp"]


def test_sms_webhook_answers_400_for_a_bad_body_and_404_when_off(inbound):
    headers = {"X-Gateway-Secret": GATEWAY_SECRET, "Content-Type": "application/json"}
    bad = inbound.client.post("/kabar/webhook/sms", data=b"{nope", headers=headers)
    assert bad.status_code == 400 and bad.json["error"] == "bad request"
    lacking = inbound.client.post("/kabar/webhook/sms", json={"text": "STOP"}, headers=headers)
    assert lacking.status_code == 400 and "from" in lacking.json["message"]
    inbound.app.extensions["notify_settings"] = NotifySettings()
    off = inbound.client.post(
        "/kabar/webhook/sms", json={"from": "1", "text": "STOP"}, headers=headers
    )
    assert off.status_code == 404


def test_webhooks_answer_503_when_the_database_is_away(make_settings):
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"
    service = Service(make_settings("followup", database_url=dead))
    service.app.extensions["notify_settings"] = NotifySettings(
        whatsapp_app_secret=APP_SECRET,
        whatsapp_webhook_verify_token=VERIFY_TOKEN,
        sms_webhook_secret=GATEWAY_SECRET,
    )
    answer = post_signed(service, delivery(WA_ID, "STOP"))
    assert answer.status_code == 503 and answer.json["unavailable"] == "database"
    answer = service.client.post(
        "/kabar/webhook/sms",
        data={"from": "+6281244779931", "text": "STOP"},
        headers={"X-Gateway-Secret": GATEWAY_SECRET},
    )
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0


def test_the_app_says_at_start_which_inbound_stop_is_off(make_settings, caplog, monkeypatch):
    for name in ("WHATSAPP_APP_SECRET", "WHATSAPP_WEBHOOK_VERIFY_TOKEN", "SMS_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"FOLLOWUP_{name}", raising=False)
    monkeypatch.setenv("SMS_WEBHOOK_SECRET", GATEWAY_SECRET)
    with caplog.at_level(logging.WARNING):
        Service(make_settings("followup"))
    off = [r.getMessage() for r in caplog.records if "inbound STOP off" in r.getMessage()]
    assert off == [
        "inbound STOP off (whatsapp: WHATSAPP_APP_SECRET, WHATSAPP_WEBHOOK_VERIFY_TOKEN not set)"
    ]


# --- the staff view: how many, never who ------------------------------------------------


def test_the_worklist_shows_how_many_follow_a_case_and_never_who(followup):
    followed, quiet = followup.open(), followup.open()
    subscribe(followup, followed["id"], "email", EMAIL)
    subscribe(followup, followed["id"], "whatsapp", PHONE)
    subscribe(followup, followed["id"], "sms", "081299990000")
    client = followup.app.test_client()
    client.set_cookie("ka_session", followup.supervisor["Authorization"].split()[1])
    page = client.get("/kerja")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    card = html.split(f'id="subscribers-{followed["tracking_code"]}">')[1].split("</p>")[0]
    assert card == "Pelanggan kabar: 3"
    other = html.split(f'id="subscribers-{quiet["tracking_code"]}">')[1].split("</p>")[0]
    assert other == "Pelanggan kabar: 0"
    for address in (EMAIL, "ibu.ani", "81244779931", "81299990000"):
        assert address not in html
    english = client.get("/kerja?lang=en").get_data(as_text=True)
    assert f'id="subscribers-{followed["tracking_code"]}">Subscribers to updates: 3<' in english
