"""Fixtures for the intake service against the real stack: app, tokens, relay, topic reader."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from intake_service.app import create_app
from intake_service.tables import metadata
from shared.events.envelope import EventEnvelope
from shared.events.topics import INTAKE_EVENTS
from shared.processes import run_relay
from tests.support import read_topic

UNIT = "Polsek Bekasi Selatan"
OTHER_UNIT = "Polsek Menteng"


def meeting_body(**overrides) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "kind": "ngopi_kamtibmas",
        "held_at": "2024-10-06T20:00:00+07:00",
        "unit": UNIT,
        "place": {
            "polsek": UNIT,
            "kabupaten": "Kota Bekasi",
            "kecamatan": "Bekasi Selatan",
            "kelurahan": "Pekayon Jaya",
            "rw": "18",
        },
        "host_officer": "Kompol Untung Riswaji",
        "partners": ["Lurah Pekayon Jaya", "Babinsa"],
        "attendee_count": 60,
        **overrides,
    }


def aspiration_body(n: int = 0, **overrides) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "category": "street_lighting",
        "summary": f"PJU mati di gang {n}",
        "public_summary": f"Lampu jalan mati di gang {n}.",
        "description": "Lampu jalan mati sejak dua minggu.",
        **overrides,
    }


class Intake:
    """The app under test plus helpers to call it as someone."""

    def __init__(self, app, settings):
        self.app, self.settings = app, settings
        self.client = app.test_client()
        self.tokens = app.extensions["tokens"]
        self.engine = app.extensions["intake"].engine
        self.topic = settings.topic(INTAKE_EVENTS)

    def headers(self, role: str = "officer", unit: str | None = UNIT, **extra) -> dict:
        """A token of the role; a supervisor is bound to `unit` (national without one),
        an admin has the national area (shared.need_to_know)."""
        kwargs = {"unit": unit} if role == "officer" else {}
        if role == "supervisor":
            kwargs = {"unit": unit} if unit else {"area": "national"}
        if role == "admin":
            kwargs = {"area": "national"}
        if role == "liaison":
            kwargs = {"agency": "dishub"}
        subject = f"{role}-{unit or 'all'}".lower().replace(" ", "-")
        token = self.tokens.issue(subject, role, **kwargs)
        return {"Authorization": f"Bearer {token}", **extra}

    def post(self, path: str, body, as_role="officer", as_unit=UNIT, key: str | None = None):
        headers = self.headers(as_role, as_unit)
        if key:
            headers["Idempotency-Key"] = key
        return self.client.post(path, json=body, headers=headers)

    def get(self, path: str, as_role="officer", as_unit=UNIT, **params):
        return self.client.get(path, query_string=params, headers=self.headers(as_role, as_unit))

    def meeting(self, **overrides) -> str:
        response = self.post("/api/v1/meetings", meeting_body(**overrides))
        assert response.status_code == 201, response.json
        return response.json["id"]

    def count(self, table: str = "events") -> int:
        with self.engine.connect() as conn:
            t = metadata.tables[table]
            return conn.execute(select(func.count()).select_from(t)).scalar_one()

    def kafka_events(self, expected: int, timeout: float = 30.0) -> list[tuple]:
        """(record, envelope) pairs read from the topic from the beginning."""
        records = read_topic(self.settings.kafka_bootstrap_servers, self.topic, expected, timeout)
        return [(r, EventEnvelope.from_wire(r.value)) for r in records]


@pytest.fixture
def intake(make_settings) -> Intake:
    settings = make_settings("intake")
    return Intake(create_app(settings), settings)


@pytest.fixture
def relay(intake):
    """The outbox relay running in a thread, publishing to the test's topic."""
    stop = threading.Event()
    engine = intake.app.extensions["intake"].engine
    thread = threading.Thread(
        target=run_relay, args=(intake.settings, engine, metadata, intake.topic, stop)
    )
    thread.start()
    yield intake
    stop.set()
    thread.join(timeout=30)
