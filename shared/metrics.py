"""Prometheus metrics both services share (prometheus-client), and where they are served.

Names follow Prometheus conventions: a ``kawal_`` prefix, the unit in the name
(``_seconds``, ``_events``, ``_records``), ``_total`` on counters, label values from
small fixed sets (a Flask url rule, never a raw path; a status code; a partition).
Which service and process a sample comes from is the scrape target's label (``job``,
``instance``: deploy/prometheus/prometheus.yml), not an instrumentation label.

- The APIs serve ``GET /metrics`` on their own port. Under gunicorn the workers write
  their samples to ``PROMETHEUS_MULTIPROC_DIR`` (shared/gunicorn_conf.py makes a fresh
  one per start) and the endpoint sums every worker's; without it (a single process)
  the endpoint serves this process's metrics.
- Every other process (relays, consumer, deadline worker) serves its metrics with
  ``prometheus_client.start_http_server`` on ``METRICS_HOST``:``METRICS_PORT`` when
  ``METRICS_PORT`` is set (one port per process: scripts/run.sh, docker-compose.yml).
- A process serves only the metrics of what it does (API_METRICS, RELAY_METRICS...),
  though importing a module defines all of its metrics.
- The outbox's depth and age and the consumer's lag are measured when scraped (a short
  query, and the broker's end offsets), so they are never stale.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from flask import Blueprint, Response
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, Table, func, select
from sqlalchemy.exc import SQLAlchemyError

from shared.config import Settings

log = logging.getLogger(__name__)

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NO_ROUTE = "(no route)"  # 404s and methods no rule takes: one label value for them all

HTTP_REQUEST_DURATION = Histogram(
    "kawal_http_request_duration_seconds",
    "Time from a request's arrival to its response, by url rule and status code",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RELAY_PUBLISHED = Counter(
    "kawal_relay_published_events",
    "Outbox events the relay published and Kafka acknowledged",
)
RELAY_FAILURE_REASONS = ("kafka", "database")
RELAY_FAILURES = Counter(
    "kawal_relay_failures",
    "Relay rounds that failed and are retried: Kafka refused or timed out, or the "
    "database was unreachable",
    ["reason"],
)
CONSUMER_HANDLED = Counter(
    "kawal_consumer_handled_events",
    "Events whose effects the consumer committed (duplicates already processed excluded)",
)
CONSUMER_DEAD_LETTERS = Counter(
    "kawal_consumer_dead_letters",
    "Records the consumer could not decode and copied to the dead-letter topic",
)
for _reason in RELAY_FAILURE_REASONS:  # every series exists from the start, at 0
    RELAY_FAILURES.labels(reason=_reason)


def method_label(method: str) -> str:
    """The HTTP method, or "other" for a made-up one (a client must not add series)."""
    return method if method in HTTP_METHODS else "other"


def observe_request(method: str, route: str | None, status: int, seconds: float) -> None:
    HTTP_REQUEST_DURATION.labels(
        method=method_label(method), route=route or NO_ROUTE, status=str(status)
    ).observe(seconds)


API_METRICS = (HTTP_REQUEST_DURATION,)
RELAY_METRICS = (RELAY_PUBLISHED, RELAY_FAILURES)
CONSUMER_METRICS = (CONSUMER_HANDLED, CONSUMER_DEAD_LETTERS)


class _Only(Collector):
    """The families of another collector that have one of `names` (each process serves
    only the metrics of what it does, though every module defines its own)."""

    def __init__(self, collector: Collector, names: set[str]):
        self.collector, self.names = collector, names

    def collect(self):
        return (family for family in self.collector.collect() if family.name in self.names)


def family_names(metrics) -> set[str]:
    return {family.name for metric in metrics for family in metric.describe()}


def api_registry(metrics=API_METRICS, environ: Mapping[str, str] = os.environ):
    """`metrics` summed over every gunicorn worker when PROMETHEUS_MULTIPROC_DIR is set,
    else this process's own."""
    registry = CollectorRegistry()
    path = environ.get(MULTIPROC_DIR_VARIABLE)
    if path:
        registry.register(_Only(MultiProcessCollector(None, path=path), family_names(metrics)))
    else:
        for metric in metrics:
            registry.register(metric)
    return registry


def metrics_blueprint(metrics=API_METRICS) -> Blueprint:
    """GET /metrics in the Prometheus text format: the request histogram and `metrics`."""
    bp = Blueprint("metrics", __name__)
    served = tuple(dict.fromkeys((*API_METRICS, *metrics)))

    @bp.get("/metrics")
    def metrics_endpoint():
        body = generate_latest(api_registry(served))
        return Response(body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    return bp


def serve_process_metrics(settings: Settings, *collectors: Collector) -> int | None:
    """Serve `collectors` (this process's metrics and measuring collectors) with the
    process's CPU, memory and Python runtime on METRICS_PORT (bound to METRICS_HOST);
    returns the port, or None when METRICS_PORT is unset (0)."""
    if not settings.metrics_port:
        return None
    disable_created_metrics()  # no *_created series: Prometheus sees resets by itself
    registry = CollectorRegistry()
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR, *collectors):
        registry.register(collector)
    start_http_server(settings.metrics_port, addr=settings.metrics_host, registry=registry)
    log.info("metrics at http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    return settings.metrics_port


class OutboxCollector(Collector):
    """How many events wait in the outbox and how long the oldest has waited, asked of
    the database at each scrape (the database's clock, one short query)."""

    def __init__(self, engine: Engine, outbox: Table):
        self.engine, self.outbox = engine, outbox

    def collect(self):
        o = self.outbox
        age = func.extract("epoch", func.now() - func.min(o.c.created_at))
        try:
            with self.engine.connect() as conn:
                depth, oldest = conn.execute(select(func.count(), age)).one()
        except SQLAlchemyError as exc:
            log.warning("metrics: outbox unreadable (%s)", type(exc).__name__)
            return
        yield GaugeMetricFamily(
            "kawal_outbox_events",
            "Events in the outbox not yet acknowledged by Kafka",
            value=depth,
        )
        yield GaugeMetricFamily(
            "kawal_outbox_oldest_event_age_seconds",
            "How long the oldest event in the outbox has waited (0 when it is empty)",
            value=max(float(oldest or 0), 0.0),
        )


def consumer_lag(end_offsets: Mapping, beginning_offsets: Mapping, stored_offsets: Mapping) -> dict:
    """Records each partition still has to deliver: the broker's end offset minus the
    offset stored in the database (a partition with none stored starts at its beginning,
    as the consumer does)."""
    lag = {}
    for partition, end in end_offsets.items():
        start = stored_offsets.get(partition, beginning_offsets.get(partition, 0))
        lag[partition] = max(end - start, 0)
    return lag


class ConsumerLagCollector(Collector):
    """Lag per topic and partition at scrape time: the broker's end offsets
    (kafka_io.PartitionBounds) minus the offsets in the consumer's database."""

    def __init__(self, engine: Engine, offsets: Table, group_id: str, bounds):
        self.engine, self.offsets, self.group_id, self.bounds = engine, offsets, group_id, bounds

    def _stored_offsets(self) -> dict:
        t = self.offsets
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.topic, t.c.partition, t.c.next_offset).where(
                    t.c.group_id == self.group_id
                )
            ).all()
        return {(r.topic, r.partition): r.next_offset for r in rows}

    def collect(self):
        try:
            ends, beginnings = self.bounds.read()
            stored = self._stored_offsets()
        except Exception as exc:  # noqa: BLE001 - a scrape without lag, never a failing one
            log.warning("metrics: consumer lag unknown (%s: %s)", type(exc).__name__, exc)
            return
        family = GaugeMetricFamily(
            "kawal_consumer_lag_records",
            "Records the broker holds beyond the offset stored in the consumer's database",
            labels=["topic", "partition"],
        )
        for (topic, partition), lag in sorted(consumer_lag(ends, beginnings, stored).items()):
            family.add_metric([topic, str(partition)], lag)
        yield family
