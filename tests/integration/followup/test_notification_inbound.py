"""What comes back from residents (issue 24): RFC 8058 one-click unsubscribe from a real
SMTP-sent message's headers, and inbound STOP from WhatsApp and an SMS gateway, on the
real PostgreSQL."""

from __future__ import annotations

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
    # and the blueprint without the check holds only the one-click POST
    rules = {
        (rule.rule, tuple(sorted(rule.methods - {"HEAD", "OPTIONS"})))
        for rule in followup.app.url_map.iter_rules()
        if rule.endpoint.startswith("notifications_inbound.")
    }
    assert rules == {("/kabar/<token>/berhenti", ("POST",))}


def test_one_click_answers_503_when_the_database_is_away(make_settings):
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"
    service = Service(make_settings("followup", database_url=dead))
    answer = service.client.post("/kabar/sesuatu/berhenti", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
