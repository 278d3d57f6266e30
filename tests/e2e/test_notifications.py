"""Issue 24, done when: residents hear back, on real processes (gunicorn APIs, relays,
consumer, `followup_service.cli notifier`), a real SMTP server (aiosmtpd) and a local
server answering as the WhatsApp Cloud API documents.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import feedparser
import pytest
import requests
from sqlalchemy import create_engine, text

from followup_service.notifications import smtp_sink
from shared.auth import Tokens
from shared.events.topics import CASE_EVENTS, INTAKE_EVENTS, dead_letter
from tests.integration.test_notifications import THROTTLED, WhatsAppStub, free_port
from tests.support import REPO_ROOT, process_env, read_topic, wait_for

pytestmark = pytest.mark.e2e
VENV_BIN = os.path.dirname(sys.executable)
EMAIL = "ibu.ratna-e2e-4471@example.org"
BURST_EMAIL = "pak.dodi-e2e-9035@example.org"
PHONE = "+62 813-9090-4417"
CONTACT_MARKS = ("ibu.ratna", "pak.dodi", "9090-4417", "6281390904417", "81390904417")


class System:
    def __init__(self, tmp_path, make_settings):
        self.intake = make_settings("intake")
        self.followup = make_settings("followup", topic_prefix=self.intake.topic_prefix)
        self.logs = tmp_path
        self.smtp = smtp_sink.start("127.0.0.1", free_port())
        self.whatsapp = WhatsAppStub()
        self.whatsapp.start()
        self.ports = {"intake": free_port(), "followup": free_port()}
        self.urls = {k: f"http://127.0.0.1:{p}" for k, p in self.ports.items()}
        self.env = {
            **process_env(self.intake, self.followup),
            "LOG_FORMAT": "json",
            "TRACKING_MISS_LIMIT": "100000/minute",
            "FOLLOWUP_INTAKE_URL": self.urls["intake"],
            "PUBLIC_BASE_URL": self.urls["followup"],
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp.port),
            "WHATSAPP_API_URL": self.whatsapp.url,
            "WHATSAPP_TOKEN": "token-e2e",
            "WHATSAPP_PHONE_NUMBER_ID": "2077",
            "NOTIFY_QUIET_HOURS": "off",
            "NOTIFY_BACKOFF_BASE": "0.2",
            "NOTIFY_LEASE_SECONDS": "3",
            "NOTIFY_RETENTION_DAYS": "0.0001",  # 8.6 s after closing, for the test
            "NOTIFY_ERASE_INTERVAL": "1",
        }
        self.processes: dict[str, subprocess.Popen] = {}
        gunicorn = [f"{VENV_BIN}/gunicorn", "-w", "2", "--threads", "4", "-b"]
        self.commands = {
            "intake-api": [
                *gunicorn,
                f"127.0.0.1:{self.ports['intake']}",
                "intake_service.app:create_app()",
            ],
            "followup-api": [
                *gunicorn,
                f"127.0.0.1:{self.ports['followup']}",
                "followup_service.app:create_app()",
            ],
            "intake-relay": [sys.executable, "-m", "intake_service.cli", "relay"],
            "followup-consumer": [sys.executable, "-m", "followup_service.cli", "consumer"],
            "followup-relay": [sys.executable, "-m", "followup_service.cli", "relay"],
            "notifier": [sys.executable, "-m", "followup_service.cli", "notifier"],
        }
        for name in self.commands:
            self.start(name)
        for url in self.urls.values():
            wait_for(lambda u=url: _ok(f"{u}/healthz"), what=url)
        tokens = Tokens(self.intake.jwt_secret, self.intake.jwt_issuer)
        self.officer = tokens.issue("e2e-officer", "officer", unit="Polsek Cikande")
        self.supervisor = tokens.issue("e2e-supervisor", "supervisor", area="national")
        self.tokens = tokens
        self.engine = create_engine(self.followup.database_url)
        self.intake_engine = create_engine(self.intake.database_url)

    def start(self, name: str) -> None:
        log = open(self.logs / f"{name}.log", "a")  # noqa: SIM115 - closed at stop
        self.processes[name] = subprocess.Popen(
            self.commands[name], env=self.env, cwd=REPO_ROOT, stdout=log, stderr=log
        )
        log.close()

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.smtp.stop()
        self.whatsapp.server.shutdown()
        self.engine.dispose()
        self.intake_engine.dispose()

    @property
    def mail(self) -> list:
        return list(self.smtp.sink.messages)

    def mail_for(self, code: str) -> list:
        return [m for m in self.mail if code in m["Subject"]]

    def record(self, notify: dict | None, **overrides) -> tuple[str, str]:
        body = {
            "id": str(uuid.uuid4()),
            "category": "street_lighting",
            "summary": "PJU mati di gang Kenari",
            "public_summary": "Lampu jalan mati di gang Kenari.",
            "location": {
                "kabupaten": "Kab. Serang",
                "kecamatan": "Cikande",
                "kelurahan": "Cikande",
            },
            **overrides,
        }
        if notify:
            body["notify"] = notify
        answer = requests.post(
            f"{self.urls['intake']}/api/v1/aspirations",
            json=body,
            headers={"Authorization": f"Bearer {self.officer}"},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"], answer.json()["tracking_code"]

    def case(self, aspiration_id: str):
        with self.engine.connect() as conn:
            return conn.execute(
                text("SELECT * FROM cases WHERE aspiration_id = :a"), {"a": aspiration_id}
            ).first()

    def command(self, case_id: str, command: str, token: str, **body) -> dict:
        answer = requests.post(
            f"{self.urls['followup']}/api/v1/cases/{case_id}/{command}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def liaison(self, agency: str) -> str:
        return self.tokens.issue(f"e2e-liaison-{agency}", "liaison", agency=agency)


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def system(tmp_path_factory, create_database, stack_env, migrated_template):
    from tests.conftest import _service_settings

    def make_settings(service, **overrides):
        return _service_settings(
            service, create_database, stack_env, migrated_template, **overrides
        )

    running = System(tmp_path_factory.mktemp("notifier-e2e"), make_settings)
    yield running
    running.stop()


def test_resident_hears_routing_acknowledgement_and_resolution_and_the_dispute_link_reopens(
    system,
):
    aspiration_id, code = system.record({"email": EMAIL, "channel": "email", "language": "id"})
    started = time.monotonic()
    [routed] = wait_for(lambda: system.mail_for(code), what="the routed message")
    routed_after = time.monotonic() - started
    case = system.case(aspiration_id)
    assert f"diteruskan ke {case.agency_name}" in routed.get_content()
    assert routed["To"] == EMAIL and routed_after < 15
    liaison = system.liaison(case.agency_id)
    system.command(case.case_id, "acknowledge", liaison)
    wait_for(lambda: len(system.mail_for(code)) == 2, what="the acknowledgement")
    assert "diterima oleh" in system.mail_for(code)[1].get_content()
    system.command(case.case_id, "resolve", liaison, resolution="Lampu PJU diganti")
    wait_for(lambda: len(system.mail_for(code)) == 3, what="the resolution")
    resolution = system.mail_for(code)[2].get_content()
    confirm = next(w for w in resolution.split() if w.endswith("/selesai"))
    dispute = next(w for w in resolution.split() if w.endswith("/bantah"))
    assert requests.get(confirm, timeout=10).status_code == 200
    form = requests.get(dispute, timeout=10)
    assert form.status_code == 200
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    # the cookie is Secure: a browser keeps it on http://127.0.0.1, requests does not
    cookie = "; ".join(f"{c.name}={c.value}" for c in form.cookies)
    answer = requests.post(
        dispute,
        data={"csrf_token": csrf, "reason": "Lampu masih mati"},
        headers={"Origin": system.urls["followup"], "Cookie": cookie},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302 and "bantah=ok" in answer.headers["Location"]
    wait_for(lambda: len(system.mail_for(code)) == 4, what="the reopened message")
    assert "dibuka kembali" in system.mail_for(code)[3].get_content()
    assert system.case(aspiration_id).status != "resolved_pending_verification"
    print(f"\nrouted message on the SMTP server {routed_after:.2f}s after the aspiration")


def test_each_message_arrives_once_when_the_notifier_is_killed_mid_burst(system):
    aspiration_id, code = system.record({"email": BURST_EMAIL})
    wait_for(lambda: system.mail_for(code), what="the routed message")
    case = system.case(aspiration_id)
    liaison = system.liaison(case.agency_id)
    system.command(case.case_id, "acknowledge", liaison)
    killed_at = None
    for n in range(200):
        system.command(case.case_id, "progress", liaison, text=f"Langkah {n:03d}", public=True)
        if killed_at is None and len(system.mail_for(code)) >= 40:
            system.processes["notifier"].send_signal(signal.SIGKILL)
            system.processes["notifier"].wait(timeout=10)
            killed_at = len(system.mail_for(code))
            system.start("notifier")
    if killed_at is None:  # the burst outran the notifier: kill it while it catches up
        wait_for(lambda: len(system.mail_for(code)) >= 40, what="messages before the kill")
        system.processes["notifier"].send_signal(signal.SIGKILL)
        system.processes["notifier"].wait(timeout=10)
        killed_at = len(system.mail_for(code))
        system.start("notifier")
    expected = 2 + 200  # routed, acknowledged, 200 progress notes
    wait_for(lambda: len(system.mail_for(code)) >= expected, timeout=90, what="every message")
    time.sleep(5)  # a lease of 3 s: a message the killed process claimed would be sent by now
    messages = system.mail_for(code)
    counts = Counter(m["Message-ID"] for m in messages)
    repeated = {k: v for k, v in counts.items() if v > 1}
    notes = sorted(
        m.get_content().split("Langkah ")[1][:3] for m in messages if "Langkah" in m.get_content()
    )
    print(f"\nkilled after {killed_at} messages; {len(messages)} received, repeats: {repeated}")
    assert sorted(set(notes)) == [f"{n:03d}" for n in range(200)]  # none lost
    # At most the one message the killed sender was handing to the SMTP server when it died
    # goes again (the server accepted it, the "sent" mark had not committed): with the same
    # Message-ID, so a mail client shows it once. Nothing else repeats (README, the window).
    assert sum(v - 1 for v in repeated.values()) <= 1, repeated
    assert len(counts) == expected


def test_whatsapp_message_goes_once_after_a_429_answer(system):
    before = len(system.whatsapp.requests)
    system.whatsapp.answers.append(THROTTLED)
    aspiration_id, code = system.record({"phone": PHONE, "channel": "whatsapp", "language": "id"})
    wait_for(lambda: len(system.whatsapp.requests) >= before + 2, what="the retry")
    time.sleep(2)
    sent = system.whatsapp.requests[before:]
    assert len(sent) == 2 and sent[0] == sent[1]
    assert sent[0]["template"]["components"][0]["parameters"][0]["text"] == code
    with system.engine.connect() as conn:
        status = conn.execute(
            text("SELECT status, attempts FROM notification_outbox WHERE channel = 'whatsapp'")
        ).all()
    assert [tuple(row) for row in status] == [("sent", 2)]


def test_feeds_carry_the_public_cases_of_the_kelurahan_and_of_one_case_never_a_sensitive_one(
    system,
):
    public_id, public_code = system.record(None)
    tip_id, tip_code = system.record(
        None, category="tawuran", confidential=True, public_summary="Potensi tawuran"
    )
    wait_for(lambda: system.case(public_id) and system.case(tip_id), what="both cases")
    wait_for(lambda: system.case(public_id).status == "routed", what="routing")
    region = system.case(public_id).region.replace(".", "")
    assert region == "3604152001"  # Cikande, Kec. Cikande, Kab. Serang
    kelurahan = feedparser.parse(f"{system.urls['followup']}/wilayah/{region}.atom")
    assert kelurahan.bozo == 0, kelurahan.bozo_exception
    links = " ".join(entry.link for entry in kelurahan.entries)
    assert public_code in links and tip_code not in links
    one = feedparser.parse(f"{system.urls['followup']}/lacak/{public_code}.atom")
    assert [e.title for e in one.entries][:1] and "Aspirasi dicatat" in [
        e.title for e in one.entries
    ]
    page = requests.get(f"{system.urls['followup']}/lacak/{public_code}", timeout=10).text
    assert f"/lacak/{public_code}.atom" in page


def test_contact_is_nowhere_it_must_not_be_and_gone_after_the_retention(system):
    # every Kafka topic of the run
    prefix = system.intake.topic_prefix
    topics = [f"{prefix}.{INTAKE_EVENTS}", f"{prefix}.{CASE_EVENTS}"]
    topics += [dead_letter(t) for t in topics]
    bootstrap = system.intake.kafka_bootstrap_servers
    for topic in topics:
        for record in read_topic(bootstrap, topic, 10**6, timeout=5):
            raw = (record.value or b"") + (record.key or b"")
            assert not any(mark.encode() in raw for mark in CONTACT_MARKS), topic
    # every log line of every process
    for name in system.commands:
        log = (system.logs / f"{name}.log").read_text()
        assert not any(mark in log for mark in CONTACT_MARKS), name
    # every public answer about the cases
    with system.engine.connect() as conn:
        codes = conn.execute(text("SELECT tracking_code, region FROM cases")).all()
    for code, region in codes:
        for path in (
            f"/lacak/{code}",
            f"/api/v1/track/{code}",
            f"/lacak/{code}.atom",
            f"/wilayah/{region.replace('.', '')}.atom",
        ):
            answer = requests.get(f"{system.urls['followup']}{path}", timeout=10)
            assert not any(mark in answer.text for mark in CONTACT_MARKS), path
    # the staff view shows how many follow a case, never who
    with system.engine.connect() as conn:
        case_id, count = conn.execute(
            text(
                "SELECT case_id, count(*) FROM notify_subscriptions GROUP BY case_id "
                "ORDER BY case_id LIMIT 1"
            )
        ).first()
    # the databases hold contacts sealed only
    for engine in (system.engine, system.intake_engine):
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            for table in list(tables):
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
                dump = json.dumps([list(map(str, row)) for row in rows])
                assert not any(mark in dump for mark in CONTACT_MARKS), table
    # after closing, the retention (8.6 s here) erases the contacts
    with system.engine.connect() as conn:
        open_cases = conn.execute(
            text(
                "SELECT DISTINCT s.case_id FROM notify_subscriptions s JOIN cases c "
                "USING (case_id) WHERE c.status <> 'closed'"
            )
        ).scalars()
        open_cases = list(open_cases)
    for case_id in open_cases:
        system.command(
            case_id, "close", system.supervisor, outcome="no_further_action", reason="uji e2e"
        )

    def erased() -> bool:
        with system.engine.connect() as conn:
            left = conn.execute(text("SELECT count(*) FROM notify_subscriptions")).scalar()
            sealed = conn.execute(
                text("SELECT count(*) FROM notification_outbox WHERE sealed_contact <> ''")
            ).scalar()
        return left == 0 and sealed == 0

    wait_for(erased, timeout=60, what="the contacts erased after the retention")
    assert count >= 1 and case_id
