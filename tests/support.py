"""Small helpers for tests against the real stack."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager

from kafka import KafkaConsumer

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def process_env(intake, followup) -> dict[str, str]:
    """The environment of real service processes for these two services' settings."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": intake.kafka_bootstrap_servers,
        "REDIS_URL": intake.redis_url,
        "TOPIC_PREFIX": intake.topic_prefix,
        "REDIS_KEY_PREFIX": intake.redis_key_prefix,
        "INTAKE_DATABASE_URL": intake.database_url,
        "FOLLOWUP_DATABASE_URL": followup.database_url,
    }


def wait_for(
    predicate,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
    diagnose=None,
):
    """Poll `predicate` until truthy; on timeout fail, with `diagnose()`'s account if given."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f" ({diagnose()})" if diagnose else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}")
        time.sleep(interval)


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30.0) -> list:
    """Read a topic from the beginning until `expected` records (or the timeout)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=1000,
    )
    records: list = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        # Give late duplicates a moment to show up, so tests can assert there are none.
        for batch in consumer.poll(timeout_ms=1000).values():
            records.extend(batch)
    finally:
        consumer.close()
    return records


class KafkaBroker:
    """Stops and starts the session's broker through the project's own script."""

    script = os.path.join(REPO_ROOT, "deploy", "kafka", "kafka.sh")

    def stop(self) -> None:
        subprocess.run([self.script, "stop"], check=True, capture_output=True)

    def start(self) -> None:
        subprocess.run([self.script, "start"], check=True, capture_output=True)


def probe_event(stream_id: str, n: int = 0):
    """A NewEvent of a test-only type, so store/relay tests don't depend on domain schemas."""
    from shared.events.envelope import NewEvent

    return NewEvent("ProbeRecorded", {"stream": stream_id, "n": n})


def _register_probe_event() -> None:
    from marshmallow import Schema, fields

    from shared.events.registry import REGISTRY

    @REGISTRY.event("ProbeRecorded", version=1)
    class ProbeRecordedV1(Schema):
        stream = fields.String(required=True)
        n = fields.Integer(required=True)


_register_probe_event()


class Pipeline:
    """The relay and consumer threads of `pipeline_running`, able to say where records are."""

    def __init__(self, intake, followup):
        self.intake, self.followup = intake, followup
        self.threads: list[threading.Thread] = []
        self.errors: list[str] = []

    def watched(self, target):
        def run(*args):
            try:
                target(*args)
            except BaseException as error:  # kept for describe(): a dead thread says why
                self.errors.append(f"{threading.current_thread().name}: {error!r}")
                raise

        return run

    def describe(self) -> str:
        """Thread liveness, the intake outbox's depth and follow-up's stored offsets."""
        from sqlalchemy import text

        alive = ", ".join(f"{t.name} alive={t.is_alive()}" for t in self.threads)
        with self.intake.engine.connect() as conn:
            outbox = conn.execute(text("SELECT count(*) FROM outbox")).scalar()
        with self.followup.engine.connect() as conn:
            offsets = conn.execute(
                text("SELECT topic, partition, next_offset FROM consumer_offsets")
            ).all()
        return f"{alive}; intake outbox rows={outbox}; offsets={offsets}; errors={self.errors}"


@contextmanager
def pipeline_running(intake_app, followup_app):
    """The intake relay and the follow-up consumer in threads, wired as run.sh wires them."""
    from followup_service.cli import consumer_group
    from followup_service.consumers import make_intake_event_handler
    from followup_service.tables import metadata as followup_metadata
    from intake_service.tables import metadata as intake_metadata
    from shared.events.topics import INTAKE_EVENTS
    from shared.processes import run_consumer, run_relay

    intake, followup = intake_app.extensions["intake"], followup_app.extensions["followup"]
    topic = intake.settings.topic(INTAKE_EVENTS)
    stop = threading.Event()
    pipeline = Pipeline(intake, followup)
    threads = [
        threading.Thread(
            name="relay",
            target=pipeline.watched(run_relay),
            args=(intake.settings, intake.engine, intake_metadata, topic, stop),
        ),
        threading.Thread(
            name="consumer",
            target=pipeline.watched(run_consumer),
            args=(
                followup.settings,
                followup.engine,
                followup_metadata,
                [topic],
                consumer_group(followup.settings),
                make_intake_event_handler(followup),
                stop,
            ),
        ),
    ]
    pipeline.threads = threads
    for thread in threads:
        thread.start()
    try:
        yield pipeline
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


# --- staff accounts -----------------------------------------------------------------------

STAFF_PASSWORD = "sandi-uji-yang-panjang"


def make_account(followup_app, username: str, role: str, password: str = STAFF_PASSWORD, **scope):
    """An account with a chosen password, made as the operator's CLI would (admin:cli).

    Units and agencies must be in the directory (deploy/routing/units.yaml, the routing
    rules' fixed agencies, or those of routed cases)."""
    from followup_service.accounts.cli import CLI

    accounts = followup_app.extensions["accounts"]
    account, _ = accounts.create(
        CLI,
        username=username,
        display_name=scope.pop("display_name", username.title()),
        role=role,
        password=password,
        **scope,
    )
    return account


def csrf_of(client, path: str = "/masuk") -> str:
    page = client.get(path).get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    return page.split(marker, 1)[1].split('"', 1)[0]


def sign_in(client, username: str, password: str = STAFF_PASSWORD, address=None, **extra):
    """Sign in on the follow-up pages with a Flask test client (keeps its cookies)."""
    data = {"username": username, "password": password, "csrf_token": csrf_of(client), **extra}
    environ = {"REMOTE_ADDR": address} if address else {}
    return client.post("/masuk", data=data, environ_base=environ)


def session_token_of(response) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("ka_session="):
            return header.split("=", 1)[1].split(";", 1)[0]
    raise AssertionError("no session cookie set")
