"""Residents hear back (issue 24): intake's `notify` -> the notifier -> real SMTP (aiosmtpd)
and a local server speaking the WhatsApp Cloud API's documented answers (429, 401, 200).

Intake and follow-up run as apps over HTTP, Kafka and PostgreSQL are real, the notifier's
consumer and sender run in threads as `followup_service.cli notifier` runs them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import feedparser
import pytest
from sqlalchemy import select, text

from followup_service.notifications import smtp_sink, store
from followup_service.notifications.channels import configured_channels
from followup_service.notifications.intake_client import IntakeNotifyRequests
from followup_service.notifications.notifier import NotifyOnCaseEvents, notifier_group
from followup_service.notifications.sender import (
    DEAD_LETTERED,
    FAILED,
    RETRIED,
    SENT,
    QueueAgeCollector,
    Sender,
)
from followup_service.notifications.settings import NotifySettings
from followup_service.tables import cases
from followup_service.tables import metadata as followup_metadata
from shared.contact_cipher import ContactCipher
from shared.events.topics import CASE_EVENTS
from shared.processes import run_consumer, run_relay
from tests.e2e.conftest import _Server, paired_apps
from tests.integration.intake.conftest import Intake, aspiration_body
from tests.support import csrf_of, make_account, pipeline_running, read_topic, sign_in, wait_for

pytestmark = pytest.mark.integration

EMAIL = "bu.sri.notify-7731@example.org"
PHONE = "+62 812-4477-9931"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WhatsAppStub(threading.Thread):
    """Answers POST /<phone-number-id>/messages as the Cloud API documents: a queue of
    (status, body) answers, then 200 with a message id; records every request."""

    def __init__(self):
        super().__init__(daemon=True)
        self.answers: list[tuple[int, dict, dict]] = []
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(
                    {"path": self.path, "auth": self.headers["Authorization"], **body}
                )
                status, answer, headers = (
                    stub.answers.pop(0)
                    if stub.answers
                    else (
                        200,
                        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]},
                        {},
                    )
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def run(self):
        self.server.serve_forever()


THROTTLED = (
    429,
    {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429}},
    {"Retry-After": "0"},
)
BAD_TOKEN = (
    401,
    {"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}},
    {},
)


@dataclass
class Chain:
    intake: Intake
    followup_app: object
    fu: object
    smtp: object
    whatsapp: WhatsAppStub
    sender: Sender
    followup_client: object

    @property
    def mail(self):
        return self.smtp.sink.messages

    def case_of(self, aspiration_id: str):
        with self.fu.engine.connect() as conn:
            return conn.execute(select(cases).where(cases.c.aspiration_id == aspiration_id)).first()

    def mail_for(self, code: str) -> list:
        return [m for m in self.mail if code in m["Subject"]]


@pytest.fixture
def chain(create_database, stack_env, migrated_template):
    intake_app, followup_app = paired_apps(create_database, stack_env, migrated_template)
    intake_server = _Server(intake_app)
    intake_server.start()
    smtp = smtp_sink.start("127.0.0.1", free_port())
    whatsapp = WhatsAppStub()
    whatsapp.start()
    notify = NotifySettings(
        public_base_url="http://kawal.test",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        whatsapp_api_url=whatsapp.url,
        whatsapp_token="token-uji",
        whatsapp_phone_number_id="1055",
        quiet_hours="off",
        backoff_base=0.05,
        backoff_cap=0.2,
        max_attempts=3,
        sender_interval=0.05,
    )
    fu = followup_app.extensions["followup"]
    settings = fu.settings
    cipher = ContactCipher.from_env()
    channels, skipped = configured_channels(notify)
    assert sorted(channels) == ["email", "whatsapp"] and skipped == [
        "sms: SMS_GATEWAY_URL, SMS_TOKEN not set"
    ]
    intake_client = IntakeNotifyRequests(intake_server.url, cipher)
    sender = Sender(fu.engine, cipher, channels, notify, intake=intake_client)
    handler = NotifyOnCaseEvents(cipher, notify, intake_client)
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=run_relay,
            args=(settings, fu.engine, followup_metadata, settings.topic(CASE_EVENTS), stop),
        ),
        threading.Thread(
            target=run_consumer,
            args=(
                settings,
                fu.engine,
                followup_metadata,
                [settings.topic(CASE_EVENTS)],
                notifier_group(settings),
                handler,
                stop,
            ),
        ),
        threading.Thread(target=sender.run, args=(stop,)),
    ]
    with pipeline_running(intake_app, followup_app):
        for thread in threads:
            thread.start()
        try:
            yield Chain(
                intake=Intake(intake_app, intake_app.config["SETTINGS"]),
                followup_app=followup_app,
                fu=fu,
                smtp=smtp,
                whatsapp=whatsapp,
                sender=sender,
                followup_client=followup_app.test_client(),
            )
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            smtp.stop()
            whatsapp.server.shutdown()
            intake_server.stop()


def _record(chain: Chain, notify: dict | None, **overrides) -> tuple[str, str]:
    body = aspiration_body(1, **overrides)
    if notify is not None:
        body["notify"] = notify
    meeting_id = chain.intake.meeting()
    answer = chain.intake.post(
        f"/api/v1/meetings/{meeting_id}/aspirations", {"aspirations": [body]}
    )
    assert answer.status_code == 201, answer.json
    return body["id"], answer.json["items"][0]["tracking_code"]


def _liaison(chain: Chain, agency: str) -> dict:
    token = chain.followup_app.extensions["tokens"].issue(
        f"liaison-{agency}", "liaison", agency=agency
    )
    return {"Authorization": f"Bearer {token}"}


def _command(chain: Chain, case_id: str, command: str, headers: dict, **body):
    answer = chain.followup_client.post(
        f"/api/v1/cases/{case_id}/{command}", json=body, headers=headers
    )
    assert answer.status_code == 200, answer.json
    return answer.json


def test_resident_hears_each_step_once_by_email_when_the_officer_logged_consent(chain):
    aspiration_id, code = _record(chain, {"email": EMAIL, "channel": "email", "language": "id"})
    routed = wait_for(lambda: chain.mail_for(code), what="the routed message")
    case = chain.case_of(aspiration_id)
    assert f"diteruskan ke {case.agency_name}" in routed[0].get_content()
    assert routed[0]["To"] == EMAIL and routed[0]["List-Unsubscribe"]
    liaison = _liaison(chain, case.agency_id)
    _command(chain, case.case_id, "acknowledge", liaison)
    wait_for(lambda: len(chain.mail_for(code)) == 2, what="the acknowledgement")
    _command(chain, case.case_id, "progress", liaison, text="Tim survei dijadwalkan", public=True)
    _command(chain, case.case_id, "progress", liaison, text="catatan internal", public=False)
    _command(chain, case.case_id, "resolve", liaison, resolution="Lampu PJU diganti")
    wait_for(lambda: len(chain.mail_for(code)) == 4, what="progress and resolution")
    bodies = [m.get_content() for m in chain.mail_for(code)]
    assert "diterima oleh" in bodies[1] and "Tim survei dijadwalkan" in bodies[2]
    assert not any("catatan internal" in b for b in bodies)
    resolution = bodies[3]
    assert "Lampu PJU diganti" in resolution and "/kabar/" in resolution
    dispute_link = next(w for w in resolution.split() if w.endswith("/bantah"))
    path = dispute_link.removeprefix("http://kawal.test")
    # following the dispute link reopens the case, as /lacak/<code>/bantah does
    client = chain.followup_app.test_client()
    form = client.get(path)
    assert form.status_code == 200
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(path, data={"csrf_token": csrf, "reason": "Lampu masih mati"})
    assert answer.status_code == 302 and "bantah=ok" in answer.headers["Location"]
    wait_for(lambda: len(chain.mail_for(code)) == 5, what="the reopened message")
    assert "dibuka kembali" in chain.mail_for(code)[4].get_content()
    assert chain.case_of(aspiration_id).status != "resolved_pending_verification"
    # each (event, subscriber) once: distinct Message-IDs, no repeats
    ids = [m["Message-ID"] for m in chain.mail_for(code)]
    assert len(ids) == len(set(ids)) == 5
    # the contact went from intake's private table to follow-up's store, sealed in both
    with chain.intake.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notify_requests")).scalar() == 0
    with chain.fu.engine.connect() as conn:
        dump = " ".join(
            str(row)
            for table in ("notify_subscriptions", "notification_outbox", "events", "outbox")
            for row in conn.execute(text(f"SELECT * FROM {table}")).all()
        )
    assert EMAIL not in dump and "bu.sri" not in dump
    topics = [chain.intake.topic, chain.fu.settings.topic(CASE_EVENTS)]
    for topic in topics:
        for record in read_topic(chain.fu.settings.kafka_bootstrap_servers, topic, 1, 5):
            assert b"bu.sri" not in record.value and b"notify" not in (record.value or b"")
    # one step to unsubscribe: the link in every email
    unsubscribe = chain.mail_for(code)[0]["List-Unsubscribe"].strip("<>")
    page = client.get(unsubscribe.removeprefix("http://kawal.test"))
    assert page.status_code == 200 and code in page.text
    with chain.fu.engine.connect() as conn:
        assert store.subscriber_count(conn, case.case_id) == 0


def _count(metric, channel: str) -> float:
    return metric.labels(channel=channel)._value.get()


def test_whatsapp_message_goes_once_after_a_429_and_a_401_is_dead_lettered_until_replayed(chain):
    before = {m: _count(m, "whatsapp") for m in (SENT, FAILED, RETRIED, DEAD_LETTERED)}
    chain.whatsapp.answers.append(THROTTLED)
    aspiration_id, code = _record(chain, {"phone": PHONE, "channel": "whatsapp", "language": "en"})
    wait_for(lambda: chain.whatsapp.requests and len(chain.whatsapp.requests) == 2, what="retry")
    first, second = chain.whatsapp.requests
    assert first == second and first["path"] == "/1055/messages"
    assert first["auth"] == "Bearer token-uji" and first["type"] == "template"
    assert first["to"] == "6281244779931" and first["template"]["language"] == {"code": "en"}
    assert "forwarded to" in first["template"]["components"][0]["parameters"][1]["text"]
    case = chain.case_of(aspiration_id)
    chain.whatsapp.answers.append(BAD_TOKEN)
    _command(chain, case.case_id, "acknowledge", _liaison(chain, case.agency_id))

    def dead():
        with chain.fu.engine.connect() as conn:
            return store.dead_letters(conn)

    [letter] = wait_for(dead, what="a dead letter")
    assert letter["channel"] == "whatsapp" and letter["last_error"] == "HTTP 401 code 190"
    assert PHONE not in json.dumps(letter, default=str)
    assert len(chain.whatsapp.requests) == 3  # a bad token is not retried
    # an admin sees it on /admin/kabar (no address) and replays it there
    assert chain.followup_app.test_client().get("/admin/kabar").status_code == 302  # sign in
    make_account(chain.followup_app, "ayu", "admin")
    admin = chain.followup_app.test_client()
    assert sign_in(admin, "ayu").status_code == 302
    page = admin.get("/admin/kabar")
    assert (
        page.status_code == 200 and "HTTP 401 code 190" in page.text and case.case_id in page.text
    )
    assert "4477" not in page.text
    replayed = admin.post(
        "/admin/kabar",
        data={
            "csrf_token": csrf_of(admin, "/admin/kabar"),
            "key": f"{letter['event_id']}:{letter['subscription_id']}",
        },
    )
    assert replayed.status_code == 302 and "diulang=1" in replayed.headers["Location"]
    wait_for(lambda: len(chain.whatsapp.requests) == 4, what="the replayed message")
    wait_for(lambda: not dead(), what="the dead letter cleared")
    # counted once the provider's answer is marked (just after the stub saw the request)
    wait_for(lambda: _count(SENT, "whatsapp") - before[SENT] == 2, what="the second send counted")
    counted = {m: _count(m, "whatsapp") - before[m] for m in before}
    assert counted == {SENT: 2, FAILED: 2, RETRIED: 1, DEAD_LETTERED: 1}
    [family] = QueueAgeCollector(chain.fu.engine).collect()
    assert {s.labels["channel"] for s in family.samples} == {"email", "whatsapp", "sms"}
    # STOP: an operator erases the number's subscriptions (the number on stdin)
    env = {**os.environ, "FOLLOWUP_DATABASE_URL": chain.fu.settings.database_url}
    stopped = subprocess.run(
        [sys.executable, "-m", "followup_service.cli", "notifications", "stop"]
        + ["--channel", "whatsapp"],
        input="0812 4477 9931\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stopped.returncode == 0 and "erased 1 subscriptions" in stopped.stdout, stopped.stderr
    with chain.fu.engine.connect() as conn:
        assert store.subscriber_count(conn, case.case_id) == 0


def test_contact_is_erased_when_the_retention_after_closing_passed(chain):
    aspiration_id, code = _record(chain, {"email": EMAIL, "channel": "email"})
    wait_for(lambda: chain.mail_for(code), what="the routed message")
    case = chain.case_of(aspiration_id)
    with chain.fu.engine.connect() as conn:
        assert store.subscriber_count(conn, case.case_id) == 1
    admin = chain.followup_app.extensions["tokens"].issue("sup", "supervisor", area="national")
    closed = chain.followup_client.post(
        f"/api/v1/cases/{case.case_id}/close",
        json={"outcome": "no_further_action", "reason": "uji"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert closed.status_code == 200, closed.json
    wait_for(lambda: len(chain.mail_for(code)) == 2, what="the closed message")
    assert "ditutup" in chain.mail_for(code)[1].get_content()
    with chain.fu.engine.connect() as conn:
        erase_after = conn.execute(
            select(store.SUBSCRIPTIONS.c.erase_after).where(
                store.SUBSCRIPTIONS.c.case_id == case.case_id
            )
        ).scalar_one()
    assert erase_after is not None
    # a request intake kept because no case took it (here: written by hand, 31 days old)
    stale = ContactCipher.from_env().seal({"address": EMAIL, "channel": "email"})
    with chain.intake.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO notify_requests VALUES (:a, :s, now() - interval '31 days'), "
                "(:b, :s, now())"
            ),
            {"a": str(uuid.uuid4()), "b": str(uuid.uuid4()), "s": stale},
        )
    chain.sender.clock = lambda: erase_after
    assert chain.sender.erase_expired() == 1
    with chain.intake.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notify_requests")).scalar() == 1
    with chain.fu.engine.connect() as conn:
        assert store.subscriber_count(conn, case.case_id) == 0
        outbox = conn.execute(
            select(store.OUTBOX).where(store.OUTBOX.c.case_id == case.case_id)
        ).all()
    assert outbox == []


def test_feeds_list_public_cases_of_the_area_and_one_case_timeline_never_a_sensitive_one(chain):
    public_id, public_code = _record(chain, None)
    tip_id, tip_code = _record(
        chain, None, category="tawuran", confidential=True, public_summary="Potensi tawuran"
    )
    wait_for(lambda: chain.case_of(public_id) and chain.case_of(tip_id), what="both cases")
    wait_for(lambda: chain.case_of(public_id).status == "routed", what="routing")
    region = chain.case_of(public_id).region
    kabupaten = region.replace(".", "")[:4]
    client = chain.followup_app.test_client()
    answer = client.get(f"/wilayah/{kabupaten}.atom")
    assert answer.status_code == 200 and answer.content_type.startswith("application/atom+xml")
    feed = feedparser.parse(answer.data)
    links = [entry.link for entry in feed.entries]
    assert any(public_code in link for link in links)
    assert not any(tip_code in link for link in links)
    case_feed = feedparser.parse(client.get(f"/lacak/{public_code}.atom").data)
    titles = [entry.title for entry in case_feed.entries]
    assert "Aspirasi dicatat" in titles and any(t.startswith("Diteruskan ke") for t in titles)
    assert client.get("/wilayah/12.atom").status_code == 404
    assert client.get("/lacak/KA-0000-00.atom").status_code == 404


def test_lacak_subscription_needs_the_code_sent_to_the_address(chain):
    aspiration_id, code = _record(chain, None)
    wait_for(lambda: chain.case_of(aspiration_id), what="the case")
    client = chain.followup_app.test_client()
    form = client.get(f"/lacak/{code}/langganan")
    assert form.status_code == 200
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    other = "tetangga-5521@example.org"
    sent = client.post(
        f"/lacak/{code}/langganan",
        data={"csrf_token": csrf, "channel": "email", "email": other, "language": "id"},
    )
    assert sent.status_code == 200 and other not in sent.text
    confirm_path = sent.text.split('id="confirm"')[0].rsplit('action="', 1)[1].split('"')[0]
    message = wait_for(lambda: chain.mail_for(code), what="the code")[0]
    one_time = message.get_content().split(": ")[1][:6]
    wrong = client.post(
        confirm_path,
        data={"csrf_token": csrf, "code": "000000" if one_time != "000000" else "111111"},
    )
    assert wrong.status_code == 400
    right = client.post(confirm_path, data={"csrf_token": csrf, "code": one_time})
    assert right.status_code == 200
    with chain.fu.engine.connect() as conn:
        assert store.subscriber_count(conn, chain.case_of(aspiration_id).case_id) == 1
    for _ in range(3):  # per address: three codes a day, then 429
        client.post(
            f"/lacak/{code}/langganan",
            data={"csrf_token": csrf, "channel": "email", "email": other},
        )
    limited = client.post(
        f"/lacak/{code}/langganan", data={"csrf_token": csrf, "channel": "email", "email": other}
    )
    assert limited.status_code == 429
    # the codes' messages (and the contacts they were sent to) are gone a day later
    from datetime import timedelta

    with chain.fu.engine.begin() as conn:
        store.erase_due(conn, chain.fu.clock() + timedelta(days=1, minutes=1))
        left = conn.execute(
            select(store.OUTBOX).where(store.OUTBOX.c.subscription_id == store.CODE_MESSAGE)
        ).all()
    assert left == []


def test_intake_refuses_a_bad_notify_and_its_private_door_needs_the_key(chain):
    body = aspiration_body(2, notify={"channel": "whatsapp", "email": EMAIL})
    meeting_id = chain.intake.meeting()
    answer = chain.intake.post(
        f"/api/v1/meetings/{meeting_id}/aspirations", {"aspirations": [body]}
    )
    assert answer.status_code == 422 and "phone" in json.dumps(answer.json)
    client = chain.intake.client
    assert client.get(f"/internal/v1/notify-requests/{uuid.uuid4()}").status_code == 401
    forged = ContactCipher("B" * 43 + "=").proof()
    headers = {"Authorization": f"Notifier {forged}"}
    assert (
        client.get(f"/internal/v1/notify-requests/{uuid.uuid4()}", headers=headers).status_code
        == 401
    )
    assert client.delete("/internal/v1/stale-notify-requests?older_than_days=1").status_code == 401
    good = {"Authorization": f"Notifier {ContactCipher.from_env().proof()}"}
    bad_days = client.delete("/internal/v1/stale-notify-requests?older_than_days=x", headers=good)
    assert bad_days.status_code == 400 and "older_than_days" in bad_days.json["error"]
    assert (
        client.get(f"/internal/v1/notify-requests/{uuid.uuid4()}", headers=good).status_code == 404
    )


def test_migrations_make_the_notification_tables_tables_py_defines(make_settings):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from intake_service.tables import metadata as intake_metadata
    from shared.db import make_engine

    names = (
        "notify_requests",
        "notify_subscriptions",
        "notify_confirmations",
        "notification_outbox",
    )
    for service, metadata in (("intake", intake_metadata), ("followup", followup_metadata)):
        engine = make_engine(make_settings(service).database_url)
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        engine.dispose()
        assert [d for d in diffs if any(name in repr(d) for name in names)] == []


def test_open311_requester_who_asks_for_updates_has_the_contact_kept_sealed(make_settings):
    from tests.integration.test_open311_requests import (
        CONTACT,
        create_followup,
        create_intake,
        issue_key,
        request_form,
    )

    prefix = f"t{uuid.uuid4().hex[:10]}"
    followup = create_followup(make_settings("followup", redis_key_prefix=prefix))
    intake = create_intake(make_settings("intake", redis_key_prefix=prefix))
    api_key = issue_key(followup)
    client = intake.test_client()
    lacking = client.post(
        "/open311/v2/requests.json", data=request_form(api_key, notify="sms", phone=None)
    )
    assert lacking.status_code == 400 and "notify" in lacking.get_data(as_text=True)
    filed = client.post(
        "/open311/v2/requests.json",
        data=request_form(api_key, notify="email", notify_language="en"),
    )
    assert filed.status_code == 201, filed.get_data(as_text=True)
    with intake.extensions["intake"].engine.connect() as conn:
        [sealed] = conn.execute(text("SELECT sealed_contact FROM notify_requests")).scalars()
    assert CONTACT["email"] not in sealed
    assert ContactCipher.from_env().open(sealed) == {
        "address": CONTACT["email"],
        "channel": "email",
        "language": "en",
    }


class GatewayStub(WhatsAppStub):
    """The generic SMS gateway's documented answers: 2xx sent; {"error": {...}} else."""


def _outbox_sender(make_settings, channel_name: str, notify: NotifySettings, channel, address):
    """A sender over a fresh follow-up database holding one message for `address`. These
    tests are about answers and retries and run at any hour: quiet hours are off here
    (they have their own test, test_whatsapp_and_sms_wait_out_the_quiet_hours...)."""
    import dataclasses

    from followup_service.bootstrap import system_clock
    from shared.db import make_engine

    notify = dataclasses.replace(notify, quiet_hours="off")

    engine = make_engine(make_settings("followup").database_url)
    cipher = ContactCipher.from_env()
    sealed = cipher.seal({"address": address, "channel": channel_name, "language": "id"})
    sub = store.Subscription(str(uuid.uuid4()), "case-x", channel_name, "id", sealed, "tok")
    row = store.outbox_row(
        event_id=str(uuid.uuid4()),
        subscription=sub,
        event_type="CaseRouted",
        subject="[KA-AAAA-AA] Diteruskan",
        body="Aspirasi Anda KA-AAAA-AA diteruskan ke Dinas PUPR.",
        now=system_clock(),
    )
    with engine.begin() as conn:
        store.enqueue(conn, [row])
    return engine, Sender(engine, cipher, {channel_name: channel}, notify)


def _drain(sender: Sender, rounds: int = 20) -> None:
    """Send until nothing is due, moving the sender's clock past every backoff."""
    from datetime import timedelta

    now = sender.clock()
    for n in range(rounds):
        sender.clock = lambda n=n: now + timedelta(seconds=10 * (n + 1))
        sender.send_once()


def _status(engine) -> tuple:
    with engine.connect() as conn:
        row = conn.execute(select(store.OUTBOX.c.status, store.OUTBOX.c.attempts)).one()
    return tuple(row)


def test_sms_gateway_5xx_is_retried_then_dead_lettered_and_a_2xx_sends(make_settings):
    from followup_service.notifications.channels import SmsChannel

    gateway = GatewayStub()
    gateway.start()
    unavailable = (503, {"error": {"code": "unavailable", "message": "try later"}}, {})
    gateway.answers.extend([unavailable] * 3)
    notify = NotifySettings(
        sms_gateway_url=f"{gateway.url}/v1/messages", sms_token="sms-uji", max_attempts=3
    )
    engine, sender = _outbox_sender(make_settings, "sms", notify, SmsChannel(notify), PHONE)
    try:
        _drain(sender)
        assert _status(engine) == ("dead", 3) and len(gateway.requests) == 3
        first = gateway.requests[0]
        assert first["path"] == "/v1/messages" and first["auth"] == "Bearer sms-uji"
        assert first["to"] == "+6281244779931" and first["from"] == "KAWAL"
        assert first["text"].startswith("Aspirasi Anda KA-AAAA-AA diteruskan")
        with engine.begin() as conn:
            store.replay_dead(conn, sender.clock(), None)
        _drain(sender)
        assert _status(engine) == ("sent", 1) and len(gateway.requests) == 4
    finally:
        gateway.server.shutdown()
        engine.dispose()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_logs_in_to_a_server_that_requires_auth_when_configured(make_settings):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from followup_service.notifications.channels import EmailChannel

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"kabar" and auth_data.password == b"rahasia"
        return AuthResult(success=ok)

    sink = smtp_sink.MailSink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        wrong = NotifySettings(smtp_host="127.0.0.1", smtp_port=port, max_attempts=2)
        engine, sender = _outbox_sender(make_settings, "email", wrong, EmailChannel(wrong), EMAIL)
        _drain(sender)
        assert _status(engine) == ("dead", 1) and sink.messages == []  # 530: permanent
        engine.dispose()
        right = replace(wrong, smtp_user="kabar", smtp_password="rahasia")
        engine, sender = _outbox_sender(make_settings, "email", right, EmailChannel(right), EMAIL)
        _drain(sender)
        assert _status(engine) == ("sent", 1) and [m["To"] for m in sink.messages] == [EMAIL]
        engine.dispose()
    finally:
        controller.stop()


def test_whatsapp_and_sms_wait_out_the_quiet_hours_and_email_does_not():
    from datetime import UTC, datetime

    notify = NotifySettings(quiet_hours="21:00-06:00")
    sender = Sender(None, None, {"email": None, "whatsapp": None, "sms": None}, notify)
    night = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # 23:00 WIB
    day = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # 10:00 WIB
    assert sender.open_channels(night) == ["email"]
    assert sender.open_channels(day) == ["email", "whatsapp", "sms"]


def _self_signed(directory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key (PEM files), made with `cryptography`."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.pem", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_email_goes_over_starttls_when_the_server_requires_it(make_settings, tmp_path):
    import ssl

    from aiosmtpd.controller import Controller

    from followup_service.notifications.channels import EmailChannel

    cert, key = _self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    sink = smtp_sink.MailSink()
    port = free_port()
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=True
    )
    controller.start()
    try:
        plain = NotifySettings(smtp_host="127.0.0.1", smtp_port=port, max_attempts=1)
        engine, sender = _outbox_sender(make_settings, "email", plain, EmailChannel(plain), EMAIL)
        _drain(sender)
        assert _status(engine)[0] == "dead" and sink.messages == []  # 530: STARTTLS first
        engine.dispose()
        secured = replace(plain, smtp_starttls=True, smtp_ca_file=cert)
        channel = EmailChannel(secured)
        engine, sender = _outbox_sender(make_settings, "email", secured, channel, EMAIL)
        _drain(sender)
        assert _status(engine) == ("sent", 1) and [m["To"] for m in sink.messages] == [EMAIL]
        engine.dispose()
    finally:
        controller.stop()


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ((401, {"error": {"code": "unauthorized", "message": "bad token"}}, {}), ("dead", 1)),
        ((429, {"error": {"code": "rate_limited"}}, {"Retry-After": "5"}), ("sent", 2)),
        ((500, {}, {}), ("sent", 2)),
    ],
)
def test_sms_gateway_401_is_given_up_at_once_and_429_or_5xx_is_tried_again(
    make_settings, answer, status
):
    from followup_service.notifications.channels import SmsChannel

    gateway = GatewayStub()
    gateway.start()
    gateway.answers.append(answer)
    notify = NotifySettings(sms_gateway_url=gateway.url, sms_token="t", max_attempts=3)
    engine, sender = _outbox_sender(make_settings, "sms", notify, SmsChannel(notify), PHONE)
    try:
        _drain(sender)
        assert _status(engine) == status
        if answer[0] == 401:
            with engine.connect() as conn:
                [letter] = store.dead_letters(conn)
            assert letter["last_error"] == "HTTP 401 code unauthorized"
    finally:
        gateway.server.shutdown()
        engine.dispose()


def test_a_slow_provider_makes_the_sender_give_back_what_it_could_not_try_in_its_lease(
    make_settings,
):
    from datetime import timedelta

    from followup_service.notifications.channels import Channel

    class SlowChannel(Channel):
        name = "email"

        def __init__(self):
            self.sent = []

        def send(self, address, outgoing):
            self.sent.append(outgoing.message_id)
            moments.append(moments[-1] + timedelta(seconds=20))  # each send takes 20 s

    moments = []
    notify = NotifySettings(lease_seconds=30)
    channel = SlowChannel()
    engine, sender = _outbox_sender(make_settings, "email", notify, channel, EMAIL)
    with engine.begin() as conn:  # a second message for the same sender
        row = conn.execute(select(store.OUTBOX)).one()._asdict()
        store.enqueue(conn, [{**row, "event_id": str(uuid.uuid4()), "status": "pending"}])
    moments.append(sender.clock())
    sender.clock = lambda: moments[-1]
    assert sender.send_once() == 1  # the second one's turn came after half the lease
    with engine.connect() as conn:
        statuses = sorted(
            conn.execute(select(store.OUTBOX.c.status, store.OUTBOX.c.attempts)).all()
        )
    assert [tuple(s) for s in statuses] == [("pending", 0), ("sent", 1)]
    engine.dispose()
