"""Kafka as a cluster (deploy/kafka/cluster.sh: three KRaft nodes on loopback, topics with
replication factor 3 and min.insync.replicas 2): a broker SIGKILLed during steady intake
load and restarted, and one of two follow-up consumer processes SIGKILLed mid-stream.
Every aspiration becomes exactly one case: nothing lost, nothing doubled. The figures are
printed (run with -s) for the closing note."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
from kafka.admin import KafkaAdminClient
from sqlalchemy import func, select

from followup_service.app import create_app as create_followup
from followup_service.cli import consumer_group
from followup_service.tables import cases, metadata
from intake_service.app import create_app as create_intake
from shared.events.topics import INTAKE_EVENTS
from shared.eventstore.kafka_io import ensure_topics, make_producer
from tests.integration.followup.conftest import aspiration_recorded
from tests.support import REPO_ROOT, pipeline_running, wait_for

pytestmark = pytest.mark.integration
SCRIPT = os.path.join(REPO_ROOT, "deploy", "kafka", "cluster.sh")


def _free_port_pairs(count: int) -> list[int]:
    """Ports p with p + 1 free too (each node's controller listens on p + 1)."""
    found: list[int] = []
    while len(found) < count:
        with socket.socket() as one, socket.socket() as two:
            one.bind(("127.0.0.1", 0))
            port = one.getsockname()[1]
            try:
                two.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        if all(abs(port - other) > 1 for other in found):
            found.append(port)
    return found


class Cluster:
    def __init__(self, directory: str):
        ports = _free_port_pairs(3)
        self.env = {
            **os.environ,
            "KAFKA_CLUSTER_PORTS": " ".join(map(str, ports)),
            "KAFKA_CLUSTER_DIR": directory,
        }
        self.bootstrap = ",".join(f"127.0.0.1:{p}" for p in ports)

    def run(self, *args: str) -> None:
        subprocess.run([SCRIPT, *args], env=self.env, check=True, capture_output=True, timeout=180)

    def leader_of(self, topic: str, partition: int = 0) -> int:
        """The partition's leader, once the cluster knows one: a topic created a moment
        ago may be described with no partitions yet (its metadata still on its way)."""

        def leader() -> int | None:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
            try:
                [described] = admin.describe_topics([topic])
            finally:
                admin.close()
            leaders = [
                p["leader_id"]
                for p in described["partitions"]
                if p["partition_index"] == partition and p["leader_id"] >= 0
            ]
            return leaders[0] if leaders else None

        return wait_for(
            lambda: (found := leader()) is not None and (found,),
            timeout=30,
            interval=0.5,
            what=f"a leader of {topic} partition {partition}",
        )[0]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(str(tmp_path_factory.mktemp("kafka-cluster")))
    cluster.run("start")
    try:
        yield cluster
    finally:
        cluster.run("stop")


def _case_count(engine) -> tuple[int, int]:
    """(cases, distinct aspirations among them)."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.count(), func.count(func.distinct(cases.c.aspiration_id)))
        ).one()


def _events_per_case(engine) -> dict[str, int]:
    events = metadata.tables["events"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.stream_id, func.count())
            .where(events.c.stream_id.like("case-%"))
            .group_by(events.c.stream_id)
        ).all()
    return dict(rows)


def test_a_broker_killed_during_steady_intake_load_loses_and_doubles_nothing(
    cluster, make_settings
):
    overrides = {"kafka_bootstrap_servers": cluster.bootstrap}
    intake = create_intake(make_settings("intake", **overrides))
    followup = create_followup(make_settings("followup", **overrides))
    topic = intake.extensions["intake"].settings.topic(INTAKE_EVENTS)
    ensure_topics(cluster.bootstrap, [topic])
    victim = cluster.leader_of(topic)
    officer = followup.extensions["tokens"].issue("beban", "supervisor", area="national")
    engine = followup.extensions["followup"].engine
    sent: list[str] = []
    total, rate = 240, 40.0  # aspirations, per second
    with pipeline_running(intake, followup):
        client = intake.test_client()
        started = time.monotonic()
        for i in range(total):
            if i == total // 4:
                cluster.run("kill", str(victim))
                killed_at = time.monotonic()
            if i == 3 * total // 4:  # in the background: the load stays steady
                restart = threading.Thread(target=cluster.run, args=("restart", str(victim)))
                restart.start()
            aspiration_id = str(uuid.uuid4())
            answer = client.post(
                "/api/v1/aspirations",
                json={
                    "id": aspiration_id,
                    "category": "street_lighting",
                    "summary": f"PJU mati nomor {i}",
                    "location": {"kelurahan": "Cikande", "kecamatan": "Cikande"},
                    "unit": "polsek-cikande",
                },
                headers={"Authorization": f"Bearer {officer}"},
            )
            assert answer.status_code == 201, answer.json  # intake never waits on Kafka
            sent.append(aspiration_id)
            time.sleep(max(0.0, started + (i + 1) / rate - time.monotonic()))
        last_sent = time.monotonic()
        wait_for(lambda: _case_count(engine)[0] >= total, timeout=180, what="every case")
        caught_up = time.monotonic() - last_sent
        restart.join(timeout=180)
    made, distinct = _case_count(engine)
    per_case = _events_per_case(engine)
    lost = len(set(sent) - {s.removeprefix("case-") for s in per_case})
    doubled = made - distinct + sum(1 for n in per_case.values() if n != 2)
    print(
        f"\nbroker kill: node {victim} (partition 0's leader) SIGKILLed "
        f"{killed_at - started:.1f}s into the load and restarted halfway; sent {total}, "
        f"cases {made}, lost {lost}, duplicated {doubled}, caught up {caught_up:.1f}s "
        "after the last POST"
    )
    assert (made, distinct, lost, doubled) == (total, total, 0, 0)


def test_a_consumer_process_killed_mid_stream_hands_its_partitions_to_the_other(
    cluster, make_settings
):
    settings = make_settings("followup", kafka_bootstrap_servers=cluster.bootstrap)
    followup = create_followup(settings)
    engine = followup.extensions["followup"].engine
    topic = settings.topic(INTAKE_EVENTS)
    ensure_topics(cluster.bootstrap, [topic], partitions=6)
    env = {
        **os.environ,
        "FOLLOWUP_DATABASE_URL": settings.database_url,
        "FOLLOWUP_TOPIC_PREFIX": settings.topic_prefix,
        "FOLLOWUP_REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrap,
        "REDIS_URL": settings.redis_url,
        "KAWAL_ENV": "development",
    }
    consumers = [
        subprocess.Popen(
            [sys.executable, "-m", "followup_service.cli", "consumer"],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(2)
    ]
    total = 600
    producer = make_producer(cluster.bootstrap)
    stop_sending = threading.Event()

    def send() -> None:
        for i in range(total):
            envelope = aspiration_recorded("road_damage", summary=f"Jalan berlubang nomor {i}")
            producer.send(topic, key=envelope.stream_id.encode(), value=envelope.to_wire())
            if i % 20 == 19:
                producer.flush(timeout=30)
                stop_sending.wait(0.05)
        producer.flush(timeout=30)

    sender = threading.Thread(target=send)
    try:
        started = time.monotonic()
        sender.start()
        wait_for(lambda: _case_count(engine)[0] >= total // 4, timeout=120, what="a quarter")
        os.killpg(consumers[0].pid, signal.SIGKILL)
        killed_at, cases_at_kill = time.monotonic(), _case_count(engine)[0]
        sender.join(timeout=120)
        wait_for(lambda: _case_count(engine)[0] >= total, timeout=180, what="every case")
        finished = time.monotonic()
        assert consumers[1].poll() is None, "the other consumer kept running"
    finally:
        for process in consumers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
        producer.close(timeout=5)
    made, distinct = _case_count(engine)
    per_case = _events_per_case(engine)
    processed = metadata.tables["processed_events"]
    with engine.connect() as conn:
        claimed = conn.execute(
            select(func.count()).where(processed.c.group_id == consumer_group(settings))
        ).scalar()
    doubled = made - distinct + sum(1 for n in per_case.values() if n != 2)
    print(
        f"\nconsumer kill: 2 processes, 6 partitions; one SIGKILLed at {cases_at_kill} of "
        f"{total} cases ({killed_at - started:.1f}s); the other finished "
        f"{finished - killed_at:.1f}s later; cases {made}, lost {total - distinct}, "
        f"duplicated {doubled}, processed ids {claimed}"
    )
    assert (made, distinct, doubled, claimed) == (total, total, 0, total)
