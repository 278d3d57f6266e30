"""Steady-state ceilings (issue 16), cross-checked with kafka-python's own benchmark tools.

Windows:
- raw consumer, steady: one process reads `ceiling_events` records of the project's
  envelope size from a fresh topic; the clock starts when the first poll returns and
  stops at the last record, and the first poll's records are not counted, so
  connection, assignment and the first fetch are outside the window.
- raw consumer + bulk insert: the same reader, and per poll one multi-row INSERT of the
  poll's records (unnest of arrays: one statement whatever the poll size) into a
  PostgreSQL table and a commit: the smallest durable consumer. Same window.
- raw producer, steady: `ceiling_events` sends with PRODUCER_SETTINGS and one flush,
  timed from the first send to the flush (the producer is connected and has the topic's
  metadata before the clock starts).
- kafka-python's tools (`kafka.benchmarks.producer_performance` / `consumer_performance`)
  run as shipped, on the same broker, the same record count and the envelope's size;
  their own windows include their start-up, so at these counts they are, if anything,
  lower than a steady state. A baseline more than 25% below the tool is flagged.

The follow-up consumer (figure 2's subject, measured there) is set against the steady
ceilings in rows 2s and 2b, with the targets of issues 12 and 16 beside the ratios.
"""

from __future__ import annotations

import multiprocessing
import re
import subprocess
import sys
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench.core import Bench, Row
from bench.synthetic import envelopes
from shared.eventstore.kafka_io import PRODUCER_SETTINGS, ensure_topics

MAX_POLL_RECORDS = 500  # as ConsumerRunner
SINK = "CREATE TABLE IF NOT EXISTS bench_sink (tp text, part int, off bigint, value bytea)"
INSERT = (
    "INSERT INTO bench_sink SELECT * FROM unnest(%s::text[], %s::int[], %s::bigint[], %s::bytea[])"
)
FLAG_BELOW = 0.75  # a baseline more than 25% under the tool's figure is flagged


def _steady_reader(bootstrap, topic, partitions, total, dsn, results):
    """Child process: read `total` records; time first record -> last (optionally inserting)."""
    conn = None
    if dsn:
        import psycopg

        conn = psycopg.connect(dsn)
        conn.execute(SINK)
        conn.commit()
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_poll_records=MAX_POLL_RECORDS,
    )
    consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
    consumer.seek_to_beginning()
    count, first, counted = 0, None, 0
    while count < total:
        polled = consumer.poll(timeout_ms=500)
        if polled and first is None:  # the clock starts once the first fetch is in hand
            first, counted = time.perf_counter(), -sum(len(r) for r in polled.values())
        for tp, records in polled.items():
            if conn is not None:
                conn.execute(
                    INSERT,
                    (
                        [tp.topic] * len(records),
                        [tp.partition] * len(records),
                        [r.offset for r in records],
                        [r.value for r in records],
                    ),
                )
                conn.commit()
            count += len(records)
    results.put((count + counted, time.perf_counter() - first))
    consumer.close(autocommit=False)
    if conn is not None:
        conn.close()


def steady_read_rate(bootstrap, topic, partitions, total, dsn=None) -> float:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(
        target=_steady_reader, args=(bootstrap, topic, partitions, total, dsn, results)
    )
    proc.start()
    try:
        count, seconds = results.get(timeout=600)
    finally:  # a reader that never got its records must not keep the bench from exiting
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join(10)
    return count / seconds


def _fill(bench: Bench, topic: str, n: int) -> tuple[float, int]:
    """Produce n envelopes (keyed like the relay's) to topic; return (steady rate, size)."""
    records = [
        (e.stream_id.encode(), e.to_wire()) for e in envelopes("aspiration", 0, min(n, 5_000))
    ]
    size = round(sum(len(v) for _, v in records) / len(records))
    producer = KafkaProducer(bootstrap_servers=bench.bootstrap, **PRODUCER_SETTINGS)
    producer.send(topic, key=records[0][0], value=records[0][1]).get(timeout=30)  # warm
    t0 = time.perf_counter()
    for i in range(n - 1):
        key, value = records[i % len(records)]
        producer.send(topic, key=key, value=value)
    producer.flush()
    rate = (n - 1) / (time.perf_counter() - t0)
    producer.close(timeout=5)
    return rate, size


def _tool(module: str, args: list[str]) -> float:
    """records/s from one of kafka-python's benchmark tools (its own window)."""
    out = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=600
    ).stdout
    seconds = float(re.search(r"Execution time: ([0-9.]+)", out).group(1))
    count = re.search(r"Consumed (\d+) records", out)
    sent = re.search(r"(\d+) suceeded", out)  # sic, the tool's spelling
    return int((count or sent).group(1)) / seconds


def run(bench: Bench) -> None:
    n = bench.preset.ceiling_events
    partitions = 3

    def one_round() -> dict[str, float]:
        topic = f"{bench.prefix('ceil')}-{uuid.uuid4().hex[:6]}"
        ensure_topics(bench.bootstrap, [topic], partitions=partitions)
        producer_rate, size = _fill(bench, topic, n)
        raw = steady_read_rate(bench.bootstrap, topic, partitions, n)
        dsn = bench.create_database("followup").replace("postgresql+psycopg://", "postgresql://")
        bulk = steady_read_rate(bench.bootstrap, topic, partitions, n, dsn)
        tool_topic = f"{topic}-tool"
        ensure_topics(bench.bootstrap, [tool_topic], partitions=partitions)
        tool_producer = _tool(
            "kafka.benchmarks.producer_performance",
            ["-b", bench.bootstrap, "-t", tool_topic, "--num-records", str(n),
             "--record-size", str(size), "--stats-interval", "60",
             "-c", "acks=all", "enable_idempotence=True", "linger_ms=5"],
        )  # fmt: skip
        tool_consumer = _tool(
            "kafka.benchmarks.consumer_performance",
            ["-b", bench.bootstrap, "-t", tool_topic, "--num-records", str(n),
             "--stats-interval", "60"],
        )  # fmt: skip
        return {
            "raw": raw,
            "bulk": bulk,
            "producer": producer_rate,
            "tool_producer": tool_producer,
            "tool_consumer": tool_consumer,
            "size": size,
        }

    r = bench.repeat(one_round, warmup=0)
    params = {"records": n, "record_bytes": r["size"][0], "partitions": partitions}
    bench.add(_flagged(Row("C1", "raw consumer, steady state", "records/s", r["raw"],
                           "kafka-python consumer_performance, same broker and size",
                           r["tool_consumer"], params=params)))  # fmt: skip
    bench.add(_flagged(Row("C2", "raw producer, steady state", "records/s", r["producer"],
                           "kafka-python producer_performance (acks=all, idempotent, linger 5 ms)",
                           r["tool_producer"], params=params)))  # fmt: skip
    bench.add(Row("C3", "raw consumer + one multi-row INSERT per poll", "records/s", r["bulk"],
                  "raw consumer, steady state", r["raw"], params=params))  # fmt: skip
    consumer = _consumer_rates(bench)
    if consumer:
        bench.add(Row("2s", "consumer throughput vs the steady raw consumer", "events/s",
                      consumer, "raw consumer, steady state", r["raw"], params=params,
                      note="target (issue 16): >= 0.1"))  # fmt: skip
        bench.add(Row("2b", "consumer throughput vs raw consumer + bulk insert", "events/s",
                      consumer, "raw consumer + one multi-row INSERT per poll", r["bulk"],
                      params=params, note="target (issues 12, 16): >= 0.6"))  # fmt: skip


def _consumer_rates(bench: Bench) -> list[float]:
    """Figure 2's measured consumer rates, if figure 2 ran in this run."""
    results = getattr(bench, "consumer_results", {})
    return next((r["consumer"] for r in results.values()), [])


def _flagged(row: Row) -> Row:
    d = row.as_dict()
    if d["ratio"] is not None and d["ratio"] < FLAG_BELOW:
        row.note = f"FLAG: baseline {1 - d['ratio']:.0%} below kafka-python's own tool"
    return row
