"""Fixtures for the follow-up service against the real PostgreSQL, Redis and Kafka."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from followup_service.app import create_app
from followup_service.cli import CONSUMER_GROUP
from followup_service.consumers import make_intake_event_handler
from followup_service.domain.deadlines import JAKARTA
from followup_service.tables import metadata
from shared.events.envelope import EventEnvelope
from shared.events.topics import CASE_EVENTS, INTAKE_EVENTS
from shared.eventstore.kafka_io import ensure_topics, make_producer
from shared.processes import run_consumer, run_relay
from shared.tracking_code import new_tracking_code

# The morning after the Cikande ngariung (a Thursday).
T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)


class MovableClock:
    """The injected clock: tests move time instead of waiting for it."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def aspiration_recorded(
    category: str = "street_lighting",
    *,
    kabupaten: str = "Kab. Serang",
    kecamatan: str = "Cikande",
    kelurahan: str = "Cikande",
    description: str = "Dilaporkan Pak Otong (HP 0812-3456-7890): lampu mati, rawan begal.",
    confidential: bool = False,
    urgency: str = "normal",
    summary: str = "PJU mati di Jalan Raya Cikande",
    backing_count: int = 0,
) -> EventEnvelope:
    """An AspirationRecorded v2 event as the intake service publishes it."""
    aspiration_id = str(uuid.uuid4())
    payload = {
        "aspiration_id": aspiration_id,
        "meeting_id": str(uuid.uuid4()),
        "tracking_code": new_tracking_code(),
        "category": category,
        "summary": summary,
        "public_summary": summary,
        "description": description,
        "kelurahan": kelurahan,
        "location": {"kabupaten": kabupaten, "kecamatan": kecamatan, "kelurahan": kelurahan},
        "urgency": urgency,
        "confidential": confidential,
        "unit": "Polsek Cikande",
        "backing_count": backing_count,
    }
    return intake_event("AspirationRecorded", 2, aspiration_id, payload)


def intake_event(event_type: str, version: int, aspiration_id: str, payload: dict, seq: int = 1):
    now = datetime.now(UTC)
    return EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        schema_version=version,
        stream_id=f"aspiration-{aspiration_id}",
        stream_version=seq,
        occurred_at=now,
        recorded_at=now,
        payload=payload,
    )


class Service:
    """The app, its test client, its adapters and the moved clock, plus token helpers."""

    def __init__(self, settings):
        self.settings = settings
        self.app = create_app(settings)
        self.client = self.app.test_client()
        self.fu = self.app.extensions["followup"]
        self.clock = MovableClock()
        self.fu.clock = self.clock
        self.tokens = self.app.extensions["tokens"]

    def auth(self, role: str, **claims) -> dict:
        token = self.tokens.issue(f"{role}-{uuid.uuid4().hex[:6]}", role, **claims)
        return {"Authorization": f"Bearer {token}"}

    def record(self, envelope: EventEnvelope) -> str:
        """Hand an intake event to the consumer's handler in one transaction (no Kafka)."""
        handler = make_intake_event_handler(self.fu)
        with self.fu.engine.begin() as conn:
            handler(conn, envelope)
        handler.after_commit()  # as the consumer runner does once the poll committed
        return f"case-{envelope.payload['aspiration_id']}"

    def open(self, category: str = "street_lighting", **kwargs) -> dict:
        case_id = self.record(aspiration_recorded(category, **kwargs))
        return self.client.get(f"/api/v1/cases/{case_id}", headers=self.supervisor).json

    @property
    def supervisor(self) -> dict:
        """Headquarters: a supervisor with the national area (shared.need_to_know)."""
        return self.auth("supervisor", area="national")

    def liaison(self, agency: str) -> dict:
        return self.auth("liaison", agency=agency)

    def officer(self, unit: str = "polsek-cikande") -> dict:
        return self.auth("officer", unit=unit)

    def post(self, case_id: str, command: str, headers: dict, **body):
        return self.client.post(f"/api/v1/cases/{case_id}/{command}", json=body, headers=headers)


@pytest.fixture
def followup(make_settings) -> Service:
    return Service(make_settings("followup"))


@pytest.fixture
def pipeline(followup):
    """The consumer (intake topic -> cases) and the relay (case events -> Kafka) running."""
    settings, fu = followup.settings, followup.fu
    intake_topic = settings.topic(INTAKE_EVENTS)
    ensure_topics(settings.kafka_bootstrap_servers, [intake_topic])
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=run_consumer,
            args=(
                settings,
                fu.engine,
                metadata,
                [intake_topic],
                f"{settings.topic_prefix}.{CONSUMER_GROUP}",
                make_intake_event_handler(fu),
                stop,
            ),
        ),
        threading.Thread(
            target=run_relay,
            args=(settings, fu.engine, metadata, settings.topic(CASE_EVENTS), stop),
        ),
    ]
    for thread in threads:
        thread.start()
    producer = make_producer(settings.kafka_bootstrap_servers)

    def publish(envelope: EventEnvelope) -> None:
        producer.send(intake_topic, key=envelope.stream_id.encode(), value=envelope.to_wire()).get(
            timeout=30
        )

    yield publish
    producer.close(timeout=5)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
