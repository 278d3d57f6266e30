"""The follow-up service's own metrics (shared/metrics.py has the common ones and the
conventions): public tracking cache hits and misses, tracking-code misses and the lookups
refused for them, deadline breaches and escalations."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter

from followup_service.domain.events import CaseEscalated, CaseEvent, DeadlineMissed
from shared.events.case import BREACHES

TRACKING_CACHE_HITS = Counter(
    "kawal_tracking_cache_hits",
    "Public tracking lookups answered from the Redis cache",
)
TRACKING_CACHE_MISSES = Counter(
    "kawal_tracking_cache_misses",
    "Public tracking lookups the cache did not hold (read from the database, or unknown)",
)
TRACKING_MISSES = Counter(
    "kawal_tracking_misses",
    "Public tracking lookups of a code that is malformed or unknown, by surface",
    ["surface"],
)
TRACKING_MISS_LIMITED = Counter(
    "kawal_tracking_miss_limited",
    "Public tracking lookups refused (429) because the address missed too often, by surface",
    ["surface"],
)
TRACKING_SURFACES = ("api", "page")
DEADLINE_BREACHES = Counter(
    "kawal_deadline_breaches",
    "Deadlines the deadline worker found passed (each breach once), by deadline",
    ["deadline"],
)
DEADLINE_ESCALATIONS = Counter(
    "kawal_deadline_escalations",
    "Cases the deadline worker escalated to the next rung for a breach, by deadline",
    ["deadline"],
)
API_METRICS = (  # beside shared.metrics' own
    TRACKING_CACHE_HITS,
    TRACKING_CACHE_MISSES,
    TRACKING_MISSES,
    TRACKING_MISS_LIMITED,
)
WORKER_METRICS = (DEADLINE_BREACHES, DEADLINE_ESCALATIONS)
for _surface in TRACKING_SURFACES:
    TRACKING_MISSES.labels(surface=_surface)
    TRACKING_MISS_LIMITED.labels(surface=_surface)
for _deadline in BREACHES:  # every series exists from the start, at 0
    DEADLINE_BREACHES.labels(deadline=_deadline)
    DEADLINE_ESCALATIONS.labels(deadline=_deadline)


def count_deadline_events(events: Iterable[CaseEvent]) -> None:
    """Count the breaches among committed events: an escalation for a missed deadline is
    one, and so is the miss recorded at the top of the ladder (nowhere left to go)."""
    for event in events:
        if isinstance(event, CaseEscalated) and event.breach in BREACHES:
            DEADLINE_BREACHES.labels(deadline=event.breach).inc()
            DEADLINE_ESCALATIONS.labels(deadline=event.breach).inc()
        elif isinstance(event, DeadlineMissed) and event.breach in BREACHES:
            DEADLINE_BREACHES.labels(deadline=event.breach).inc()
