"""Figure 4: end-to-end latency, intake POST -> case readable at /api/v1/track, at a steady
rate, with the real processes (gunicorn APIs, intake relay, follow-up consumer) running.

Open loop: each POST has a scheduled send time and latency counts from it, so a slow
server cannot hide its queueing. Every n-th aspiration is polled at the tracking API
every POLL seconds (the resolution). Baseline: the broker's own floor, a raw producer
(PRODUCER_SETTINGS) to a raw consumer at the same rate, send -> receive.
"""

from __future__ import annotations

import json
import struct
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.core import Bench, Row, http
from bench.fig3_http import create_meeting, officer_token
from bench.loadgen import ITEM
from shared.eventstore.kafka_io import PRODUCER_SETTINGS, ensure_topics

POLL = 0.02
# The high-rate figure sends meeting batches, as the officer page does (one batch per
# meeting): 500 aspirations/s as 50 requests/s of 10. Single POSTs top out below 500/s on a
# 2-core machine (figure 3a), where an open loop would only measure the queue.
E2E_HIGH_BATCH = 10


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


class SteadyLoad:
    def __init__(self, intake_url: str, followup_url: str, token: str, rate: int, sample: int):
        self.intake_url, self.followup_url = intake_url, followup_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.rate, self.sample = rate, sample
        self.batch, self.meeting = 1, None  # batch > 1: POST batches to the meeting
        self.posters = ThreadPoolExecutor(32)
        self.pollers = ThreadPoolExecutor(64)
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def _post(self, n: int, scheduled: float, track: bool) -> None:
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex}
        if self.batch == 1:
            body = json.loads(ITEM % (str(uuid.uuid4()), n))
            url = f"{self.intake_url}/api/v1/aspirations"
        else:
            items = [json.loads(ITEM % (str(uuid.uuid4()), n)) for _ in range(self.batch)]
            body = {"aspirations": items}
            url = f"{self.intake_url}/api/v1/meetings/{self.meeting}/aspirations"
        status, answer = http("POST", url, body, headers)
        if status not in (200, 201):
            with self.lock:
                self.failures.append(f"POST {status} {answer}")
            return
        if track:  # a batch is tracked by its last item: readable when the whole batch is
            last = answer if self.batch == 1 else answer["items"][-1]
            self.pollers.submit(self._poll, last["tracking_code"], scheduled)

    def _poll(self, code: str, scheduled: float, timeout: float = 60.0) -> None:
        url = f"{self.followup_url}/api/v1/track/{code}"
        while time.perf_counter() - scheduled < timeout:
            if http("GET", url)[0] == 200:
                with self.lock:
                    self.latencies.append((time.perf_counter() - scheduled) * 1000)
                return
            time.sleep(POLL)
        with self.lock:
            self.failures.append(f"{code} not readable after {timeout}s")

    def run(self, seconds: float) -> dict[str, float]:
        """Open loop at `rate` aspirations/s (rate / batch requests/s) for `seconds`."""
        self.latencies, self.failures = [], []
        requests_per_s = self.rate / self.batch
        total = int(seconds * requests_per_s)
        start = time.perf_counter() + 0.05
        futures = []
        for n in range(total):
            scheduled = start + n / requests_per_s
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            track = n % self.sample == 0
            futures.append(self.posters.submit(self._post, n, scheduled, track))
        for f in futures:
            f.result()
        posted = time.perf_counter()
        expected = len(range(0, total, self.sample))
        deadline = time.monotonic() + 90
        while len(self.latencies) + len(self.failures) < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(self.latencies)}/{expected} cases became readable")
            time.sleep(0.05)
        if self.failures:
            raise RuntimeError(f"{len(self.failures)} failures, e.g. {self.failures[:3]}")
        return {
            "p50": _percentile(self.latencies, 50),
            "p99": _percentile(self.latencies, 99),
            "achieved_rate": total * self.batch / (posted - start),
        }

    def close(self) -> None:
        self.posters.shutdown()
        self.pollers.shutdown()


def kafka_floor(bench: Bench, rate: int, seconds: float) -> dict[str, float]:
    """Raw produce -> consume latency (ms) at `rate` messages/s on a fresh 3-partition topic."""
    topic = f"{bench.prefix('floor')}.latency"
    ensure_topics(bench.bootstrap, [topic], partitions=3)
    consumer = KafkaConsumer(
        bootstrap_servers=bench.bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    tps = [TopicPartition(topic, p) for p in range(3)]
    consumer.assign(tps)
    consumer.seek_to_end(*tps)
    for tp in tps:
        consumer.position(tp)
    producer = KafkaProducer(bootstrap_servers=bench.bootstrap, **PRODUCER_SETTINGS)
    latencies: list[float] = []
    total = int(seconds * rate)

    def read():
        while len(latencies) < total:
            for records in consumer.poll(timeout_ms=100).values():
                now = time.perf_counter()
                latencies.extend((now - struct.unpack("d", r.value)[0]) * 1000 for r in records)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    start = time.perf_counter()
    for n in range(total):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        producer.send(topic, key=str(n).encode(), value=struct.pack("d", time.perf_counter()))
    producer.flush(timeout=30)
    reader.join(60)
    producer.close(timeout=5)
    consumer.close(autocommit=False)
    return {"p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99)}


def run(bench: Bench) -> None:
    p = bench.preset
    prefix = bench.prefix("e2e")
    intake = bench.settings("intake", bench.create_database("intake"), prefix)
    followup = bench.settings("followup", bench.create_database("followup"), prefix)
    token = officer_token(intake)
    relay = bench.spawn(
        f"{prefix}-intake-relay",
        bench.python_argv(["-m", "intake_service.cli", "relay"], profile_as="relay"),
        bench.service_env(intake),
    )
    consumer = bench.spawn(
        f"{prefix}-followup-consumer",
        bench.python_argv(["-m", "followup_service.cli", "consumer"]),
        bench.service_env(followup),
    )
    try:
        with (
            bench.gunicorn(intake, f"{prefix}-intake-api") as intake_url,
            bench.gunicorn(followup, f"{prefix}-followup-api") as followup_url,
        ):
            load = SteadyLoad(intake_url, followup_url, token, p.e2e_rate, p.e2e_sample_every)
            try:
                load.rate = 10
                load.run(0.5)  # processes up, consumer joined, caches warm
                load.rate = p.e2e_low_rate
                low = bench.repeat(lambda: load.run(p.e2e_seconds))
                load.rate = p.e2e_rate
                r = bench.repeat(lambda: load.run(p.e2e_seconds))
                load.rate, load.batch = p.e2e_high_rate, E2E_HIGH_BATCH
                load.meeting = create_meeting(intake_url, token)
                high = bench.repeat(lambda: load.run(p.e2e_seconds))
            finally:
                load.close()
    finally:
        bench.stop(relay)
        bench.stop(consumer)
    floor = bench.repeat(lambda: kafka_floor(bench, p.e2e_rate, min(p.e2e_seconds, 10)))
    name = f"raw producer -> raw consumer latency at {p.e2e_rate}/s (broker floor)"
    for fig, rate, result, batch in (
        ("4", p.e2e_rate, r, 1),
        ("4b", p.e2e_low_rate, low, 1),
        ("4c", p.e2e_high_rate, high, E2E_HIGH_BATCH),
    ):
        add_rows(bench, fig, rate, result, floor, name, batch)


def add_rows(
    bench: Bench, fig: str, rate: int, r: dict, floor: dict, name: str, batch: int
) -> None:
    p = bench.preset
    params = {
        "rate_per_s": rate,
        "seconds_per_run": p.e2e_seconds,
        "tracked": f"1 in {p.e2e_sample_every} requests",
        "poll_interval_ms": POLL * 1000,
        "achieved_rate": round(min(r["achieved_rate"]), 1),
    }
    sent = "POST" if batch == 1 else f"batches of {batch}"
    if batch > 1:
        params["aspirations_per_request"] = batch
    for q in ("p50", "p99"):
        measure = f"end-to-end at {rate}/s ({sent}): POST -> readable at /track {q}"
        bench.add(
            Row(fig, measure, "ms", r[q], name, floor[q], higher_is_better=False, params=params)
        )
