"""Figure 2 (and the consumer half of 7): intake events -> cases, offsets committed in the DB.

The subject is the real follow-up consumer process (`python -m followup_service.cli
consumer`, one or more in one group); progress is the sum of the offsets it has
committed in its own database. The baseline is raw kafka-python consumers (same
isolation level and poll size) reading the same records, spread over the same number
of processes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from sqlalchemy import text

from bench.core import Bench, Row
from bench.synthetic import envelopes
from shared.db import make_engine
from shared.events.topics import INTAKE_EVENTS
from shared.eventstore.kafka_io import PRODUCER_SETTINGS, ensure_topics

MAX_POLL_RECORDS = 500  # ConsumerRunner's default


def _raw_reader(bootstrap, topic, ranges, ready, go, results):
    """Child process: read [start, end) of each assigned partition as fast as possible."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_poll_records=MAX_POLL_RECORDS,
    )
    parts = {TopicPartition(topic, p): (start, end) for p, start, end in ranges}
    consumer.assign(list(parts))
    for tp, (start, _) in parts.items():
        consumer.seek(tp, start)
    remaining = sum(end - start for start, end in parts.values())
    ready.put(True)
    go.wait()
    count = 0
    while count < remaining:
        for records in consumer.poll(timeout_ms=500).values():
            count += len(records)
    results.put((count, time.perf_counter()))
    consumer.close(autocommit=False)


def raw_read_rate(bootstrap, topic, ranges: list[tuple[int, int, int]], processes: int) -> float:
    """Records/s for raw consumers in `processes` processes reading the given ranges."""
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    shares = [ranges[i::processes] for i in range(processes)]
    shares = [s for s in shares if s]
    procs = [
        ctx.Process(target=_raw_reader, args=(bootstrap, topic, share, ready, go, results))
        for share in shares
    ]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            ready.get(timeout=60)
        t0 = time.perf_counter()
        go.set()
        done = [results.get(timeout=120) for _ in procs]
    finally:  # readers that never finished must not keep the bench from exiting
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.terminate()
    total = sum(c for c, _ in done)
    return total / (max(t for _, t in done) - t0)


class ConsumerGroupUnderTest:
    """N follow-up consumer processes in one group on a fresh topic and database."""

    def __init__(self, bench: Bench, partitions: int, processes: int, label: str):
        self.bench = bench
        self.prefix = bench.prefix(label)
        self.group = f"{self.prefix}.followup.intake-events"
        self.settings = bench.settings(
            "followup", bench.create_database("followup"), self.prefix, consumer_group=self.group
        )
        self.topic = self.settings.topic(INTAKE_EVENTS)
        self.partitions = partitions
        self.processes = processes
        ensure_topics(bench.bootstrap, [self.topic], partitions=partitions)
        self.engine = make_engine(self.settings.database_url)
        self.producer = KafkaProducer(bootstrap_servers=bench.bootstrap, **PRODUCER_SETTINGS)
        self.offsets_reader = KafkaConsumer(bootstrap_servers=bench.bootstrap)
        self.tps = [TopicPartition(self.topic, p) for p in range(partitions)]
        self.sent = 0
        self.procs = []

    def start(self) -> None:
        env = self.bench.service_env(self.settings)
        for i in range(self.processes):
            argv = self.bench.python_argv(
                ["-m", "followup_service.cli", "consumer"],
                profile_as="consumer" if i == 0 else None,
            )
            self.procs.append(self.bench.spawn(f"{self.prefix}-consumer-{i}", argv, env))
        self.produce(5 * self.partitions)
        self.wait_members()

    def end_offsets(self) -> dict[int, int]:
        return {tp.partition: o for tp, o in self.offsets_reader.end_offsets(self.tps).items()}

    def committed(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id=:g"
                ),
                {"g": self.group},
            ).scalar_one()

    def produce(self, n: int) -> float:
        """Send n AspirationRecorded events; return the perf_counter time sending began."""
        events = list(envelopes("aspiration", self.sent, n))
        self.sent += n
        messages = [(e.stream_id.encode(), e.to_wire()) for e in events]
        t0 = time.perf_counter()
        for key, value in messages:
            self.producer.send(self.topic, key=key, value=value)
        self.producer.flush(timeout=60)
        return t0

    def wait_caught_up(self, timeout: float = 300.0) -> float:
        target = sum(self.end_offsets().values())
        deadline = time.monotonic() + timeout
        while self.committed() < target:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"consumer exited with {p.returncode} (see logs)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"consumer stuck at {self.committed()}/{target}")
            time.sleep(0.01)
        return time.perf_counter()

    def wait_members(self, timeout: float = 60.0) -> None:
        """Until every process has joined the group (so no rebalance lands mid-measurement)."""
        admin = KafkaAdminClient(bootstrap_servers=self.bench.bootstrap)
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.wait_caught_up()
                info = {}
                with contextlib.suppress(Exception):
                    info = admin.describe_groups([self.group]).get(self.group, {})
                members = info.get("members") or []
                stable = str(info.get("group_state", info.get("state", "Stable"))) == "Stable"
                if len(members) >= self.processes and stable:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"group {self.group}: {len(members)} members, {info}")
                time.sleep(0.2)
                self.produce(self.partitions * 4)
        finally:
            admin.close()

    def measure(self, n: int) -> dict[str, float]:
        """One repetition: consumer rate for n fresh records, then raw consumers on the same."""
        before = self.end_offsets()
        t0 = self.produce(n)
        t1 = self.wait_caught_up()
        after = self.end_offsets()
        ranges = [(p, before[p], after[p]) for p in sorted(after) if after[p] > before[p]]
        raw = raw_read_rate(self.bench.bootstrap, self.topic, ranges, self.processes)
        return {"consumer": n / (t1 - t0), "raw": raw}

    def close(self) -> None:
        for p in self.procs:
            self.bench.stop(p)
        self.producer.close(timeout=5)
        self.offsets_reader.close()
        self.engine.dispose()


def measure_group(bench: Bench, partitions: int, processes: int, n: int, label: str) -> dict:
    group = ConsumerGroupUnderTest(bench, partitions, processes, label)
    try:
        group.start()
        return bench.repeat(lambda: group.measure(n))
    finally:
        group.close()


def run(bench: Bench) -> None:
    n = bench.preset.consumer_events
    r = measure_group(bench, 3, 1, n, "cons")
    bench.consumer_results = {(3, 1, n): r}
    bench.add(
        Row(
            "2",
            "consumer throughput (followup consumer -> cases, offsets in DB)",
            "events/s",
            r["consumer"],
            "raw kafka-python consumer, same records",
            r["raw"],
            params={"events": n, "partitions": 3, "processes": 1},
        )
    )
